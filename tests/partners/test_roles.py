import pytest
from django.contrib.auth.models import Group
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import GroupCollectionPermission
from wagtail.permission_policies.collections import CollectionOwnershipPermissionPolicy

from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF

pytestmark = pytest.mark.django_db

INSTRUCTOR_PERMS = {"wagtailadmin.access_admin"}
MEDIA_PERMS = {
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
}
STAFF_EXTRA = {
    f"partners.{action}_{model}"
    for model in ("partner", "membership", "partnertrack")
    for action in ("add", "change", "view", "delete")
} | {"lms.view_user"}


# Later apps (courses, exams, ...) add their own permissions to these groups in
# their own migrations and test them there; this file checks the foundation's.
FOUNDATION_APPS = {"wagtailadmin", "wagtaildocs", "wagtailimages", "partners", "lms"}


def _perms(group):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
        if p.content_type.app_label in FOUNDATION_APPS
    }


def _collection_perms(group):
    return {
        f"{p.permission.content_type.app_label}.{p.permission.codename}"
        for p in GroupCollectionPermission.objects.filter(
            group=group, collection__depth=1
        ).select_related("permission__content_type")
    }


def test_instructors_group_exists_with_its_permissions():
    group = Group.objects.get(name=INSTRUCTORS)
    assert _perms(group) == INSTRUCTOR_PERMS | MEDIA_PERMS
    assert _collection_perms(group) == MEDIA_PERMS


def test_programme_staff_group_has_everything_instructors_have_and_more():
    group = Group.objects.get(name=PROGRAMME_STAFF)
    assert _perms(group) == INSTRUCTOR_PERMS | MEDIA_PERMS | STAFF_EXTRA
    assert _collection_perms(group) == MEDIA_PERMS


def test_roles_migration_is_idempotent():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("partners.migrations.0002_create_instructor_and_staff_groups")
    migration.create_roles(apps, None)
    migration.create_roles(apps, None)
    assert Group.objects.filter(name__in=[INSTRUCTORS, PROGRAMME_STAFF]).count() == 2
    assert GroupCollectionPermission.objects.filter(group__name=INSTRUCTORS).count() == len(
        MEDIA_PERMS
    )


def test_instructor_may_use_the_admin_and_add_documents_and_images(instructor):
    assert instructor.has_perm("wagtailadmin.access_admin")
    assert not instructor.has_perm("partners.view_partner")
    for model in (get_document_model(), get_image_model()):
        policy = CollectionOwnershipPermissionPolicy(model, owner_field_name="uploaded_by_user")
        assert policy.user_has_permission(instructor, "add")
        assert policy.user_has_permission(instructor, "choose")


def test_staff_may_manage_partners(staff_user):
    assert staff_user.has_perm("partners.add_membership")
    assert staff_user.has_perm("lms.view_user")
    assert not staff_user.has_perm("lms.change_user")
