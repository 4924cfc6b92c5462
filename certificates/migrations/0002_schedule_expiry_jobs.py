"""Schedule the daily credential expiry sweep and expiry reminders (django-q2).

Both jobs are idempotent (conditional updates; one ExpiryReminder row per
reminder), and Q_CLUSTER has catch_up off, so a missed day runs once.
"""

from django.db import migrations

# Literal strings on purpose: a migration must not import code that may change.
DAILY = "D"
SCHEDULES = [
    ("Expire lapsed credentials", "certificates.tasks.expire_credentials"),
    ("Send credential expiry reminders", "certificates.tasks.send_expiry_reminders"),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES:
        Schedule.objects.get_or_create(
            name=name, defaults={"func": func, "schedule_type": DAILY, "repeats": -1}
        )


def delete_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES:
        Schedule.objects.filter(name=name, func=func).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0001_certifications_and_credentials"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, delete_schedules)]
