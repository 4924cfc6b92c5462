"""Company API keys: making and revoking them, what a key may do, and what it may not."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from lms.permissions import PROGRAMME_STAFF
from lms.tokens import token_create
from partners.api_keys import services
from partners.api_keys.policies import authenticate_api_key
from partners.membership.services import membership_end
from partners.models import ApiKey, Invitation, Membership, Partner
from partners.signals import partner_status_changed
from tests.lms.api.helpers import assert_error
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerAdminFactory, PartnerFactory
from tests.partners.portal_factories import partner_with_admin, populate_members

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/partners/northwind/api-keys"


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def _token_headers(user) -> dict:
    return _bearer(token_create(user=user, name="t")[1])


@pytest.fixture
def api():
    return Client()


@pytest.fixture
def company():
    partner, admin = partner_with_admin(name="Northwind", slug="northwind")
    return partner, admin


def _key(partner, admin, scopes, **kwargs):
    return services.api_key_create(
        partner=partner, name="HR sync", scopes=scopes, created_by=admin, **kwargs
    )


# --- making, listing, revoking ----------------------------------------------------


def test_an_admin_creates_a_key_shown_once_and_stored_hashed(api, company):
    partner, admin = company
    response = api.post(
        KEYS,
        {"name": "HR sync", "scopes": ["partner:read", "members:write"]},
        content_type="application/json",
        headers=_token_headers(admin),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "key", "prefix", "scopes", "created_at", "expires_at"}
    assert re.fullmatch(r"pak_[A-Za-z0-9]{43}", body["key"])
    assert body["prefix"] == body["key"][:12]
    assert body["scopes"] == ["partner:read", "members:write"]
    assert body["expires_at"] is None
    stored = ApiKey.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(body["key"].encode()).hexdigest()
    assert body["key"] not in {str(v) for v in stored.__dict__.values()}
    assert stored.created_by == admin and stored.partner == partner

    listed = api.get(KEYS, headers=_token_headers(admin)).json()
    assert listed["object"] == "list" and listed["has_more"] is False
    (item,) = listed["data"]
    assert "key" not in item and body["key"] not in str(listed)
    assert item["prefix"] == body["prefix"]
    assert item["status"] == "active" and item["last_used_at"] is None
    assert item["created_by"] == admin.email


def test_list_shows_last_used_at_after_a_call(api, company):
    partner, admin = company
    key, secret = _key(partner, admin, ["partner:read"])
    assert api.get("/api/v1/partners/northwind/status", headers=_bearer(secret)).status_code == 200
    (item,) = api.get(KEYS, headers=_token_headers(admin)).json()["data"]
    assert item["last_used_at"] is not None


def test_last_used_at_is_written_at_most_once_a_minute(company, django_assert_num_queries):
    partner, admin = company
    key, secret = _key(partner, admin, ["partner:read"])
    now = timezone.now()
    with django_assert_num_queries(2):  # look-up, touch
        services.api_key_authenticate(secret, now=now)
    with django_assert_num_queries(1):  # look-up only
        services.api_key_authenticate(secret, now=now + timedelta(seconds=59))
    with django_assert_num_queries(2):
        services.api_key_authenticate(secret, now=now + timedelta(seconds=61))


def test_an_admin_revokes_a_key_and_it_stops_working(api, company):
    partner, admin = company
    key, secret = _key(partner, admin, ["partner:read"])
    headers = _token_headers(admin)
    assert api.delete(f"{KEYS}/{key.pk}", headers=headers).status_code == 204
    assert api.delete(f"{KEYS}/{key.pk}", headers=headers).status_code == 204  # idempotent
    key.refresh_from_db()
    assert key.revoked_at is not None
    response = api.get("/api/v1/partners/northwind/status", headers=_bearer(secret))
    assert_error(response, 401, "api_key_revoked")
    assert response["WWW-Authenticate"].startswith("Bearer")
    (item,) = api.get(KEYS, headers=headers).json()["data"]
    assert item["status"] == "revoked" and item["revoked_at"]


def test_another_partners_key_id_is_not_found_and_stays_usable(api, company):
    partner, admin = company
    other = PartnerFactory(slug="globex")
    other_key, other_secret = _key(other, UserFactory(), ["partner:read"])
    assert_error(
        api.delete(f"{KEYS}/{other_key.pk}", headers=_token_headers(admin)), 404, "not_found"
    )
    assert_error(
        api.delete(f"{KEYS}/{2**63}", headers=_token_headers(admin)), 422, "validation_error"
    )
    other_key.refresh_from_db()
    assert other_key.revoked_at is None


def test_employees_and_strangers_cannot_manage_keys(api, company):
    partner, admin = company
    employee = MembershipFactory(partner=partner).person
    for user in (employee, UserFactory()):
        headers = _token_headers(user)
        assert_error(api.get(KEYS, headers=headers), 404, "not_found")
        response = api.post(
            KEYS,
            {"name": "x", "scopes": ["partner:read"]},
            content_type="application/json",
            headers=headers,
        )
        assert_error(response, 404, "not_found")
    assert not ApiKey.objects.exists()


def test_staff_manage_every_partners_keys(api, company):
    partner, admin = company
    staff = UserFactory()
    staff.groups.add(Group.objects.get(name=PROGRAMME_STAFF))
    key, _ = _key(partner, admin, ["partner:read"])
    headers = _token_headers(staff)
    assert api.get(KEYS, headers=headers).json()["data"][0]["id"] == key.pk
    assert api.delete(f"{KEYS}/{key.pk}", headers=headers).status_code == 204


def test_a_key_cannot_manage_keys(api, company):
    partner, admin = company
    key, secret = _key(partner, admin, ["partner:read", "certificates:read", "members:write"])
    headers = _bearer(secret)
    assert_error(api.get(KEYS, headers=headers), 403, "insufficient_scope")
    response = api.post(
        KEYS,
        {"name": "x", "scopes": ["partner:read"]},
        content_type="application/json",
        headers=headers,
    )
    assert_error(response, 403, "insufficient_scope")
    assert_error(api.delete(f"{KEYS}/{key.pk}", headers=headers), 403, "insufficient_scope")
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


# --- bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"name": "x", "scopes": ["partner:write"]}, "validation_error"),
        ({"name": "x", "scopes": ["admin"]}, "validation_error"),
        ({"name": "x", "scopes": []}, "validation_error"),
        ({"name": "", "scopes": ["partner:read"]}, "validation_error"),
        ({"name": "x" * 101, "scopes": ["partner:read"]}, "validation_error"),
        ({"name": "a\x00b", "scopes": ["partner:read"]}, "validation_error"),
        ({"name": "x", "scopes": "partner:read"}, "validation_error"),
        ({"name": "x", "scopes": ["partner:read"], "expires_at": "yesterday"}, "validation_error"),
        (
            {"name": "x", "scopes": ["partner:read"], "expires_at": "2020-01-01T00:00:00Z"},
            "invalid_expiry",
        ),
        (
            {"name": "x", "scopes": ["partner:read"], "expires_at": "2099-01-01T00:00:00"},
            "invalid_expiry",
        ),
        ({"name": "x", "scopes": ["partner:read"], "owner": 1}, "validation_error"),
        (
            {"name": "x", "scopes": ["partner:read"], "expires_at": "2027-13-01T00:00:00Z"},
            "validation_error",
        ),
        ({"name": "x", "scopes": ["partner:read"], "expires_at": "2" * 41}, "validation_error"),
        ({"name": "x", "scopes": ["partner:read"], "expires_at": 12}, "validation_error"),
    ],
)
def test_bad_key_input_is_422_and_makes_nothing(api, company, payload, code):
    partner, admin = company
    response = api.post(
        KEYS, payload, content_type="application/json", headers=_token_headers(admin)
    )
    assert_error(response, 422, code)
    assert not ApiKey.objects.exists()


def test_the_service_refuses_an_unknown_scope_with_its_own_code(company):
    partner, admin = company
    with pytest.raises(services.DomainError) as error:
        _key(partner, admin, ["partner:read", "everything"])
    assert error.value.code == "unknown_scope" and error.value.status == 422


def test_a_partner_holds_a_bounded_number_of_active_keys(api, company, monkeypatch):
    partner, admin = company
    monkeypatch.setattr(services, "MAX_ACTIVE_KEYS_PER_PARTNER", 2)
    _key(partner, admin, ["partner:read"])
    _key(partner, admin, ["partner:read"])
    response = api.post(
        KEYS,
        {"name": "x", "scopes": ["partner:read"]},
        content_type="application/json",
        headers=_token_headers(admin),
    )
    assert_error(response, 409, "too_many_api_keys")


@pytest.mark.parametrize(
    "secret",
    ["pak_", "pak_" + "a" * 43, "pak_" + "a" * 300, "pak_\u00e9\u00e9", "pak_a b"],
)
def test_unknown_or_malformed_keys_are_401_invalid_api_key(api, company, secret):
    assert_error(
        api.get("/api/v1/partners/northwind/status", headers=_bearer(secret)),
        401,
        "invalid_api_key",
    )


def test_a_key_with_an_expiry_works_until_then(api, company):
    partner, admin = company
    when = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    response = api.post(
        KEYS,
        {"name": "Temp", "scopes": ["partner:read"], "expires_at": when.isoformat()},
        content_type="application/json",
        headers=_token_headers(admin),
    )
    assert response.status_code == 201, response.content
    key = ApiKey.objects.get()
    assert key.expires_at == when
    secret = response.json()["key"]
    assert api.get("/api/v1/partners/northwind/status", headers=_bearer(secret)).status_code == 200


def test_an_expired_key_is_401_api_key_expired(api, company):
    partner, admin = company
    key, secret = _key(
        partner, admin, ["partner:read"], expires_at=timezone.now() + timedelta(hours=1)
    )
    ApiKey.objects.filter(pk=key.pk).update(
        created_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    response = api.get("/api/v1/partners/northwind/status", headers=_bearer(secret))
    assert_error(response, 401, "api_key_expired")


# --- what a key may do -------------------------------------------------------------


def test_partner_read_sees_status_and_members_with_credentials(api, company):
    partner, admin = company
    populate_members(partner, 2)
    _, secret = _key(partner, admin, ["partner:read"])
    headers = _bearer(secret)
    status = api.get("/api/v1/partners/northwind/status", headers=headers)
    assert status.status_code == 200 and status.json()["partner"]["slug"] == "northwind"
    members = api.get("/api/v1/partners/northwind/members", headers=headers)
    assert members.status_code == 200
    body = members.json()
    assert len(body["data"]) == 3
    assert any(m["certifications"] for m in body["data"])


def test_a_key_lacking_the_scope_gets_403_insufficient_scope_and_changes_nothing(api, company):
    partner, admin = company
    employee = MembershipFactory(partner=partner)
    _, secret = _key(partner, admin, ["certificates:read"])
    headers = _bearer(secret)
    assert_error(
        api.get("/api/v1/partners/northwind/status", headers=headers), 403, "insufficient_scope"
    )
    assert_error(
        api.get("/api/v1/partners/northwind/members", headers=headers), 403, "insufficient_scope"
    )
    response = api.post(
        "/api/v1/partners/northwind/invitations",
        {"email": "new@example.com"},
        content_type="application/json",
        headers=headers,
    )
    assert_error(response, 403, "insufficient_scope")
    response = api.delete(f"/api/v1/partners/northwind/members/{employee.pk}", headers=headers)
    assert_error(response, 403, "insufficient_scope")
    _, read_secret = _key(partner, admin, ["partner:read"])
    response = api.post("/api/v1/partners/northwind/certificates.zip", headers=_bearer(read_secret))
    assert_error(response, 403, "insufficient_scope")
    assert not Invitation.objects.exists()
    employee.refresh_from_db()
    assert employee.ended is None


def test_no_key_changes_a_members_role(api, company):
    partner, admin = company
    employee = MembershipFactory(partner=partner)
    _, secret = _key(partner, admin, ["partner:read", "certificates:read", "members:write"])
    response = api.patch(
        f"/api/v1/partners/northwind/members/{employee.pk}",
        {"role": "admin"},
        content_type="application/json",
        headers=_bearer(secret),
    )
    assert_error(response, 403, "insufficient_scope")
    employee.refresh_from_db()
    assert employee.role == "employee"


def test_members_write_invites_and_ends_memberships(
    api, company, django_capture_on_commit_callbacks
):
    partner, admin = company
    employee = MembershipFactory(partner=partner)
    key, secret = _key(partner, admin, ["members:write"])
    headers = _bearer(secret)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/partners/northwind/invitations",
            {"email": "new@example.com"},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 201, response.content
    invitation = Invitation.objects.get()
    assert invitation.partner == partner and invitation.created_by == admin
    response = api.delete(f"/api/v1/partners/northwind/members/{employee.pk}", headers=headers)
    assert response.status_code == 204
    employee.refresh_from_db()
    assert employee.ended is not None and key.prefix in employee.ended_reason


def test_certificates_read_starts_and_reads_the_zip_and_gets_pdfs(api, company, settings, tmp_path):
    partner, admin = company
    people, _, _ = populate_members(partner, 1)
    _, secret = _key(partner, admin, ["certificates:read"])
    headers = _bearer(secret)
    started = api.post("/api/v1/partners/northwind/certificates.zip", headers=headers)
    assert started.status_code == 202, started.content
    state = api.get("/api/v1/partners/northwind/certificates.zip", headers=headers)
    assert state.status_code == 200
    credential = people[0].credentials.get()
    pdf = api.get(
        f"/api/v1/partners/northwind/credentials/{credential.public_id}/pdf", headers=headers
    )
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    b"".join(pdf.streaming_content)
    stranger_credential_url = "/api/v1/partners/northwind/credentials/nope/pdf"
    assert_error(api.get(stranger_credential_url, headers=headers), 404, "not_found")


def test_a_former_members_pdf_is_not_served_to_the_key(api, company):
    partner, admin = company
    people, _, _ = populate_members(partner, 1)
    credential = people[0].credentials.get()
    membership_end(membership=Membership.objects.get(person=people[0]), reason="left")
    _, secret = _key(partner, admin, ["certificates:read"])
    url = f"/api/v1/partners/northwind/credentials/{credential.public_id}/pdf"
    assert_error(api.get(url, headers=_bearer(secret)), 404, "not_found")


# --- what a key may not do ---------------------------------------------------------


def test_a_key_gets_404_on_another_partners_urls(api, company):
    partner, admin = company
    PartnerFactory(slug="globex")
    _, secret = _key(partner, admin, ["partner:read", "certificates:read", "members:write"])
    headers = _bearer(secret)
    for path in (
        "/api/v1/partners/globex/status",
        "/api/v1/partners/globex/members",
        "/api/v1/partners/globex/certificates.zip",
        "/api/v1/partners/globex/api-keys",
        "/api/v1/partners/no-such-partner/status",
    ):
        assert_error(api.get(path, headers=headers), 404, "not_found")
    response = api.post(
        "/api/v1/partners/globex/invitations",
        {"email": "x@example.com"},
        content_type="application/json",
        headers=headers,
    )
    assert_error(response, 404, "not_found")
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me"),
        ("patch", "/api/v1/me"),
        ("get", "/api/v1/me/credentials"),
        ("get", "/api/v1/me/progress"),
        ("get", "/api/v1/auth/tokens"),
        ("delete", "/api/v1/auth/tokens/1"),
        ("get", "/api/v1/attempts/1"),
        ("get", "/api/v1/courses"),
        ("get", "/api/v1/exams"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/projects"),
        ("get", "/api/v1/review-queue"),
    ],
)
def test_a_key_gets_404_on_personal_endpoints(api, company, method, path):
    partner, admin = company
    _, secret = _key(partner, admin, ["partner:read", "certificates:read", "members:write"])
    response = getattr(api, method)(path, content_type="application/json", headers=_bearer(secret))
    assert_error(response, 404, "not_found")


def test_a_key_keeps_working_after_the_admin_who_made_it_leaves(api, company):
    partner, admin = company
    PartnerAdminFactory(partner=partner)  # a second admin keeps the partner managed
    _, secret = _key(partner, admin, ["partner:read"])
    membership_end(membership=Membership.objects.get(person=admin), reason="left")
    response = api.get("/api/v1/partners/northwind/members", headers=_bearer(secret))
    assert response.status_code == 200
    assert admin.email not in [m["email"] for m in response.json()["data"]]
    # ...while the admin's own token no longer reaches the partner.
    assert_error(
        api.get("/api/v1/partners/northwind/members", headers=_token_headers(admin)),
        404,
        "not_found",
    )


def test_a_suspended_partners_keys_keep_read_access_only(api, company):
    partner, admin = company
    employee = MembershipFactory(partner=partner)
    _, secret = _key(partner, admin, ["partner:read", "members:write"])
    Partner.objects.filter(pk=partner.pk).update(
        status=Partner.Status.SUSPENDED, suspended_from="active"
    )
    headers = _bearer(secret)
    assert api.get("/api/v1/partners/northwind/status", headers=headers).status_code == 200
    assert api.get("/api/v1/partners/northwind/members", headers=headers).status_code == 200
    response = api.delete(f"/api/v1/partners/northwind/members/{employee.pk}", headers=headers)
    assert_error(response, 403, "partner_suspended")
    employee.refresh_from_db()
    assert employee.ended is None


def test_terminating_a_partner_revokes_its_keys(api, company):
    partner, admin = company
    other = PartnerFactory(slug="globex")
    key, secret = _key(partner, admin, ["partner:read"])
    other_key, _ = _key(other, UserFactory(), ["partner:read"])
    partner_status_changed.send(
        sender=Partner,
        partner=partner,
        from_state="active",
        to_state="terminated",
        reason="Breach of agreement",
        at=timezone.now(),
        by=None,
    )
    key.refresh_from_db()
    other_key.refresh_from_db()
    assert key.revoked_at is not None and "Breach of agreement" in key.revoked_reason
    assert other_key.revoked_at is None
    assert_error(
        api.get("/api/v1/partners/northwind/status", headers=_bearer(secret)),
        401,
        "api_key_revoked",
    )


def test_other_status_changes_leave_keys_alone(company):
    partner, admin = company
    key, _ = _key(partner, admin, ["partner:read"])
    partner_status_changed.send(
        sender=Partner,
        partner=partner,
        from_state="active",
        to_state="suspended",
        reason="Late",
        at=timezone.now(),
        by=None,
    )
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_terminated_partners_key_is_refused_even_before_revocation(api, company):
    partner, admin = company
    key, secret = _key(partner, admin, ["partner:read"])
    Partner.objects.filter(pk=partner.pk).update(status="terminated")
    assert_error(
        api.get("/api/v1/partners/northwind/status", headers=_bearer(secret)),
        401,
        "api_key_revoked",
    )


def test_request_api_key_is_the_key_and_the_user_is_anonymous(rf, company):
    partner, admin = company
    key, secret = _key(partner, admin, ["partner:read"])
    request = rf.get("/api/v1/partners/northwind/status")
    request.resolver_match = resolve("/api/v1/partners/northwind/status")
    principal = authenticate_api_key(request, secret)
    assert request.api_key.pk == key.pk
    assert not request.user.is_authenticated and not principal.is_authenticated


def test_request_api_key_is_none_for_people_and_the_key_for_keys(api, company):
    partner, admin = company
    key, secret = _key(partner, admin, ["partner:read"])
    by_person = api.get("/api/v1/partners/northwind/status", headers=_token_headers(admin))
    assert by_person.status_code == 200 and by_person.wsgi_request.api_key is None
    by_key = api.get("/api/v1/partners/northwind/status", headers=_bearer(secret))
    assert by_key.status_code == 200 and by_key.wsgi_request.api_key.pk == key.pk
    assert not by_key.wsgi_request.user.is_authenticated
