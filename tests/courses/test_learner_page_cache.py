"""Repeat lesson views answered from the session's copy (courses.learner_page_cache).

A copy may only be served while nothing it shows has changed: every change a
learner or an editor makes must show on the next view, and a copy never
reaches another session.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from wagtail.models import PageViewRestriction

from courses import services
from courses.models import CoursePage, LessonPage
from lms.permissions import INSTRUCTORS
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import course_with_lessons

pytestmark = pytest.mark.django_db

DONE = "You completed this lesson.</p>"


def view(client, url):
    """GET url; (status, html, number of queries)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response.status_code, response.content.decode(), len(queries)


def served_from_copy(client, url) -> bool:
    status, _, queries = view(client, url)
    return status == 200 and queries == 1  # the session read only


@pytest.fixture
def lesson_setup(learner_client, learner):
    course, lessons = course_with_lessons(2)
    services.enrolment_create(person=learner, course=course)
    learner_client.get(lessons[0].url)  # renders (and sets the CSRF cookie)
    learner_client.get(lessons[0].url)  # renders again: the bookmark moved
    return course, lessons


def test_a_repeat_view_is_the_same_page_with_one_query(learner_client, lesson_setup):
    _, lessons = lesson_setup
    status, first, _ = view(learner_client, lessons[0].url)
    assert served_from_copy(learner_client, lessons[0].url)
    status, again, queries = view(learner_client, lessons[0].url)
    assert (status, queries) == (200, 1)
    assert again == first
    assert lessons[0].title in again


def test_completing_the_lesson_shows_at_once(learner_client, lesson_setup):
    _, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    assert "data-completed-message hidden" in view(learner_client, lessons[0].url)[1]
    response = learner_client.post(reverse("courses:lesson_complete", args=[lessons[0].pk]))
    assert response.status_code == 302
    status, html, queries = view(learner_client, lessons[0].url)
    assert status == 200 and queries > 1
    assert "data-completed-message>" in html and "Mark complete" not in html
    assert "1 of 2 lessons" in html


def test_completing_through_the_api_shows_at_once(learner_client, lesson_setup):
    _, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    response = learner_client.post(f"/api/v1/lessons/{lessons[0].pk}/completion")
    assert response.status_code in (200, 201)
    html = view(learner_client, lessons[0].url)[1]
    assert "Mark complete" not in html and "1 of 2 lessons" in html


def test_a_published_change_shows_at_once(learner_client, lesson_setup):
    _, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    page = LessonPage.objects.get(pk=lessons[0].pk)
    page.title = "A renamed lesson"
    page.save_revision().publish()
    assert "A renamed lesson" in view(learner_client, lessons[0].url)[1]
    # a change to another lesson of the course shows too (the lesson nav)
    assert served_from_copy(learner_client, lessons[0].url)
    other = LessonPage.objects.get(pk=lessons[1].pk)
    other.title = "The renamed next lesson"
    other.save_revision().publish()
    assert "The renamed next lesson" in view(learner_client, lessons[0].url)[1]


def test_unpublishing_the_lesson_or_its_course_is_404_at_once(learner_client, lesson_setup):
    course, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    CoursePage.objects.get(pk=course.pk).unpublish()
    assert view(learner_client, lessons[0].url)[0] == 404
    CoursePage.objects.get(pk=course.pk).save_revision().publish()
    assert view(learner_client, lessons[0].url)[0] == 200
    assert served_from_copy(learner_client, lessons[0].url)
    LessonPage.objects.get(pk=lessons[0].pk).unpublish()
    assert view(learner_client, lessons[0].url)[0] == 404


def test_a_new_view_restriction_applies_at_once(learner_client, lesson_setup):
    course, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    restriction = PageViewRestriction.objects.create(
        page=CoursePage.objects.get(pk=course.pk), restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.get(name=INSTRUCTORS))
    assert view(learner_client, lessons[0].url)[0] != 200


def test_a_copy_never_reaches_another_person(learner_client, lesson_setup, learner):
    _, lessons = lesson_setup
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    assert "Mark complete" not in view(learner_client, lessons[0].url)[1]
    assert served_from_copy(learner_client, lessons[0].url)
    other = Client()
    other.force_login(UserFactory(), backend=MODEL_BACKEND)
    other.get(lessons[0].url)
    status, html, queries = view(other, lessons[0].url)
    assert status == 200 and queries > 1
    assert "Mark complete" in html


def test_signing_out_or_a_password_change_ends_the_copies(learner_client, lesson_setup, learner):
    _, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    learner.set_password("a-brand-new-password-2026")
    learner.save()
    assert view(learner_client, lessons[0].url)[0] == 302  # the session is no longer valid

    learner_client.force_login(learner, backend=MODEL_BACKEND)
    learner_client.get(lessons[0].url)
    learner_client.get(lessons[0].url)
    assert served_from_copy(learner_client, lessons[0].url)
    learner_client.post("/accounts/logout/")
    assert view(learner_client, lessons[0].url)[0] == 302


def test_deactivating_the_account_ends_the_copies(learner_client, lesson_setup, learner):
    _, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    learner.is_active = False
    learner.save()
    assert view(learner_client, lessons[0].url)[0] == 302


def test_a_pending_message_is_shown_not_a_copy(learner_client, lesson_setup, learner):
    course, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    # completing the last lesson says so on the next page; opening the lesson
    # from there must show the message once, rendered
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    response = learner_client.post(reverse("courses:lesson_complete", args=[lessons[1].pk]))
    assert response.status_code == 302
    status, html, queries = view(learner_client, lessons[0].url)
    assert status == 200 and queries > 1
    assert f"You completed {course.title}" in html


def test_the_forms_of_a_copy_carry_a_valid_csrf_token(learner, lesson_setup):
    _, lessons = lesson_setup
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner, backend=MODEL_BACKEND)
    client.get(lessons[1].url)
    client.get(lessons[1].url)
    assert served_from_copy(client, lessons[1].url)
    html = client.get(lessons[1].url).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    action = html.split('" data-complete-form>', 1)[0].rsplit('action="', 1)[1]
    assert action == reverse("courses:lesson_complete", args=[lessons[1].pk])
    response = client.post(action, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302  # accepted, not 403
    assert "Mark complete" not in view(client, lessons[1].url)[1]


def test_a_query_string_or_the_setting_off_renders(learner_client, lesson_setup):
    _, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    assert view(learner_client, lessons[0].url + "?from=dashboard")[2] > 1
    with override_settings(LEARNER_PAGE_CACHE=False):
        assert view(learner_client, lessons[0].url)[2] > 1


def test_a_signed_out_visitor_is_sent_to_sign_in(lesson_setup):
    _, lessons = lesson_setup
    client = Client()
    assert client.get(lessons[0].url).status_code == 302
    assert client.get(lessons[0].url).status_code == 302


def test_joining_a_group_changes_the_navigation(learner_client, lesson_setup, learner):
    _, lessons = lesson_setup
    assert served_from_copy(learner_client, lessons[0].url)
    assert "Review queue" not in view(learner_client, lessons[0].url)[1]
    learner.groups.add(Group.objects.get(name=INSTRUCTORS))
    assert "Review queue" in view(learner_client, lessons[0].url)[1]
