"""Schedule the finalisation of overdue exam attempts every 5 minutes (django-q2)."""

from django.db import migrations

# Literal strings on purpose: a migration must not import code that may change.
SCHEDULE_NAME = "Finalise overdue exam attempts"
SCHEDULE_FUNC = "exams.tasks.finalise_overdue_attempts"
MINUTES = "I"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": SCHEDULE_FUNC,
            "schedule_type": MINUTES,
            "minutes": 5,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=SCHEDULE_NAME, func=SCHEDULE_FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0001_question_banks_exams_and_attempts"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
