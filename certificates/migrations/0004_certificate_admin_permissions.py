"""Let Programme staff manage certifications and see credentials in the admin.

Idempotent; literal names on purpose (a migration must not import code that
may change). Credentials get "view" only: they are revoked through their own
view (programme staff), never edited or deleted.
"""

from django.db import migrations

SPECS = [
    ("certification", "certification", ("add", "change", "view")),
    ("credential", "credential", ("view",)),
    ("credentialevent", "credential event", ("view",)),
]


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="Programme staff")
    for model, verbose, actions in SPECS:
        content_type, _ = ContentType.objects.get_or_create(app_label="certificates", model=model)
        for action in actions:
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
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="certificates"))


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0003_project_requirement"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
