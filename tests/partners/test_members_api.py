import pytest
from django.core import mail
from django.test import Client

from lms.tokens import token_create
from partners.models import Invitation, Membership
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerAdminFactory
from tests.partners.portal_factories import bulk_members, partner_with_admin, populate_members

pytestmark = pytest.mark.django_db


def _headers(user):
    return {"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"}


@pytest.fixture
def company():
    partner, admin = partner_with_admin(name="Northwind", slug="northwind")
    return partner, admin, _headers(admin)


@pytest.fixture
def api():
    return Client()


def test_members_list(api, company):
    partner, admin, headers = company
    people, course, exam = populate_members(partner, 2)
    response = api.get("/api/v1/partners/northwind/members", headers=headers)
    assert response.status_code == 200
    body = response.json()["data"]
    assert [m["email"] for m in body][0] == admin.email
    member = next(m for m in body if m["person_id"] == people[0].pk)
    assert member["role"] == "employee"
    assert member["courses_completed"][0]["title"] == course.title
    assert member["attempts_count"] == 2
    assert member["last_attempt"]["passed"] is True
    assert member["certifications"][0]["status"] == "active"
    assert set(member) == {
        "id",
        "person_id",
        "email",
        "name",
        "role",
        "started",
        "courses_completed",
        "attempts_count",
        "last_attempt",
        "certifications",
    }


MEMBERS_API_QUERIES = 8  # token + partner + groups + admin check + roster (4)


def test_members_list_query_count_is_the_same_for_5_and_500_members(
    api, company, django_assert_num_queries
):
    partner, _, headers = company
    _, course, exam = bulk_members(partner, 4)
    url = "/api/v1/partners/northwind/members?limit=100"
    api.get(url, headers=headers)  # the token's first-use touch
    with django_assert_num_queries(MEMBERS_API_QUERIES):
        response = api.get(url, headers=headers)
    assert len(response.json()["data"]) == 5
    bulk_members(partner, 495, course=course, exam=exam)
    with django_assert_num_queries(MEMBERS_API_QUERIES):
        response = api.get(url, headers=headers)
    body = response.json()["data"]
    assert len(body) == 100 and response.json()["has_more"] is True
    assert all(m["courses_completed"] and m["certifications"] for m in body[1:])
    assert all(m["attempts_count"] == 2 and m["last_attempt"]["passed"] for m in body[1:])


def test_invite_by_api(api, company, django_capture_on_commit_callbacks):
    partner, _, headers = company
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/partners/northwind/invitations",
            {"email": "Dev@Example.com", "role": "admin"},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["role"], body["partner"]) == (
        "dev@example.com",
        "admin",
        "northwind",
    )
    assert "token" not in body
    assert mail.outbox[0].to == ["dev@example.com"]
    default = api.post(
        "/api/v1/partners/northwind/invitations",
        {"email": "two@example.com"},
        content_type="application/json",
        headers=headers,
    )
    assert default.status_code == 201 and default.json()["role"] == "employee"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"email": "not an email"}, 422, "invalid_email"),
        ({"email": ""}, 422, "invalid_email"),
        ({}, 422, "validation_error"),
        ({"email": "a@example.com", "role": "owner"}, 422, "validation_error"),
        ({"email": "a@example.com", "extra": 1}, 422, "validation_error"),
        ({"email": ["a@example.com"]}, 422, "validation_error"),
        ({"email": "a" * 300 + "@example.com"}, 422, "validation_error"),
    ],
)
def test_bad_invitation_input(api, company, payload, status, code):
    _, _, headers = company
    response = api.post(
        "/api/v1/partners/northwind/invitations",
        payload,
        content_type="application/json",
        headers=headers,
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Invitation.objects.exists()


def test_duplicate_invitation_and_members_here_or_elsewhere(api, company):
    _, _, headers = company
    url = "/api/v1/partners/northwind/invitations"
    first = api.post(
        url, {"email": "x@example.com"}, content_type="application/json", headers=headers
    )
    assert first.status_code == 201
    again = api.post(
        url, {"email": "X@example.com"}, content_type="application/json", headers=headers
    )
    assert (again.status_code, again.json()["code"]) == (409, "duplicate_invitation")
    # A member elsewhere is invited like anyone: the answer tells nothing about them.
    busy = MembershipFactory().person
    elsewhere = api.post(
        url, {"email": busy.email}, content_type="application/json", headers=headers
    )
    assert elsewhere.status_code == 201
    assert set(elsewhere.json()) == {"id", "email", "role", "partner", "created_at", "expires_at"}
    # A member of this partner is on the inviter's own roster: saying so leaks nothing.
    mine = MembershipFactory(partner=company[0]).person
    refused = api.post(url, {"email": mine.email}, content_type="application/json", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "already_member")
    malformed = api.post(url, "{nope", content_type="application/json", headers=headers)
    assert (malformed.status_code, malformed.json()["code"]) == (400, "malformed_json")


def test_end_membership_by_api(api, company):
    partner, admin, headers = company
    employee = MembershipFactory(partner=partner)
    url = f"/api/v1/partners/northwind/members/{employee.pk}"
    assert api.delete(url, headers=headers).status_code == 204
    employee.refresh_from_db()
    assert employee.ended is not None
    gone = api.delete(url, headers=headers)
    assert (gone.status_code, gone.json()["code"]) == (404, "member_not_found")


@pytest.mark.parametrize("member_id", ["999999", "0", "-1", "abc", str(2**64)])
def test_unknown_member_ids(api, company, member_id):
    _, _, headers = company
    response = api.delete(f"/api/v1/partners/northwind/members/{member_id}", headers=headers)
    assert response.status_code in (404, 422)
    assert response.json()["code"] in ("member_not_found", "validation_error")


def test_another_partners_member_is_not_found(api, company):
    _, _, headers = company
    outsider = MembershipFactory()
    response = api.delete(f"/api/v1/partners/northwind/members/{outsider.pk}", headers=headers)
    assert (response.status_code, response.json()["code"]) == (404, "member_not_found")
    outsider.refresh_from_db()
    assert outsider.ended is None


def test_the_last_admin_cannot_be_ended_or_demoted(api, company):
    partner, admin, headers = company
    mine = Membership.objects.get(person=admin)
    url = f"/api/v1/partners/northwind/members/{mine.pk}"
    ended = api.delete(url, headers=headers)
    assert (ended.status_code, ended.json()["code"]) == (409, "last_admin")
    demoted = api.patch(url, {"role": "employee"}, content_type="application/json", headers=headers)
    assert (demoted.status_code, demoted.json()["code"]) == (409, "last_admin")
    other = PartnerAdminFactory(partner=partner)
    ok = api.patch(url, {"role": "employee"}, content_type="application/json", headers=headers)
    assert ok.status_code == 200 and ok.json()["role"] == "employee"
    # no longer an admin: the partner disappears for this caller
    assert api.get("/api/v1/partners/northwind/members", headers=headers).status_code == 404
    assert other.role == "admin"


def test_everyone_but_its_admins_and_staff_gets_404(api, company, staff_user):
    partner, _, _ = company
    employee = MembershipFactory(partner=partner).person
    _, other_admin = partner_with_admin()
    member = MembershipFactory(partner=partner)
    for outsider in (employee, other_admin, UserFactory()):
        headers = _headers(outsider)
        for method, url, body in (
            ("get", "/api/v1/partners/northwind/members", None),
            ("post", "/api/v1/partners/northwind/invitations", {"email": "z@example.com"}),
            ("delete", f"/api/v1/partners/northwind/members/{member.pk}", None),
        ):
            kwargs = {"headers": headers}
            if body is not None:
                kwargs.update(data=body, content_type="application/json")
            response = getattr(api, method)(url, **kwargs)
            assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert not Invitation.objects.exists()
    member.refresh_from_db()
    assert member.ended is None
    assert api.get("/api/v1/partners/northwind/members").status_code == 401
    staff = _headers(staff_user)
    assert api.get("/api/v1/partners/northwind/members", headers=staff).status_code == 200
    assert api.get("/api/v1/partners/nope/members", headers=staff).status_code == 404


@pytest.mark.parametrize("status", ["applicant", "suspended", "terminated"])
def test_unapproved_partners_cannot_invite_by_api(api, company, status):
    partner, _, headers = company
    partner.status = status
    partner.suspended_from = "active" if status == "suspended" else ""
    partner.save()
    response = api.post(
        "/api/v1/partners/northwind/invitations",
        {"email": "a@example.com"},
        content_type="application/json",
        headers=headers,
    )
    assert (response.status_code, response.json()["code"]) == (403, "partner_not_approved")
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_invitation_limit_by_api_is_429_with_retry_after(api, company, settings):
    settings.INVITATION_DAILY_LIMIT = 1
    _, _, headers = company
    url = "/api/v1/partners/northwind/invitations"
    first = api.post(
        url, {"email": "a@example.com"}, content_type="application/json", headers=headers
    )
    assert first.status_code == 201
    second = api.post(
        url, {"email": "b@example.com"}, content_type="application/json", headers=headers
    )
    assert (second.status_code, second.json()["code"]) == (429, "too_many_requests")
    assert int(second["Retry-After"]) > 0
    assert set(second.json()) == {"detail", "code"}
