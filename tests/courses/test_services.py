"""Enrolment and progress workflows."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

from courses import services
from courses.models import Enrolment, LessonProgress
from lms.errors import NotFound

from .factories import CoursePageFactory, LessonPageFactory, course_with_lessons

pytestmark = pytest.mark.django_db


def test_enrolment_create_is_idempotent(learner):
    course, _ = course_with_lessons(2)
    first, created = services.enrolment_create(person=learner, course=course)
    again, created_again = services.enrolment_create(person=learner, course=course)
    assert created and not created_again
    assert again.pk == first.pk
    assert Enrolment.objects.filter(person=learner, course=course).count() == 1


def test_enrolling_in_an_unpublished_course_is_not_found(learner):
    course = CoursePageFactory(live=False)
    with pytest.raises(NotFound) as raised:
        services.enrolment_create(person=learner, course=course)
    assert raised.value.code == "course_not_found"
    assert not Enrolment.objects.exists()


def test_completing_a_lesson_enrols_automatically_and_remembers_it(learner):
    course, lessons = course_with_lessons(3)
    result = services.lesson_complete(person=learner, lesson_id=lessons[1].pk)
    assert result.enrolled_now and result.lesson_created and not result.course_completed_now
    enrolment = Enrolment.objects.get(person=learner, course=course)
    assert enrolment.last_lesson_id == lessons[1].pk
    assert enrolment.completed_at is None


def test_completing_twice_records_once(learner):
    _, lessons = course_with_lessons(2)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    again = services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    assert not again.lesson_created and not again.enrolled_now
    assert LessonProgress.objects.filter(person=learner).count() == 1


@pytest.mark.parametrize("unpublish", ["lesson", "course"])
def test_completing_an_unpublished_lesson_is_not_found(learner, unpublish):
    course, lessons = course_with_lessons(2)
    page = lessons[0] if unpublish == "lesson" else course
    page.unpublish()
    with pytest.raises(NotFound) as raised:
        services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    assert raised.value.status == 404 and raised.value.code == "lesson_not_found"
    assert not LessonProgress.objects.exists()
    assert not Enrolment.objects.exists()


def test_completing_an_unknown_lesson_is_not_found(learner):
    with pytest.raises(NotFound):
        services.lesson_complete(person=learner, lesson_id=999_999)


def test_course_completes_when_all_live_lessons_are_done(learner):
    course, lessons = course_with_lessons(3)
    draft = LessonPageFactory(parent=course, live=False)  # drafts do not count
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=lessons[1].pk)
    result = services.lesson_complete(person=learner, lesson_id=lessons[2].pk)
    assert result.course_completed_now
    enrolment = Enrolment.objects.get(person=learner, course=course)
    assert enrolment.completed_at == result.progress.completed_at
    assert draft.pk not in LessonProgress.objects.values_list("lesson_id", flat=True)


def test_completion_survives_a_lesson_added_later(learner):
    course, lessons = course_with_lessons(1)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    completed_at = Enrolment.objects.get(person=learner).completed_at
    assert completed_at is not None

    new_lesson = LessonPageFactory(parent=course)
    again = services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    assert not again.course_completed_now
    assert Enrolment.objects.get(person=learner).completed_at == completed_at
    done = services.lesson_complete(person=learner, lesson_id=new_lesson.pk)
    assert not done.course_completed_now  # already complete: the date stays the first one
    assert Enrolment.objects.get(person=learner).completed_at == completed_at


def test_a_lesson_in_a_group_restricted_section_is_hidden_from_others(learner):
    course, lessons = course_with_lessons(1)
    group = Group.objects.create(name="Beta testers")
    restriction = PageViewRestriction.objects.create(
        page=course, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(group)
    with pytest.raises(NotFound):
        services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    learner.groups.add(group)
    learner = type(learner).objects.get(pk=learner.pk)  # fresh role cache
    assert services.lesson_complete(person=learner, lesson_id=lessons[0].pk).course_completed_now


def test_enrolment_touch_only_updates_existing_enrolments(learner):
    course, lessons = course_with_lessons(2)
    services.enrolment_touch(person=learner, lesson=lessons[1])
    assert not Enrolment.objects.exists()
    services.enrolment_create(person=learner, course=course)
    services.enrolment_touch(person=learner, lesson=lessons[1])
    assert Enrolment.objects.get().last_lesson_id == lessons[1].pk
