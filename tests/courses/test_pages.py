"""Server-rendered pages: catalogue, course, lesson, dashboard."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import PageViewRestriction

from courses import services
from courses.models import Enrolment, LessonProgress

from .factories import CoursePageFactory, LessonPageFactory, course_with_lessons, paragraphs

pytestmark = pytest.mark.django_db


def enrol_url(course) -> str:
    return reverse("courses:course_enrol", args=[course.pk])


def complete_url(lesson) -> str:
    return reverse("courses:lesson_complete", args=[lesson.pk])


def rich_body(image, document):
    return [
        {"type": "heading", "value": {"text": "Why idempotency", "level": "h2"}},
        {"type": "paragraph", "value": "<p>Retries happen.</p>"},
        {"type": "image", "value": {"image": image.pk, "alt_text": "Flow", "caption": "The flow"}},
        {
            "type": "video",
            "value": {"video": "https://www.youtube.com/watch?v=abc", "title": "Walkthrough"},
        },
        {
            "type": "code",
            "value": {"language": "bash", "code": "curl -X POST <url>", "caption": "Retry"},
        },
        {"type": "callout", "value": {"kind": "tip", "title": "", "text": "<p>Reuse keys.</p>"}},
        {"type": "download", "value": {"document": document.pk, "title": "", "description": ""}},
        {
            "type": "self_check",
            "value": {
                "question": "Which header makes a retry safe?",
                "options": [
                    {"text": "Idempotency-Key", "correct": True, "feedback": "Yes."},
                    {"text": "Accept", "correct": False, "feedback": "That is content type."},
                ],
                "explanation": "The key lets the server recognise a retry.",
            },
        },
    ]


def make_image(title="Flow"):
    return Image.objects.create(title=title, file=get_test_image_file(size=(40, 30)))


def make_document():
    document = Document(title="Checklist")
    document.file.save("checklist.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return document


# --- catalogue ----------------------------------------------------------------


def test_catalogue_lists_filters_and_searches(client, catalogue):
    CoursePageFactory(title="Business Foundations", kind="sales", certification="none")
    CoursePageFactory(title="Payment flows and webhooks", summary="Events and retries.")
    CoursePageFactory(title="Draft", live=False)
    html = client.get("/courses/").content.decode()
    assert "Business Foundations" in html and "Payment flows and webhooks" in html
    assert "Draft" not in html
    html = client.get("/courses/?kind=sales").content.decode()
    assert "Business Foundations" in html and "Payment flows" not in html
    html = client.get("/courses/?q=retries").content.decode()
    assert "Payment flows and webhooks" in html and "Business Foundations" not in html


@pytest.mark.parametrize(
    "query",
    ["kind=cooking", "level=%00", "certification=" + "x" * 5000, "q=" + "payments " * 500, "q=%00"],
)
def test_catalogue_bad_filters_are_ignored_not_errors(client, catalogue, query):
    CoursePageFactory(title="Payments fundamentals")
    response = client.get(f"/courses/?{query}")
    assert response.status_code == 200


def test_pages_with_learner_state_are_not_shared_by_caches(learner_client, catalogue):
    course, lessons = course_with_lessons(1)
    for url in ["/courses/", course.url, lessons[0].url, "/dashboard/"]:
        response = learner_client.get(url)
        assert response.status_code == 200, url
        assert "private" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


# --- course -------------------------------------------------------------------


def test_course_page_invites_to_sign_in_or_enrol(client, learner, catalogue):
    course, _ = course_with_lessons(2, outcomes="Explain refunds")
    html = client.get(course.url).content.decode()
    assert "Sign in to enrol" in html and "Explain refunds" in html
    client.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    assert "Enrol in this course" in client.get(course.url).content.decode()


def test_enrolling_from_the_course_page(learner_client, learner):
    course, lessons = course_with_lessons(2)
    html = learner_client.get(course.url).content.decode()
    assert f'action="{enrol_url(course)}"' in html
    response = learner_client.post(enrol_url(course), follow=True)
    assert response.redirect_chain == [(lessons[0].url, 302)]
    assert f"You are enrolled in {course.title}." in response.content.decode()
    learner_client.post(enrol_url(course))  # a double click: still one enrolment
    assert Enrolment.objects.filter(person=learner, course=course).count() == 1
    html = learner_client.get(course.url).content.decode()
    assert "0 of 2 lessons" in html and "Start the first lesson" in html


def test_anonymous_enrol_goes_to_sign_in(client):
    course, _ = course_with_lessons(1)
    response = client.post(enrol_url(course))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={course.url}"
    assert not Enrolment.objects.exists()


def test_enrolling_in_an_unknown_unpublished_or_hidden_course_is_404(learner_client):
    course, _ = course_with_lessons(1)
    hidden, _ = course_with_lessons(1)
    restriction = PageViewRestriction.objects.create(
        page=hidden, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Insiders"))
    gone = course.pk
    course.unpublish()
    for course_id in (gone, hidden.pk, 999_999, 2**63):
        url = reverse("courses:course_enrol", args=[course_id])
        assert learner_client.post(url).status_code == 404, course_id
    assert learner_client.post("/learning/enrol/nope/").status_code == 404
    assert not Enrolment.objects.exists()


def test_the_enrol_form_needs_post_and_a_csrf_token(learner):
    course, _ = course_with_lessons(1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    response = browser.get(enrol_url(course))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert browser.post(enrol_url(course)).status_code == 403
    assert not Enrolment.objects.exists()


def test_a_post_to_the_course_or_lesson_page_itself_is_405(learner_client):
    # The forms post to courses.urls; a page opened before that still posts
    # to itself once: it is told the page only reads.
    course, lessons = course_with_lessons(1)
    for url in (course.url, lessons[0].url):
        response = learner_client.post(url)
        assert response.status_code == 405, url
        assert "GET" in response["Allow"].split(", ") and "POST" not in response["Allow"]
    assert not Enrolment.objects.exists() and not LessonProgress.objects.exists()


def test_unpublished_course_is_not_served(learner_client):
    course, lessons = course_with_lessons(1)
    course.unpublish()
    assert learner_client.get(course.url).status_code == 404
    assert learner_client.get(lessons[0].url).status_code == 404


# --- lesson -------------------------------------------------------------------


def test_lesson_page_needs_sign_in(client):
    _, lessons = course_with_lessons(1)
    response = client.get(lessons[0].url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_lesson_page_renders_every_block(learner_client):
    course, _ = course_with_lessons(0)
    lesson = LessonPageFactory(parent=course, body=rich_body(make_image(), make_document()))
    response = learner_client.get(lesson.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2>Why idempotency</h2>" in html
    assert 'alt="Flow"' in html and "<figcaption>The flow</figcaption>" in html
    assert "https://www.youtube.com/watch?v=abc" in html and "<iframe" not in html
    assert 'class="language-bash"' in html and "curl -X POST &lt;url&gt;" in html
    assert "Reuse keys." in html and "checklist" in html.lower()
    assert "Which header makes a retry safe?" in html and 'data-correct="true"' in html
    assert "Mark complete" in html


def test_mark_complete_moves_on_and_the_last_one_completes_the_course(learner_client, learner):
    course, lessons = course_with_lessons(2)
    html = learner_client.get(lessons[0].url).content.decode()
    assert f'action="{complete_url(lessons[0])}" data-complete-form' in html
    response = learner_client.post(complete_url(lessons[0]))
    assert response.status_code == 302 and response["Location"] == lessons[1].url
    html = learner_client.get(lessons[0].url).content.decode()
    assert "data-completed-message>You completed this lesson." in html
    assert "data-complete-form" not in html
    response = learner_client.post(complete_url(lessons[1]))
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert Enrolment.objects.get(person=learner, course=course).completed_at is not None
    html = learner_client.get("/dashboard/").content.decode()
    assert "You completed" in html and course.title in html


def test_marking_an_unpublished_lesson_complete_is_404(learner_client):
    _, lessons = course_with_lessons(2)
    url = complete_url(lessons[0])
    lessons[0].unpublish()
    assert learner_client.post(url).status_code == 404
    assert not LessonProgress.objects.exists()


def test_marking_an_unknown_or_hidden_lesson_complete_is_404(learner_client):
    _, lessons = course_with_lessons(1)
    hidden, hidden_lessons = course_with_lessons(1)
    restriction = PageViewRestriction.objects.create(
        page=hidden, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.create(name="Insiders"))
    for lesson_id in (hidden_lessons[0].pk, lessons[0].get_parent().pk, 999_999, 2**63):
        url = reverse("courses:lesson_complete", args=[lesson_id])
        assert learner_client.post(url).status_code == 404, lesson_id
    assert learner_client.post("/learning/complete/-1/").status_code == 404
    assert not LessonProgress.objects.exists()


def test_marking_complete_when_signed_out_goes_to_sign_in_and_back(client):
    _, lessons = course_with_lessons(1)
    response = client.post(complete_url(lessons[0]))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={lessons[0].url}"
    assert client.post(reverse("courses:lesson_complete", args=[999_999])).status_code == 404
    assert not LessonProgress.objects.exists()


def test_the_complete_form_needs_post_and_a_csrf_token(learner):
    _, lessons = course_with_lessons(1)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    assert browser.get(complete_url(lessons[0])).status_code == 405
    assert browser.post(complete_url(lessons[0])).status_code == 403
    assert not LessonProgress.objects.exists()


def test_opening_a_lesson_remembers_where_you_left_off(learner_client, learner):
    course, lessons = course_with_lessons(3)
    services.enrolment_create(person=learner, course=course)
    learner_client.get(lessons[2].url)
    assert Enrolment.objects.get(person=learner).last_lesson_id == lessons[2].pk


# --- dashboard ----------------------------------------------------------------


def test_dashboard_needs_sign_in(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_dashboard_shows_continue_in_progress_and_completed(learner_client, learner):
    started, started_lessons = course_with_lessons(3, title="Payment flows and webhooks")
    done, done_lessons = course_with_lessons(1, title="Business Foundations", kind="sales")
    services.lesson_complete(person=learner, lesson_id=done_lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=started_lessons[0].pk)
    html = learner_client.get("/dashboard/").content.decode()
    assert "Continue where you left off" in html
    assert f"Continue: {started_lessons[1].title}" in html
    assert "Business Foundations" in html and "Completed " in html


def test_empty_dashboard_points_to_the_catalogue(learner_client, catalogue):
    html = learner_client.get("/dashboard/").content.decode()
    assert "Nothing in progress" in html and 'href="/courses/"' in html


# --- query counts ---------------------------------------------------------------


def count_queries(client, url) -> int:
    cache.clear()  # cold site-root and rendition caches: the worst case
    client.get(url)  # warm: renditions are created once, outside the measurement
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def build_world(learner, lessons_per_course: int, courses: int, blocks: int, images: int):
    created = []
    for index in range(courses):
        course, lessons = course_with_lessons(lessons_per_course, title=f"Course {index}")
        created.append((course, lessons))
        services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    course, lessons = created[0]
    picture_blocks = [
        {"type": "image", "value": {"image": make_image(f"i{i}").pk, "alt_text": "", "caption": ""}}
        for i in range(images)
    ]
    big = LessonPageFactory(parent=course, body=paragraphs(blocks) + picture_blocks)
    return course, big


# Pinned: the same at both sizes. If a change moves these, look for a query per row.
# The dashboard lists every learning path with its progress (3 of its queries, whatever
# the number of paths).
EXPECTED_QUERIES = {"catalogue": 13, "course": 13, "lesson": 15, "dashboard": 11}


@pytest.mark.parametrize(
    "size",
    [
        dict(lessons=5, courses=2, blocks=5, images=1),
        dict(lessons=50, courses=6, blocks=50, images=20),
    ],
)
def test_query_counts_do_not_grow_with_the_data(learner_client, learner, catalogue, size):
    course, big_lesson = build_world(
        learner, size["lessons"], size["courses"], size["blocks"], size["images"]
    )
    counts = {
        "catalogue": count_queries(learner_client, "/courses/?level=beginner"),
        "course": count_queries(learner_client, course.url),
        "lesson": count_queries(learner_client, big_lesson.url),
        "dashboard": count_queries(learner_client, "/dashboard/"),
    }
    assert counts == EXPECTED_QUERIES


def test_reaching_the_end_completes_through_the_api_with_the_page_csrf_token(learner):
    import re

    from django.test import Client

    _, lessons = course_with_lessons(2)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    html = browser.get(lessons[0].url).content.decode()
    url = re.search(r'data-complete-on-end="([^"]+)"', html).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert url == f"/api/v1/lessons/{lessons[0].pk}/completion"
    response = browser.post(url, headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert LessonProgress.objects.filter(person=learner, lesson=lessons[0]).exists()
