"""The portal's API keys page and the staff's API keys admin screen."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.api_keys import services
from partners.models import ApiKey
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerFactory
from tests.partners.portal_factories import partner_with_admin

pytestmark = pytest.mark.django_db

PAGE = "/partners/northwind/api-keys/"


@pytest.fixture
def company():
    return partner_with_admin(name="Northwind", slug="northwind")


def _make(partner, by, **kwargs):
    return services.api_key_create(
        partner=partner, name=kwargs.pop("name", "HR sync"), scopes=["partner:read"], created_by=by
    )


def test_an_admin_creates_a_key_and_sees_the_secret_once(client, company):
    partner, admin = company
    client.force_login(admin)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "has no API keys yet" in html and "partners/copy.js" in html
    assert "<script>" not in html and ' style="' not in html

    response = client.post(
        PAGE, {"name": "HR sync", "scopes": ["partner:read", "certificates:read"]}
    )
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = re.search(r'value="(pak_[A-Za-z0-9]{43})"', html).group(1)
    assert "shown only this once" in html and 'data-copy-target="new-key-secret"' in html
    key = ApiKey.objects.get()
    assert key.scopes == ["partner:read", "certificates:read"] and key.created_by == admin
    assert services.api_key_authenticate(secret).pk == key.pk

    again = client.get(PAGE).content.decode()
    assert secret not in again and key.prefix in again and "HR sync" in again


def test_the_page_revokes_a_key(client, company):
    partner, admin = company
    key, _ = _make(partner, admin)
    client.force_login(admin)
    response = client.post(reverse("partner_api_keys:revoke", args=["northwind", key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and admin.email in key.revoked_reason
    assert "Revoked" in client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"name": "", "scopes": ["partner:read"]}, "This field is required"),
        ({"name": "x", "scopes": []}, "This field is required"),
        ({"name": "x", "scopes": ["admin"]}, "Select a valid choice"),
        ({"name": "x" * 101, "scopes": ["partner:read"]}, "at most 100 characters"),
        ({"name": "a\x00b", "scopes": ["partner:read"]}, "Null characters are not allowed"),
        ({"name": "x", "scopes": ["partner:read"], "expires_on": "2001-01-01"}, "future"),
        ({"name": "x", "scopes": ["partner:read"], "expires_on": "soon"}, "Enter a valid date"),
    ],
)
def test_bad_page_input_is_refused_and_makes_nothing(client, company, data, field_error):
    partner, admin = company
    client.force_login(admin)
    response = client.post(PAGE, data)
    assert response.status_code in (400, 422)
    assert field_error in response.content.decode()
    assert not ApiKey.objects.exists()


def test_only_the_partners_admins_and_staff_see_the_page(client, company, staff_user):
    partner, admin = company
    key, _ = _make(partner, admin)
    employee = MembershipFactory(partner=partner).person
    other_admin = partner_with_admin(slug="globex")[1]
    for user in (employee, other_admin, UserFactory()):
        client.force_login(user)
        assert client.get(PAGE).status_code == 404
        assert client.post(PAGE, {"name": "x", "scopes": ["partner:read"]}).status_code == 404
        revoke = reverse("partner_api_keys:revoke", args=["northwind", key.pk])
        assert client.post(revoke).status_code == 404
    client.logout()
    assert client.get(PAGE).status_code == 302  # to sign in
    client.force_login(staff_user)
    assert client.get(PAGE).status_code == 200
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


def test_another_partners_key_cannot_be_revoked_from_this_page(client, company):
    partner, admin = company
    theirs, _ = _make(PartnerFactory(), UserFactory())
    client.force_login(admin)
    response = client.post(reverse("partner_api_keys:revoke", args=["northwind", theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_the_page_query_count_does_not_grow_with_keys(client, company):
    partner, admin = company
    client.force_login(admin)
    _make(partner, admin)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as small:
        client.get(PAGE)
    for i in range(10):
        _make(partner, UserFactory(), name=f"key {i}")
    with CaptureQueriesContext(connection) as large:
        client.get(PAGE)
    assert len(small) == len(large)


# --- the staff's admin screen ---------------------------------------------------------


def test_staff_list_every_key_and_revoke_one_with_a_reason(client, company, staff_user):
    partner, admin = company
    key, secret = _make(partner, admin)
    other, _ = _make(PartnerFactory(name="Globex"), UserFactory())
    client.force_login(staff_user)
    index = client.get(reverse("admin_api_keys:index"))
    assert index.status_code == 200
    html = index.content.decode()
    assert key.prefix in html and other.prefix in html and secret not in html
    edit = reverse("admin_api_keys:edit", args=[key.pk])
    response = client.post(edit, {"revoked_reason": "Leaked in a public repository"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and key.revoked_reason == "Leaked in a public repository"
    other.refresh_from_db()
    assert other.revoked_at is None


def test_the_admin_screen_is_for_staff_only_and_deletes_nothing(
    client, company, staff_user, instructor
):
    partner, admin = company
    key, _ = _make(partner, admin)
    for user in (instructor, admin):
        client.force_login(user)
        assert client.get(reverse("admin_api_keys:index")).status_code in (302, 403)
        client.post(reverse("admin_api_keys:edit", args=[key.pk]), {"revoked_reason": "x"})
    client.force_login(staff_user)
    client.post(reverse("admin_api_keys:delete", args=[key.pk]))
    key.refresh_from_db()
    assert key.revoked_at is None
