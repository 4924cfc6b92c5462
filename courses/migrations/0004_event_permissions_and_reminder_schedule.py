"""Let Instructors and Programme staff manage events in the admin, and schedule
the hourly event reminders (django-q2). Idempotent; literal names on purpose."""

from django.db import migrations

EVENT_PERMISSIONS = {
    "Instructors": ["add_event", "change_event", "view_event"],
    "Programme staff": ["add_event", "change_event", "view_event", "delete_event"],
}
SCHEDULE_NAME = "Send event reminders"
SCHEDULE_FUNC = "courses.tasks.send_event_reminders"
HOURLY = "H"


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    Schedule = apps.get_model("django_q", "Schedule")
    event_type, _ = ContentType.objects.get_or_create(app_label="courses", model="event")
    for group_name, codenames in EVENT_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for codename in codenames:
            action = codename.split("_", 1)[0]
            permission, _ = Permission.objects.get_or_create(
                content_type=event_type,
                codename=codename,
                defaults={"name": f"Can {action} event"},
            )
            group.permissions.add(permission)
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": SCHEDULE_FUNC, "schedule_type": HOURLY, "repeats": -1},
    )


def backwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME, func=SCHEDULE_FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_events_and_registrations"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
