"""Create the course catalogue page under the home page and give the
Instructors (and Programme staff) groups page permissions on it only.

Instructors may add, edit and publish pages in the course section and nowhere
else (Wagtail page permissions apply to a page and everything below it).
Idempotent, written against historical models: the tree path is computed by
hand (treebeard is not available here), like cms/0002. Group names are literals
on purpose (lms.permissions.INSTRUCTORS / PROGRAMME_STAFF).
"""

from django.db import migrations

STEPLEN = 4
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

INSTRUCTORS = "Instructors"
PROGRAMME_STAFF = "Programme staff"
PAGE_PERMISSIONS = {
    INSTRUCTORS: ["add_page", "change_page", "publish_page"],
    PROGRAMME_STAFF: ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"],
}
PERMISSION_NAMES = {
    "add_page": "Can add page",
    "change_page": "Can change page",
    "publish_page": "Publish any page",
    "lock_page": "Lock/unlock pages you've locked",
    "unlock_page": "Unlock any page",
}


def _path_segment(number):
    digits = ""
    while True:
        number, rest = divmod(number, len(ALPHABET))
        digits = ALPHABET[rest] + digits
        if number == 0:
            break
    return digits.rjust(STEPLEN, "0")


def _path_number(segment):
    return int(segment, len(ALPHABET))


def create_catalogue(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    HomePage = apps.get_model("cms", "HomePage")
    CourseIndexPage = apps.get_model("courses", "CourseIndexPage")

    catalogue = CourseIndexPage.objects.order_by("path").first()
    home = HomePage.objects.order_by("path").first()
    if catalogue is None and home is not None:
        children = Page.objects.filter(depth=home.depth + 1, path__startswith=home.path)
        last = children.order_by("-path").values_list("path", flat=True).first()
        next_number = _path_number(last[-STEPLEN:]) + 1 if last else 1
        slug = "courses" if not children.filter(slug="courses").exists() else "course-catalogue"
        index_type, _ = ContentType.objects.get_or_create(
            app_label="courses", model="courseindexpage"
        )
        catalogue = CourseIndexPage.objects.create(
            title="Courses",
            draft_title="Courses",
            slug=slug,
            intro=(
                "Sales fundamentals and technical courses that prepare you for the "
                "developer and architect certifications."
            ),
            content_type=index_type,
            path=home.path + _path_segment(next_number),
            depth=home.depth + 1,
            numchild=0,
            url_path=f"{home.url_path}{slug}/",
            live=True,
            has_unpublished_changes=False,
            locale_id=home.locale_id,
        )
        home.numchild = Page.objects.filter(
            depth=home.depth + 1, path__startswith=home.path
        ).count()
        home.save(update_fields=["numchild"])
    if catalogue is None:
        return

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    page_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="page")
    for group_name, codenames in PAGE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for codename in codenames:
            permission, _ = Permission.objects.get_or_create(
                content_type=page_type,
                codename=codename,
                defaults={"name": PERMISSION_NAMES[codename]},
            )
            GroupPagePermission.objects.get_or_create(
                group=group, page_id=catalogue.pk, permission=permission
            )


def remove_permissions(apps, schema_editor):
    # The catalogue page stays (it may hold courses); only the grants go.
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    CourseIndexPage = apps.get_model("courses", "CourseIndexPage")
    GroupPagePermission.objects.filter(
        page_id__in=CourseIndexPage.objects.values_list("pk", flat=True),
        group__name__in=list(PAGE_PERMISSIONS),
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_course_pages_and_learner_records"),
        ("cms", "0002_create_home_page"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(create_catalogue, remove_permissions)]
