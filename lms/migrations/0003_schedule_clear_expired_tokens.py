"""Schedule the daily clean-up of expired and revoked API tokens (django-q2)."""

from django.db import migrations

# Literal strings on purpose: a migration must not import code that may change.
SCHEDULE_NAME = "Clear expired API tokens"
SCHEDULE_FUNC = "lms.tasks.clear_expired_tokens"
DAILY = "D"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": SCHEDULE_FUNC, "schedule_type": DAILY, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME, func=SCHEDULE_FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0002_api_token"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
