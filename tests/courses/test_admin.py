"""Authoring guards: the catalogue made by migration, instructors' reach,
and pages with learner records that cannot be deleted."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import GroupPagePermission, Page

from courses import services
from courses.models import CourseIndexPage, CoursePage, LessonPage
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import CoursePageFactory, course_with_lessons

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin, backend=MODEL_BACKEND)
    return client


def test_migration_creates_the_catalogue_under_the_home_page(catalogue):
    assert catalogue.live and catalogue.slug == "courses"
    assert catalogue.get_parent().specific_class.__name__ == "HomePage"
    assert catalogue.url == "/courses/"


def test_instructors_may_author_in_the_course_section_only(instructor, catalogue):
    grants = set(
        GroupPagePermission.objects.filter(group__name="Instructors").values_list(
            "page_id", "permission__codename"
        )
    )
    assert grants == {
        (catalogue.pk, "add_page"),
        (catalogue.pk, "change_page"),
    }
    course = CoursePageFactory()
    assert catalogue.permissions_for_user(instructor).can_add_subpage()
    # Publishing goes through the "Course review" workflow (courses/0005, test_workflow.py).
    assert course.permissions_for_user(instructor).can_edit()
    assert not course.permissions_for_user(instructor).can_publish()
    home = catalogue.get_parent()
    assert not home.permissions_for_user(instructor).can_edit()
    assert not home.permissions_for_user(instructor).can_add_subpage()


def test_instructor_creates_a_lesson_through_the_admin(client, instructor):
    course = CoursePageFactory()
    client.force_login(instructor, backend=MODEL_BACKEND)
    response = client.post(
        f"/admin/pages/add/courses/lessonpage/{course.pk}/",
        {
            "title": "Idempotency keys",
            "slug": "idempotency-keys",
            "summary": "Retry safely.",
            "estimated_minutes": "12",
            "body-count": "0",
            "action-submit": "submit",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson = LessonPage.objects.get(slug="idempotency-keys")
    assert lesson.get_parent().pk == course.pk
    assert not lesson.live and lesson.current_workflow_state is not None  # awaits approval


def test_the_catalogue_accepts_courses_and_courses_accept_lessons_only():
    assert CourseIndexPage.allowed_subpage_models() == [CoursePage]
    assert CoursePage.allowed_subpage_models() == [LessonPage]
    assert LessonPage.allowed_subpage_models() == []


@pytest.mark.parametrize("target", ["lesson", "course"])
def test_a_page_with_learner_records_cannot_be_deleted(admin_client, learner, target):
    course, lessons = course_with_lessons(2)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    page = lessons[0] if target == "lesson" else course

    response = admin_client.post(f"/admin/pages/{page.pk}/delete/", follow=True)
    assert Page.objects.filter(pk=page.pk).exists()
    html = response.content.decode()
    assert "cannot be deleted" in html and "Unpublish it instead" in html


def test_the_catalogue_with_records_below_cannot_be_deleted(admin_client, learner, catalogue):
    course, _ = course_with_lessons(1)
    services.enrolment_create(person=learner, course=course)
    admin_client.post(f"/admin/pages/{catalogue.pk}/delete/")
    assert Page.objects.filter(pk=catalogue.pk).exists()


def test_bulk_delete_refuses_pages_with_learner_records(admin_client, learner):
    course, lessons = course_with_lessons(2)
    services.lesson_complete(person=learner, lesson_id=lessons[0].pk)
    url = (
        "/admin/bulk/wagtailcore/page/delete/"
        f"?id={lessons[0].pk}&id={lessons[1].pk}&childOf={course.pk}"
    )
    response = admin_client.post(url, follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert LessonPage.objects.filter(pk__in=[lesson.pk for lesson in lessons]).count() == 2


def test_a_page_without_learner_records_can_be_deleted(admin_client):
    course, lessons = course_with_lessons(1)
    response = admin_client.post(f"/admin/pages/{lessons[0].pk}/delete/")
    assert response.status_code == 302
    assert not LessonPage.objects.filter(pk=lessons[0].pk).exists()


def test_instructors_group_exists_for_the_grants():
    assert Group.objects.filter(name="Instructors").exists()
