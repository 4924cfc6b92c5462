"""Let Programme staff grant, change and revoke accommodations in the admin.

Idempotent, literal names on purpose (see 0004). Instructors get nothing
here: accommodations are programme staff's decision. Nobody deletes a
grant (it is revoked) and nobody edits its history.
"""

from django.db import migrations

SPECS = [
    ("accommodation", "accommodation", "add"),
    ("accommodation", "accommodation", "change"),
    ("accommodation", "accommodation", "view"),
    ("accommodationevent", "accommodation event", "view"),
]


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="Programme staff")
    for model, verbose, action in SPECS:
        content_type, _ = ContentType.objects.get_or_create(app_label="exams", model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type,
            codename=f"{action}_{model}",
            defaults={"name": f"Can {action} {verbose}"},
        )
        group.permissions.add(permission)


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Programme staff"):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="exams",
                content_type__model__in=["accommodation", "accommodationevent"],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0008_accommodations"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
