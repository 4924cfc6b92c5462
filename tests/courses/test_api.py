"""JSON API: /api/v1/courses, enrolment, lesson completion, /me/progress."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses import services
from courses.models import Enrolment, LessonProgress
from lms.tokens import token_create
from tests.lms.api.helpers import assert_error

from .factories import CoursePageFactory, LessonPageFactory, course_with_lessons

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(learner):
    return {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}


def post(client, url, headers):
    return client.post(url, content_type="application/json", headers=headers)


# --- catalogue ----------------------------------------------------------------


def test_course_list_with_filters_and_search(client, bearer):
    CoursePageFactory(title="Business Foundations", kind="sales", certification="none")
    CoursePageFactory(title="Payment flows and webhooks", summary="Events and retries.")
    CoursePageFactory(title="Draft", live=False)
    body = client.get("/api/v1/courses", headers=bearer).json()["data"]
    assert [c["title"] for c in body] == ["Business Foundations", "Payment flows and webhooks"]
    assert set(body[0]) >= {"slug", "kind", "level", "certification", "lesson_count", "enrolled"}
    sales = client.get("/api/v1/courses?kind=sales", headers=bearer).json()["data"]
    assert [c["slug"] for c in sales] == ["business-foundations"]
    found = client.get("/api/v1/courses?q=retries", headers=bearer).json()["data"]
    assert [c["slug"] for c in found] == ["payment-flows-and-webhooks"]


@pytest.mark.parametrize(
    "query",
    [
        "kind=cooking",
        "level=expert",
        "certification=ceo",
        "q=" + "x" * 201,
        "q=%00",
        "extra=%00",  # NUL is refused in any parameter, known or not
    ],
)
def test_course_list_bad_parameters(client, bearer, query):
    response = client.get(f"/api/v1/courses?{query}", headers=bearer)
    assert_error(response, 422, "validation_error")


def test_course_list_ignores_unknown_parameters(client, bearer):
    assert client.get("/api/v1/courses?extra=1", headers=bearer).status_code == 200


def test_course_list_needs_authentication(client):
    assert_error(client.get("/api/v1/courses"), 401, "not_authenticated")


EXPECTED_API_QUERIES = {
    "/api/v1/courses": 6,
    "/api/v1/courses/course-0-of-{size}": 7,
    "/api/v1/me/progress": 5,
}


@pytest.mark.parametrize("size", [5, 50])
def test_read_query_counts_do_not_grow(client, bearer, learner, size):
    for index, lesson_count in enumerate([size, 2, 1]):
        _, lessons = course_with_lessons(lesson_count, title=f"Course {index} of {size}")
        services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    client.get("/api/v1/me", headers=bearer)  # the token's first use is recorded once
    counts = {}
    for url in EXPECTED_API_QUERIES:
        cache.clear()  # cold site-root cache (page URLs): the worst case
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url.format(size=size), headers=bearer).status_code == 200
        counts[url] = len(queries)
    assert counts == EXPECTED_API_QUERIES


# --- course detail ----------------------------------------------------------------


def test_course_detail_with_lessons_and_progress(client, bearer, learner):
    course, lessons = course_with_lessons(3, outcomes="Explain refunds\nHandle disputes")
    LessonPageFactory(parent=course, live=False)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    body = client.get(f"/api/v1/courses/{course.slug}", headers=bearer).json()
    assert body["outcomes"] == ["Explain refunds", "Handle disputes"]
    assert [lesson["id"] for lesson in body["lessons"]] == [lesson.pk for lesson in lessons]
    assert [lesson["completed"] for lesson in body["lessons"]] == [True, False, False]
    assert body["progress"]["completed_lessons"] == 1 and body["progress"]["percent"] == 33
    assert body["resume_lesson_id"] == lessons[1].pk
    assert body["enrolled"] is True and body["enrolment"]["course"] == course.slug


@pytest.mark.parametrize("slug", ["no-such-course", "draft"])
def test_course_detail_unknown_or_unpublished_is_404(client, bearer, slug):
    CoursePageFactory(title="Draft", live=False)
    assert_error(client.get(f"/api/v1/courses/{slug}", headers=bearer), 404, "course_not_found")


@pytest.mark.parametrize("slug", ["bad%20slug", "%00", "a" * 256, "semi;colon"])
def test_course_detail_malformed_slug_is_422(client, bearer, slug):
    response = client.get(f"/api/v1/courses/{slug}", headers=bearer)
    assert_error(response, 422, "validation_error")


# --- enrolment ----------------------------------------------------------------------


def test_enrolment_201_then_200_with_the_same_enrolment(client, bearer, learner):
    course, _ = course_with_lessons(1)
    first = post(client, f"/api/v1/courses/{course.slug}/enrolment", bearer)
    assert first.status_code == 201
    again = post(client, f"/api/v1/courses/{course.slug}/enrolment", bearer)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Enrolment.objects.filter(person=learner).count() == 1


def test_enrolment_in_unknown_or_unpublished_course_is_404(client, bearer):
    CoursePageFactory(title="Draft", live=False)
    for slug in ["draft", "nope"]:
        response = post(client, f"/api/v1/courses/{slug}/enrolment", bearer)
        assert_error(response, 404, "course_not_found")
    assert not Enrolment.objects.exists()


def test_enrolment_malformed_slug_and_wrong_method(client, bearer):
    assert_error(post(client, "/api/v1/courses/a%20b/enrolment", bearer), 422, "validation_error")
    course, _ = course_with_lessons(1)
    response = client.get(f"/api/v1/courses/{course.slug}/enrolment", headers=bearer)
    assert_error(response, 405, "method_not_allowed")


def test_enrolment_needs_csrf_with_a_session(learner, catalogue):
    from django.test import Client

    course, _ = course_with_lessons(1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    response = browser.post(f"/api/v1/courses/{course.slug}/enrolment")
    assert_error(response, 403, "csrf_failed")
    assert not Enrolment.objects.exists()


# --- lesson completion -------------------------------------------------------------


def test_lesson_completion_enrols_and_completes_the_course(client, bearer, learner):
    course, lessons = course_with_lessons(2)
    first = post(client, f"/api/v1/lessons/{lessons[0].pk}/completion", bearer)
    assert first.status_code == 201
    assert first.json()["enrolled_now"] is True
    assert first.json()["progress"]["completed_lessons"] == 1
    again = post(client, f"/api/v1/lessons/{lessons[0].pk}/completion", bearer)
    assert again.status_code == 200 and again.json()["enrolled_now"] is False
    last = post(client, f"/api/v1/lessons/{lessons[1].pk}/completion", bearer).json()
    assert last["course_completed_now"] is True
    assert last["enrolment"]["completed_at"] is not None
    assert LessonProgress.objects.filter(person=learner).count() == 2


def test_completing_an_unpublished_or_unknown_lesson_is_404(client, bearer):
    _, lessons = course_with_lessons(1)
    draft = LessonPageFactory(parent=lessons[0].get_parent(), live=False)
    for lesson_id in [draft.pk, 999_999, lessons[0].get_parent().pk]:  # a course is no lesson
        response = post(client, f"/api/v1/lessons/{lesson_id}/completion", bearer)
        assert_error(response, 404, "lesson_not_found")
    assert not LessonProgress.objects.exists()


@pytest.mark.parametrize("lesson_id", ["0", "-1", "abc", str(2**63), "1.5"])
def test_completion_bad_lesson_id_is_422(client, bearer, lesson_id):
    response = post(client, f"/api/v1/lessons/{lesson_id}/completion", bearer)
    assert_error(response, 422, "validation_error")


# --- me/progress ----------------------------------------------------------------------


def test_my_progress(client, bearer, learner):
    started, started_lessons = course_with_lessons(3, title="Webhooks")
    done, done_lessons = course_with_lessons(1, title="Business Foundations", kind="sales")
    services.lesson_complete(person=learner, lesson_id=done_lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=started_lessons[0].pk)
    body = client.get("/api/v1/me/progress", headers=bearer).json()
    assert body["continue_with"]["course"]["slug"] == "webhooks"
    assert body["continue_with"]["resume_lesson_id"] == started_lessons[1].pk
    assert [item["course"]["slug"] for item in body["in_progress"]] == ["webhooks"]
    assert [item["course"]["slug"] for item in body["completed"]] == ["business-foundations"]
    assert body["completed"][0]["progress"]["completed_at"] is not None


def test_my_progress_when_nothing_started(client, bearer):
    body = client.get("/api/v1/me/progress", headers=bearer).json()
    assert body == {"continue_with": None, "in_progress": [], "completed": []}
