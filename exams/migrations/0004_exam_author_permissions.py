"""Let Instructors and Programme staff author question banks and exams in the admin.

Idempotent: groups and permissions are fetched or created (Django only creates
permissions after all migrations ran). Literal names on purpose: a migration
must not import code that may change. Instructors add and change content and
see attempts and regrade history; only programme staff may delete content (the
database refuses deleting anything a learner's attempt used anyway).
"""

from django.db import migrations

CONTENT = [
    ("questionbank", "question bank"),
    ("topic", "topic"),
    ("question", "question"),
    ("exam", "exam"),
    ("blueprintrule", "blueprint rule"),
]
RECORDS = [
    ("questionversion", "question version"),
    ("choice", "choice"),
    ("attempt", "attempt"),
    ("attemptitem", "attempt item"),
    ("regradeevent", "regrade event"),
]


def _specs(delete: bool):
    actions = ("add", "change", "view", "delete") if delete else ("add", "change", "view")
    specs = [(model, verbose, action) for model, verbose in CONTENT for action in actions]
    specs += [(model, verbose, "view") for model, verbose in RECORDS]
    return specs


GROUPS = {"Instructors": _specs(delete=False), "Programme staff": _specs(delete=True)}


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group_name, specs in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for model, verbose, action in specs:
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
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="exams")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("exams", "0003_regrade_events"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
