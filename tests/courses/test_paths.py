"""Learning paths: courses -> exam -> project -> certificate per certification.

The steps after the courses come from the certificates app (tests/certificates/
test_paths.py); with no certification set up they are "coming".
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses import selectors, services
from courses.models import LessonProgress
from lms.errors import NotFound
from lms.tokens import token_create
from tests.lms.api.helpers import assert_error

from .factories import CoursePageFactory, course_with_lessons, path_with

pytestmark = pytest.mark.django_db


def test_path_lists_its_technical_courses_then_exam_and_project(learner):
    fundamentals, f_lessons = course_with_lessons(2, title="Payments fundamentals")
    flows, flow_lessons = course_with_lessons(2, title="Payment flows")
    path_with("architect", CoursePageFactory(title="Architecture", certification="architect"))
    CoursePageFactory(title="Business Foundations", kind="sales", certification="none")
    draft = CoursePageFactory(title="Draft developer course", live=False)
    path_with("developer", fundamentals, draft, flows)
    services.lesson_complete(person=learner, lesson_id=f_lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=f_lessons[1].pk)
    services.lesson_complete(person=learner, lesson_id=flow_lessons[0].pk)

    path = selectors.learning_path_for(user=learner, slug="developer")
    assert [(s.kind, s.title, s.state) for s in path.steps] == [
        ("course", "Payments fundamentals", "completed"),
        ("course", "Payment flows", "in_progress"),
        ("exam", "Certification exam", "coming"),
        ("project", "Certification project", "coming"),
        ("certification", "Certificate", "coming"),
    ]
    assert path.steps[1].percent == 50
    assert path.completed_steps == 1
    assert all(step.url == "" for step in path.steps[2:])


def test_unknown_or_unpublished_path_is_not_found(learner):
    with pytest.raises(NotFound):
        selectors.learning_path_for(user=learner, slug="none")
    path_with("draft-series").__class__.objects.filter(slug="draft-series").update(
        is_published=False
    )
    with pytest.raises(NotFound):
        selectors.learning_path_for(user=learner, slug="draft-series")


def test_the_authored_order_is_kept(learner):
    first, _ = course_with_lessons(1, title="Zeta first")
    second, _ = course_with_lessons(1, title="Alpha second")
    path_with("developer", first, second)
    path = selectors.learning_path_for(user=learner, slug="developer")
    assert [step.title for step in path.steps[:2]] == ["Zeta first", "Alpha second"]


def test_a_sales_path_ends_in_the_completion_record(learner_client, learner):
    foundations, lessons = course_with_lessons(1, title="Business Foundations", kind="sales")
    fast, fast_lessons = course_with_lessons(1, title="Fast Start: Selling", kind="sales")
    path_with("sales-basics", foundations, fast, title="Sales basics")
    path = selectors.learning_path_for(user=learner, slug="sales-basics")
    assert [step.kind for step in path.steps] == ["course", "course"]
    assert (path.certification, path.completed_at) == ("none", None)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=fast_lessons[0].pk)
    path = selectors.learning_path_for(user=learner, slug="sales-basics")
    assert path.percent == 100 and path.completed_at is not None
    html = learner_client.get("/paths/sales-basics/").content.decode()
    assert "You completed this series on" in html and "training record" in html


def test_path_page_says_which_steps_are_coming(learner_client):
    course, _ = course_with_lessons(1, title="Integration architecture", certification="architect")
    path_with("architect", course)
    html = learner_client.get("/paths/architect/").content.decode()
    assert "Integration architecture" in html and "Not started" in html
    assert html.count("Programme staff have not published this step yet.") == 3
    assert learner_client.get("/paths/ceo/").status_code == 404
    assert learner_client.get("/paths/none/").status_code == 404
    assert learner_client.get("/paths/developer/").status_code == 200


def test_path_api_and_its_bad_input(client, learner):
    course, _ = course_with_lessons(1, title="Payments fundamentals")
    path_with("developer", course)
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    body = client.get("/api/v1/paths/developer", headers=bearer).json()
    assert [step["state"] for step in body["steps"]] == [
        "not_started",
        "coming",
        "coming",
        "coming",
    ]
    assert body["slug"] == "developer" and body["certification"] == "developer"
    assert_error(client.get("/api/v1/paths/ceo", headers=bearer), 404, "path_not_found")
    assert_error(client.get("/api/v1/paths/a%20b", headers=bearer), 422, "validation_error")
    assert_error(client.get(f"/api/v1/paths/{'x' * 300}", headers=bearer), 422, "validation_error")


@pytest.mark.parametrize("lessons", [5, 50])
def test_path_query_count_does_not_grow(learner_client, learner, lessons):
    for index in range(3):
        course, rows = course_with_lessons(lessons // 5 if index else lessons, title=f"C{index}")
        path_with("developer", course)
        services.lesson_complete(person=learner, lesson_id=rows[0].pk)
    assert LessonProgress.objects.count() == 3
    cache.clear()  # cold site-root cache (page URLs): the worst case
    with CaptureQueriesContext(connection) as queries:
        assert learner_client.get("/paths/developer/").status_code == 200
    assert len(queries) == 10  # same for both sizes (the path, its courses, their steps)


def test_instructors_author_paths_in_the_admin(client, instructor):
    from courses.models import LearningPath

    course, _ = course_with_lessons(1, title="Payments fundamentals")
    client.force_login(instructor)
    listing = client.get("/admin/learning_paths/")
    assert listing.status_code == 200 and "Developer path" in listing.content.decode()
    response = client.post(
        "/admin/learning_paths/new/",
        {
            "title": "Fast Start series",
            "slug": "fast-start",
            "intro": "",
            "certification": "none",
            "sort_order": "40",
            "is_published": "on",
            "path_courses-TOTAL_FORMS": "1",
            "path_courses-INITIAL_FORMS": "0",
            "path_courses-MIN_NUM_FORMS": "1",
            "path_courses-MAX_NUM_FORMS": "1000",
            "path_courses-0-course": str(course.pk),
            "path_courses-0-ORDER": "1",
            "path_courses-0-id": "",
            "path_courses-0-DELETE": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    path = LearningPath.objects.get(slug="fast-start")
    assert [row.course_id for row in path.path_courses.all()] == [course.pk]


def test_a_path_without_courses_is_refused_in_the_admin(client, instructor):
    from courses.models import LearningPath

    client.force_login(instructor)
    response = client.post(
        "/admin/learning_paths/new/",
        {
            "title": "Empty",
            "slug": "empty",
            "certification": "none",
            "sort_order": "0",
            "path_courses-TOTAL_FORMS": "0",
            "path_courses-INITIAL_FORMS": "0",
            "path_courses-MIN_NUM_FORMS": "1",
            "path_courses-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert not LearningPath.objects.filter(slug="empty").exists()


@pytest.mark.parametrize("extra_paths", [0, 6])
def test_dashboard_query_count_does_not_grow_with_the_paths(learner_client, learner, extra_paths):
    """The dashboard lists every published path with its steps: the courses,
    lessons and enrolments of all of them are read at once."""
    course, rows = course_with_lessons(3, title="Shared course")
    services.lesson_complete(person=learner, lesson_id=rows[0].pk)
    path_with("developer", course)
    path_with("architect", course)
    for index in range(extra_paths):
        other, _ = course_with_lessons(2, title=f"Series {index}")
        path_with(f"series-{index}", other, course)
    learner_client.get("/dashboard/")
    with CaptureQueriesContext(connection) as queries:
        response = learner_client.get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Shared course" in page
    assert (extra_paths == 0) or "Series 5" in page
    assert len(queries) == 12, "\n".join(q["sql"][:120] for q in queries.captured_queries)
