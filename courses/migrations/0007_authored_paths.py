"""Author the learning paths that used to be computed: for each certification,
its live technical courses in catalogue order; and let Instructors and
Programme staff edit paths in the admin. Idempotent; literal names on purpose."""

from django.db import migrations

PATHS = [
    ("developer", "Developer path", "developer", 10),
    ("architect", "Architect path", "architect", 20),
]
PERMISSIONS = {
    "Instructors": ["add_learningpath", "change_learningpath", "view_learningpath"],
    "Programme staff": [
        "add_learningpath",
        "change_learningpath",
        "view_learningpath",
        "delete_learningpath",
    ],
}


def forwards(apps, schema_editor):
    LearningPath = apps.get_model("courses", "LearningPath")
    LearningPathCourse = apps.get_model("courses", "LearningPathCourse")
    CoursePage = apps.get_model("courses", "CoursePage")
    for slug, title, certification, order in PATHS:
        path, created = LearningPath.objects.get_or_create(
            slug=slug,
            defaults={"title": title, "certification": certification, "sort_order": order},
        )
        if not created:
            continue
        courses = CoursePage.objects.filter(
            live=True, kind="technical", certification=certification
        ).order_by("path")
        LearningPathCourse.objects.bulk_create(
            LearningPathCourse(path=path, course=course, sort_order=index)
            for index, course in enumerate(courses)
        )
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    path_type, _ = ContentType.objects.get_or_create(app_label="courses", model="learningpath")
    for group_name, codenames in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for codename in codenames:
            action = codename.split("_", 1)[0]
            permission, _ = Permission.objects.get_or_create(
                content_type=path_type,
                codename=codename,
                defaults={"name": f"Can {action} learning path"},
            )
            group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0006_learning_paths"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
