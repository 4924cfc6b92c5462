"""A prerequisite course completed last issues the credential at that moment."""

import pytest

from certificates.models import Credential
from courses.services import lesson_complete
from tests.certificates.factories import CertificationFactory, meet_requirements
from tests.courses.factories import course_with_lessons

pytestmark = pytest.mark.django_db


def test_completing_the_prerequisite_course_last_issues_the_credential(
    learner, no_render, django_capture_on_commit_callbacks
):
    certification = CertificationFactory(slug="developer", name="Developer")
    course, lessons = course_with_lessons(2, title="Payment flows and webhooks")
    certification.prerequisite_courses.add(course)
    meet_requirements(person=learner, certification=certification)

    with django_capture_on_commit_callbacks(execute=True):
        lesson_complete(person=learner, lesson_id=lessons[0].pk)
    assert not Credential.objects.filter(person=learner).exists()  # course not complete yet

    with django_capture_on_commit_callbacks(execute=True):
        lesson_complete(person=learner, lesson_id=lessons[1].pk)
    assert Credential.objects.filter(person=learner, certification=certification).count() == 1

    # Completing again (a lesson revisited) never issues a second one.
    with django_capture_on_commit_callbacks(execute=True):
        lesson_complete(person=learner, lesson_id=lessons[1].pk)
    assert Credential.objects.filter(person=learner).count() == 1


def test_a_course_that_is_no_prerequisite_issues_nothing(
    learner, no_render, django_capture_on_commit_callbacks
):
    CertificationFactory(slug="developer", name="Developer")
    _course, lessons = course_with_lessons(
        1, title="Business Foundations", kind="sales", certification="none"
    )
    with django_capture_on_commit_callbacks(execute=True):
        lesson_complete(person=learner, lesson_id=lessons[0].pk)
    assert not Credential.objects.exists()
