"""The learner's profile carries their course completion record (sales training)."""

import pytest

from courses.services import lesson_complete

from .factories import course_with_lessons

pytestmark = pytest.mark.django_db


def test_completed_sales_course_appears_on_the_profile(learner_client, learner):
    course, lessons = course_with_lessons(
        2, title="Business Foundations", kind="sales", certification="none"
    )
    for lesson in lessons:
        lesson_complete(person=learner, lesson_id=lesson.id)

    page = learner_client.get("/accounts/profile/").content.decode()
    assert "Completed courses" in page
    assert "Business Foundations" in page
    assert "Sales" in page


def test_a_course_in_progress_is_not_on_the_record(learner_client, learner):
    _course, lessons = course_with_lessons(2, title="Payments fundamentals")
    lesson_complete(person=learner, lesson_id=lessons[0].id)

    page = learner_client.get("/accounts/profile/").content.decode()
    assert "Payments fundamentals" not in page
    assert "No completed courses yet" in page
