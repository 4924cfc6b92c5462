"""Who reaches which admin: Wagtail's for instructors and staff, Django's for superusers."""

import pytest
from django.contrib.auth.models import Group

from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db


def person_in(group_name=None, **kwargs):
    user = UserFactory(**kwargs)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.mark.parametrize("group_name", [INSTRUCTORS, PROGRAMME_STAFF])
def test_instructors_and_programme_staff_reach_the_wagtail_admin(client, group_name):
    client.force_login(person_in(group_name))
    assert client.get("/admin/").status_code == 200


def test_a_learner_is_sent_away_from_the_wagtail_admin(client):
    client.force_login(person_in())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("group_name", [None, INSTRUCTORS, PROGRAMME_STAFF])
def test_the_django_admin_is_for_superusers_only(client, group_name):
    # is_staff alone must not open the Django admin either.
    client.force_login(person_in(group_name, is_staff=True))
    response = client.get("/django-admin/")
    assert response.status_code == 302
    assert "/django-admin/login/" in response["Location"]


def test_a_superuser_reaches_the_django_admin(client):
    client.force_login(person_in(is_staff=True, is_superuser=True))
    assert client.get("/django-admin/").status_code == 200
    assert client.get("/django-admin/lms/user/").status_code == 200


def test_wagtail_admin_refuses_a_duplicate_email_in_another_case(client):
    from django.contrib.auth import get_user_model

    UserFactory(email="ada@example.com")
    client.force_login(person_in(is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/users/new/",
        {
            "email": "ADA@Example.com",
            "first_name": "Ada",
            "last_name": "Again",
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-1",
        },
    )
    assert response.status_code == 200  # the form again, with an error — not a 500
    assert get_user_model().objects.filter(email__iexact="ada@example.com").count() == 1


@pytest.mark.parametrize(
    ("role", "sees_admin_links"),
    [("learner", False), ("instructor", True), ("staff", True), ("superuser", True)],
)
def test_the_navigation_links_the_admin_for_those_who_may_use_it(client, role, sees_admin_links):
    from tests.lms.factories import MODEL_BACKEND

    group = {"instructor": INSTRUCTORS, "staff": PROGRAMME_STAFF}.get(role)
    user = person_in(group, is_superuser=role == "superuser")
    assert user.has_perm("wagtailadmin.access_admin") is sees_admin_links
    client.force_login(user, backend=MODEL_BACKEND)
    html = client.get("/accounts/profile/").content.decode()
    assert ('href="/admin/"' in html) is sees_admin_links
    assert ("Review queue" in html) is sees_admin_links
