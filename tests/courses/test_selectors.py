"""Reads: catalogue, course detail, dashboard, completions for partners."""

import pytest
from wagtail.models import PageViewRestriction

from courses import selectors, services
from courses.selectors import CatalogueFilters
from tests.lms.factories import UserFactory

from .factories import CoursePageFactory, LessonPageFactory, course_with_lessons

pytestmark = pytest.mark.django_db


def titles(cards):
    return [card.title for card in cards]


def test_catalogue_shows_live_courses_only_with_live_lesson_counts():
    course, _ = course_with_lessons(2, title="Payments fundamentals")
    LessonPageFactory(parent=course, live=False)
    CoursePageFactory(title="Draft course", live=False)
    cards = selectors.course_list_for_catalogue()
    assert titles(cards) == ["Payments fundamentals"]
    assert cards[0].lesson_count == 2


def test_catalogue_filters_by_kind_level_and_certification():
    CoursePageFactory(title="Business Foundations", kind="sales", certification="none")
    CoursePageFactory(title="Webhooks", kind="technical", level="intermediate")
    CoursePageFactory(title="Architecture", kind="technical", certification="architect")
    assert titles(selectors.course_list_for_catalogue(filters=CatalogueFilters(kind="sales"))) == [
        "Business Foundations"
    ]
    assert titles(
        selectors.course_list_for_catalogue(filters=CatalogueFilters(level="intermediate"))
    ) == ["Webhooks"]
    assert titles(
        selectors.course_list_for_catalogue(filters=CatalogueFilters(certification="architect"))
    ) == ["Architecture"]


def test_unknown_filter_values_are_dropped_and_reported():
    from django.http import QueryDict

    filters, errors = CatalogueFilters.from_query_dict(QueryDict("kind=cooking&level=beginner"))
    assert filters == CatalogueFilters(level="beginner")
    assert errors == ["kind"]


def test_search_finds_courses_by_their_own_text_and_by_lesson_text():
    CoursePageFactory(title="Payments fundamentals", summary="Card payments from end to end.")
    marketplace, _ = course_with_lessons(
        0,
        title="Platforms and marketplaces",
        summary="Split funds between sellers.",
        outcomes="Onboard sellers",
    )
    LessonPageFactory(
        parent=marketplace,
        title="Splitting funds",
        body=[{"type": "paragraph", "value": "<p>Onboarding connected accounts.</p>"}],
    )
    hidden = CoursePageFactory(title="Secret", summary="Connected accounts", live=False)
    assert titles(selectors.course_list_for_catalogue(query="payments")) == [
        "Payments fundamentals"
    ]
    assert titles(selectors.course_list_for_catalogue(query="connected accounts")) == [
        "Platforms and marketplaces"
    ]
    assert hidden.title not in titles(selectors.course_list_for_catalogue(query="secret"))


def test_private_sections_are_hidden_from_learners_who_may_not_see_them(learner):
    course = CoursePageFactory(title="Partners only")
    PageViewRestriction.objects.create(page=course, restriction_type=PageViewRestriction.LOGIN)
    assert titles(selectors.course_list_for_catalogue(user=None)) == []
    assert titles(selectors.course_list_for_catalogue(user=learner)) == ["Partners only"]
    PageViewRestriction.objects.create(
        page=course, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    assert titles(selectors.course_list_for_catalogue(user=learner)) == []


def test_course_detail_lists_lessons_with_states_and_where_to_resume(learner):
    course, lessons = course_with_lessons(4)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=lessons[1].pk)
    detail = selectors.course_detail_for(user=learner, course=course)
    assert [state.completed for state in detail.lessons] == [True, True, False, False]
    assert detail.progress.percent == 50
    assert detail.resume.id == lessons[2].pk
    assert detail.lessons[1].current


def test_course_detail_for_someone_not_enrolled(learner):
    course, lessons = course_with_lessons(2)
    detail = selectors.course_detail_for(user=learner, course=course)
    assert not detail.enrolled and detail.progress.percent == 0
    assert detail.resume.id == lessons[0].pk


def test_dashboard_groups_courses_and_flags_new_content(learner):
    done, done_lessons = course_with_lessons(1, title="Business Foundations", kind="sales")
    started, started_lessons = course_with_lessons(3, title="Webhooks")
    services.lesson_complete(person=learner, lesson_id=done_lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=started_lessons[0].pk)

    dashboard = selectors.dashboard_for(user=learner)
    assert [item.course.title for item in dashboard.in_progress] == ["Webhooks"]
    assert dashboard.continue_with.resume.id == started_lessons[1].pk
    assert [item.course.title for item in dashboard.completed] == ["Business Foundations"]
    assert not dashboard.completed[0].progress.has_new_content

    LessonPageFactory(parent=done, title="What is new")
    dashboard = selectors.dashboard_for(user=learner)
    completed = dashboard.completed[0]
    assert completed.progress.completed_at is not None
    assert completed.progress.has_new_content
    assert completed.resume.title == "What is new"


def test_dashboard_hides_unpublished_courses(learner):
    course, lessons = course_with_lessons(2)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    course.unpublish()
    assert selectors.dashboard_for(user=learner).in_progress == []


def test_people_who_completed_a_course(django_assert_num_queries):
    course, lessons = course_with_lessons(1, title="Business Foundations", kind="sales")
    assert course.slug == selectors.BUSINESS_FOUNDATIONS_SLUG
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    services.lesson_complete(person=alice, lesson_id=lessons[0].pk)
    services.enrolment_create(person=bob, course=course)
    services.lesson_complete(person=carol, lesson_id=lessons[0].pk)
    with django_assert_num_queries(1):
        people = selectors.people_who_completed(
            course_slug="business-foundations", person_ids=[alice.pk, bob.pk]
        )
    assert people == {alice.pk}
    assert (
        selectors.people_who_completed(course_slug="business-foundations", person_ids=[]) == set()
    )
    assert selectors.people_who_completed(course_slug="nope", person_ids=[alice.pk]) == set()
