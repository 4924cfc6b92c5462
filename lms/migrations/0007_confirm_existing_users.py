"""Every account that existed before e-mail confirmation counts as confirmed.

They signed up (or were created by staff) when no confirmation was asked for;
locking them out now would punish them for a rule that did not exist. Their
join date is the best moment we know of.
"""

from django.db import migrations
from django.db.models import F


def confirm_existing(apps, schema_editor):
    User = apps.get_model("lms", "User")
    User.objects.filter(email_confirmed_at__isnull=True).update(
        email_confirmed_at=F("date_joined")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0006_user_email_confirmed_at"),
    ]

    operations = [
        migrations.RunPython(confirm_existing, migrations.RunPython.noop),
    ]
