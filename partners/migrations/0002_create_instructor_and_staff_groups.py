"""Create the Instructors and Programme staff groups with their permissions.

Idempotent: groups and permissions are fetched or created, never duplicated.
Permissions are created here when missing because Django only creates them
after all migrations ran (post_migrate), and a fresh database runs this first.
The group names are literals on purpose (lms.permissions.INSTRUCTORS and
PROGRAMME_STAFF): a migration must not import code that may change.
"""

from django.db import migrations

INSTRUCTORS = "Instructors"
PROGRAMME_STAFF = "Programme staff"

# (app_label, model, codename, name)
ADMIN_ACCESS = [("wagtailadmin", "admin", "access_admin", "Can access Wagtail admin")]
MEDIA = [
    ("wagtaildocs", "document", "add_document", "Can add document"),
    ("wagtaildocs", "document", "change_document", "Can change document"),
    ("wagtaildocs", "document", "choose_document", "Can choose document"),
    ("wagtailimages", "image", "add_image", "Can add image"),
    ("wagtailimages", "image", "change_image", "Can change image"),
    ("wagtailimages", "image", "choose_image", "Can choose image"),
]
# Page add/change for instructors arrives with the course pages (courses app).
PARTNER_ADMIN = [
    ("partners", model, f"{action}_{model}", f"Can {action} {verbose}")
    for model, verbose in [
        ("partner", "partner"),
        ("membership", "membership"),
        ("partnertrack", "partner track"),
    ]
    for action in ("add", "change", "view", "delete")
] + [("lms", "user", "view_user", "Can view user")]


def _permission(apps, app_label, model, codename, name):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    root_collection = Collection.objects.filter(depth=1).first()
    for group_name, plain in [
        (INSTRUCTORS, ADMIN_ACCESS),
        (PROGRAMME_STAFF, ADMIN_ACCESS + PARTNER_ADMIN),
    ]:
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*[_permission(apps, *spec) for spec in plain])
        for spec in MEDIA:
            permission = _permission(apps, *spec)
            # Wagtail checks documents and images per collection; the root covers all.
            if root_collection is not None:
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root_collection, permission=permission
                )
            # Also on the group itself, so the role reads completely in Django's admin.
            group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=[INSTRUCTORS, PROGRAMME_STAFF]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        ("lms", "0001_user"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
