"""Schedule the hourly sweep of old rate-limit events (django-q2)."""

from django.db import migrations

# Literal strings on purpose: a migration must not import code that may change.
SCHEDULE_NAME = "Sweep old rate-limit events"
SCHEDULE_FUNC = "lms.tasks.sweep_rate_events"
HOURLY = "H"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": SCHEDULE_FUNC, "schedule_type": HOURLY, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME, func=SCHEDULE_FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0004_rate_event"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
