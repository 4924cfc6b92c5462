"""Moderation of the course section: an instructor submits, programme staff approve.

Creates the Wagtail workflow "Course review" with one group approval task
("Programme staff approval", approved by the Programme staff group), assigns
it to the course catalogue page (so it covers every course and lesson below
it: the nearest ancestor's workflow applies), and takes the catalogue's
`publish_page` grant away from Instructors (they keep add/change, so they can
draft, preview and submit, but only an approval publishes).

Idempotent, written against historical models. `Task` is polymorphic: the
task row needs its own content type set by hand, like wagtailcore/0048 does.
Group, workflow and task names are literals on purpose (see 0002).
The reverse is a no-op: the workflow may already hold moderation history, and
giving instructors publish rights back is a decision, not an undo.
"""

from django.db import migrations

WORKFLOW_NAME = "Course review"
TASK_NAME = "Programme staff approval"
INSTRUCTORS = "Instructors"
PROGRAMME_STAFF = "Programme staff"


def create_workflow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    CourseIndexPage = apps.get_model("courses", "CourseIndexPage")

    staff, _ = Group.objects.get_or_create(name=PROGRAMME_STAFF)
    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    task = GroupApprovalTask.objects.filter(name=TASK_NAME).order_by("pk").first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=TASK_NAME, content_type=task_type, active=True)
    task.groups.add(staff)

    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).order_by("pk").first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW_NAME, active=True)
    if not WorkflowTask.objects.filter(workflow=workflow, task=task).exists():
        WorkflowTask.objects.create(
            workflow=workflow,
            task=task,
            sort_order=WorkflowTask.objects.filter(workflow=workflow).count(),
        )

    catalogue = CourseIndexPage.objects.order_by("path").first()
    if catalogue is None:
        return
    WorkflowPage.objects.update_or_create(page_id=catalogue.pk, defaults={"workflow": workflow})
    GroupPagePermission.objects.filter(
        group__name=INSTRUCTORS,
        page_id=catalogue.pk,
        permission__content_type__app_label="wagtailcore",
        permission__codename="publish_page",
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0004_event_permissions_and_reminder_schedule"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(create_workflow, migrations.RunPython.noop)]
