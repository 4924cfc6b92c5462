"""Moderation of the course section (courses/0005): an instructor drafts and
submits, programme staff approve, and only then do learners see the change."""

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from wagtail.models import (
    GroupApprovalTask,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowState,
    WorkflowTask,
)

from courses.models import LessonPage
from lms.permissions import PROGRAMME_STAFF
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import CoursePageFactory, LessonPageFactory

pytestmark = pytest.mark.django_db

MIGRATION = "courses.migrations.0005_course_review_workflow"


@pytest.fixture
def staff(db):
    user = UserFactory(email="staff@example.com")
    user.groups.add(Group.objects.get(name=PROGRAMME_STAFF))
    return user


@pytest.fixture
def learner_web(learner):
    """A separate browser session for the learner (`client` is the author's)."""
    web = Client()
    web.force_login(learner, backend=MODEL_BACKEND)
    return web


@pytest.fixture
def course(catalogue):
    return CoursePageFactory(title="Payment flows")


def lesson_form(title, slug, **extra):
    return {
        "title": title,
        "slug": slug,
        "summary": "Retry safely.",
        "estimated_minutes": "12",
        "body-count": "0",
        **extra,
    }


def submit_new_lesson(client, course, user, title="Idempotency keys", slug="idempotency-keys"):
    client.force_login(user, backend=MODEL_BACKEND)
    response = client.post(
        f"/admin/pages/add/courses/lessonpage/{course.pk}/",
        lesson_form(title, slug, **{"action-submit": "submit"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return LessonPage.objects.get(slug=slug)


# --- the workflow made by the migration --------------------------------------


def test_the_course_review_workflow_is_assigned_to_the_catalogue(catalogue):
    workflow = Workflow.objects.get(name="Course review")
    assert workflow.active
    assert WorkflowPage.objects.get(page=catalogue).workflow == workflow
    tasks = [task.specific for task in workflow.tasks]
    assert [type(task) for task in tasks] == [GroupApprovalTask]
    assert tasks[0].name == "Programme staff approval" and tasks[0].active
    assert set(tasks[0].groups.values_list("name", flat=True)) == {PROGRAMME_STAFF}


def test_the_workflow_applies_to_every_course_and_new_lesson(course):
    lesson = LessonPageFactory(parent=course, live=False)
    workflow = Workflow.objects.get(name="Course review")
    assert course.get_workflow() == workflow
    assert lesson.get_workflow() == workflow
    # Outside the course section the site's own moderation stays in charge.
    assert course.get_parent().get_parent().specific.get_workflow() != workflow


def test_instructors_keep_add_and_change_but_lose_publish(catalogue, instructor, course):
    grants = set(
        GroupPagePermission.objects.filter(group__name="Instructors").values_list(
            "page_id", "permission__codename"
        )
    )
    assert grants == {(catalogue.pk, "add_page"), (catalogue.pk, "change_page")}
    permissions = course.permissions_for_user(instructor)
    assert permissions.can_edit() and not permissions.can_publish()


def test_the_migration_is_idempotent(catalogue):
    migration = import_module(MIGRATION)
    migration.create_workflow(apps, None)
    migration.create_workflow(apps, None)
    assert Workflow.objects.filter(name="Course review").count() == 1
    assert GroupApprovalTask.objects.filter(name="Programme staff approval").count() == 1
    assert WorkflowTask.objects.filter(workflow__name="Course review").count() == 1
    assert WorkflowPage.objects.filter(page=catalogue).count() == 1
    assert not GroupPagePermission.objects.filter(
        group__name="Instructors", permission__codename="publish_page"
    ).exists()


def test_the_migration_restores_a_missing_assignment_and_group(catalogue):
    WorkflowPage.objects.filter(page=catalogue).delete()
    GroupApprovalTask.objects.get(name="Programme staff approval").groups.clear()
    import_module(MIGRATION).create_workflow(apps, None)
    assert catalogue.get_workflow().name == "Course review"
    task = GroupApprovalTask.objects.get(name="Programme staff approval")
    assert list(task.groups.values_list("name", flat=True)) == [PROGRAMME_STAFF]


# --- instructor: draft, submit, never publish --------------------------------


def test_an_instructor_submits_a_new_lesson_for_review(client, instructor, course):
    lesson = submit_new_lesson(client, course, instructor)

    assert not lesson.live and lesson.get_parent().pk == course.pk
    state = lesson.current_workflow_state
    assert state is not None and state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == "Course review"
    assert state.current_task_state.task.name == "Programme staff approval"
    assert state.requested_by == instructor


def test_an_instructor_cannot_publish_even_by_posting_the_publish_action(
    client, instructor, course
):
    client.force_login(instructor, backend=MODEL_BACKEND)
    response = client.post(
        f"/admin/pages/add/courses/lessonpage/{course.pk}/",
        lesson_form("Sneaky", "sneaky", **{"action-publish": "publish"}),
    )
    assert response.status_code == 302
    lesson = LessonPage.objects.get(slug="sneaky")
    assert not lesson.live  # saved as a draft, not published
    assert lesson.current_workflow_state is None


def test_an_instructor_edits_a_live_lesson_and_learners_keep_the_old_text(
    client, instructor, course, learner_web
):
    lesson = LessonPageFactory(parent=course, title="Webhooks", slug="webhooks")
    lesson.save_revision().publish()
    revisions_before = lesson.revisions.count()

    client.force_login(instructor, backend=MODEL_BACKEND)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[lesson.pk]),
        lesson_form("Webhooks, revised", "webhooks", **{"action-submit": "submit"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    lesson.refresh_from_db()
    assert lesson.live and lesson.has_unpublished_changes
    assert lesson.title == "Webhooks"  # the live version is untouched
    assert lesson.revisions.count() == revisions_before + 1
    assert lesson.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    html = learner_web.get(lesson.url).content.decode()
    assert "Webhooks, revised" not in html


def test_an_instructor_cannot_approve_their_own_submission(client, instructor, course):
    lesson = submit_new_lesson(client, course, instructor)
    task_state = lesson.current_workflow_state.current_task_state
    task = task_state.task.specific
    assert task.get_actions(lesson, instructor) == []
    assert task.locked_for_user(lesson, instructor)
    response = client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[lesson.pk, "approve", task_state.pk]),
    )
    assert response.status_code in {302, 403}
    lesson.refresh_from_db()
    assert not lesson.live


# --- programme staff: approve, and learners see it ---------------------------


def test_programme_staff_approve_in_the_admin_and_the_lesson_goes_live(
    client, instructor, staff, course, learner_web
):
    lesson = submit_new_lesson(client, course, instructor)
    revisions_after_submit = lesson.revisions.count()
    assert learner_web.get(f"/courses/{course.slug}/{lesson.slug}/").status_code == 404
    task_state = lesson.current_workflow_state.current_task_state

    client.force_login(staff, backend=MODEL_BACKEND)
    assert ("approve", "Approve", False) in task_state.task.specific.get_actions(lesson, staff)
    response = client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[lesson.pk, "approve", task_state.pk]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    lesson.refresh_from_db()
    assert lesson.live and not lesson.has_unpublished_changes
    assert lesson.current_workflow_state is None
    state = WorkflowState.objects.for_instance(lesson).get()
    assert state.status == WorkflowState.STATUS_APPROVED
    assert lesson.live_revision.user == instructor  # the author's revision is what went live
    assert lesson.revisions.count() >= revisions_after_submit

    response = learner_web.get(lesson.url)
    assert response.status_code == 200
    assert "Idempotency keys" in response.content.decode()
    catalogue_html = learner_web.get(course.url).content.decode()
    assert "Idempotency keys" in catalogue_html


def test_a_lesson_in_review_is_locked_for_its_author(client, instructor, course):
    lesson = submit_new_lesson(client, course, instructor)
    client.post(
        reverse("wagtailadmin_pages:edit", args=[lesson.pk]),
        lesson_form("Changed while in review", lesson.slug, **{"action-submit": "submit"}),
    )
    lesson.refresh_from_db()
    assert lesson.draft_title == "Idempotency keys"
    assert lesson.revisions.count() == 1


def test_changes_requested_then_resubmitted_then_approved_through_the_task_api(
    client, instructor, staff, course
):
    lesson = submit_new_lesson(client, course, instructor)
    task_state = lesson.current_workflow_state.current_task_state
    task_state.task.specific.on_action(task_state, staff, "reject")
    lesson.refresh_from_db()
    assert lesson.current_workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES

    response = client.post(
        reverse("wagtailadmin_pages:edit", args=[lesson.pk]),
        lesson_form("Idempotency keys v2", lesson.slug, **{"action-submit": "submit"}),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert lesson.revisions.count() == 2 and not lesson.live
    state = lesson.current_workflow_state
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    task_state = state.current_task_state

    task_state.task.specific.on_action(task_state, staff, "approve")

    lesson = Page.objects.get(pk=lesson.pk).specific
    assert lesson.live and lesson.title == "Idempotency keys v2"
    assert lesson.revisions.count() == 2  # both revisions kept as history
    assert lesson.live_revision == lesson.latest_revision


def test_programme_staff_can_request_changes(client, instructor, staff, course):
    lesson = submit_new_lesson(client, course, instructor)
    task_state = lesson.current_workflow_state.current_task_state
    client.force_login(staff, backend=MODEL_BACKEND)
    response = client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[lesson.pk, "reject", task_state.pk]),
        {"comment": "Add an example request."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert not lesson.live
    assert lesson.current_workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES
