"""GET and PATCH /api/v1/me."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from lms.models import ApiToken
from lms.tokens import token_create
from tests.lms.api.helpers import assert_error, csrf_token_for
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerAdminFactory

ME = "/api/v1/me"


def patch_me(client, payload, **kwargs):
    return client.patch(ME, payload, content_type="application/json", **kwargs)


# --- GET ------------------------------------------------------------------------


@pytest.mark.django_db
def test_me_without_partner_or_roles(api_client, user, bearer):
    response = api_client.get(ME, headers=bearer)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": "learner@example.com",
        "legal_name": user.legal_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "time_zone": "",
        "roles": [],
        "partner": None,
        "partner_role": None,
    }


@pytest.mark.django_db
def test_me_with_session(csrf_client, user):
    response = csrf_client.get(ME)
    assert response.status_code == 200
    assert response.json()["id"] == user.pk


@pytest.mark.django_db
def test_me_shows_current_partner_and_role(api_client, user, bearer):
    MembershipFactory(
        person=user,
        ended=timezone.now() - timedelta(days=1),
        started=timezone.now() - timedelta(days=90),
    )
    current = PartnerAdminFactory(person=user, partner__name="Acme Pay", partner__slug="acme")
    body = api_client.get(ME, headers=bearer).json()
    assert body["partner"] == {"slug": "acme", "name": "Acme Pay"}
    assert body["partner_role"] == "admin"
    assert current.partner.slug == "acme"


@pytest.mark.django_db
def test_me_employee_role(api_client, user, bearer):
    MembershipFactory(person=user)
    assert api_client.get(ME, headers=bearer).json()["partner_role"] == "employee"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("groups", "superuser", "roles"),
    [
        (["Instructors"], False, ["instructor"]),
        (["Programme staff"], False, ["programme_staff", "instructor"]),
        ([], True, ["superuser", "programme_staff", "instructor"]),
        (["Some other group"], False, []),
    ],
)
def test_me_roles(api_client, user, bearer, groups, superuser, roles):
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    if superuser:
        user.is_superuser = True
        user.save()
    assert api_client.get(ME, headers=bearer).json()["roles"] == roles


@pytest.mark.django_db
@pytest.mark.parametrize("others", [1, 30])
def test_me_query_count_does_not_grow(api_client, user, bearer, others, django_assert_num_queries):
    # Other people, their tokens and memberships, and more tokens of this user.
    for person in UserFactory.create_batch(others):
        token_create(user=person)
        MembershipFactory(person=person)
    for _ in range(min(others, 20)):
        token_create(user=user)
    MembershipFactory(person=user)
    user.groups.add(Group.objects.get_or_create(name="Instructors")[0])
    # Warm: the first use of a token records last_used_at (one UPDATE a minute).
    api_client.get(ME, headers=bearer)
    # token+user, groups, membership+partner.
    with django_assert_num_queries(3):
        response = api_client.get(ME, headers=bearer)
    assert response.status_code == 200


@pytest.mark.django_db
def test_first_use_of_a_token_adds_one_write(api_client, bearer, django_assert_num_queries):
    with django_assert_num_queries(4):
        api_client.get(ME, headers=bearer)
    assert ApiToken.objects.get().last_used_at is not None


# --- PATCH ----------------------------------------------------------------------


@pytest.mark.django_db
def test_patch_updates_given_names_only(api_client, user, bearer):
    before_first = user.first_name
    response = patch_me(api_client, {"legal_name": "  Ada   King  Lovelace "}, headers=bearer)
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.legal_name == "Ada King Lovelace"
    assert user.first_name == before_first
    assert response.json()["legal_name"] == "Ada King Lovelace"


@pytest.mark.django_db
def test_patch_all_names(api_client, user, bearer):
    response = patch_me(
        api_client,
        {"legal_name": "Grace Hopper", "first_name": " Grace ", "last_name": "Hopper"},
        headers=bearer,
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.legal_name, user.first_name, user.last_name) == (
        "Grace Hopper",
        "Grace",
        "Hopper",
    )


@pytest.mark.django_db
def test_patch_empty_object_changes_nothing(api_client, user, bearer):
    before = (user.legal_name, user.first_name, user.last_name)
    assert patch_me(api_client, {}, headers=bearer).status_code == 200
    user.refresh_from_db()
    assert (user.legal_name, user.first_name, user.last_name) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"legal_name": ""},
        {"legal_name": "    "},
        {"legal_name": None},
        {"first_name": None},
        {"legal_name": "x" * 201},
        {"first_name": "x" * 151},
        {"last_name": "x" * 151},
        {"legal_name": "Ada\x00Lovelace"},
        {"legal_name": "Ada\nLovelace"},
        {"legal_name": 42},
        {"legal_name": ["Ada"]},
        {"email": "new@example.com"},
        {"is_superuser": True},
    ],
)
def test_patch_bad_input_is_422_and_nothing_changes(api_client, user, bearer, payload):
    before = (user.legal_name, user.first_name, user.last_name, user.email, user.is_superuser)
    response = patch_me(api_client, payload, headers=bearer)
    assert_error(response, 422, "validation_error")
    user.refresh_from_db()
    assert (
        user.legal_name,
        user.first_name,
        user.last_name,
        user.email,
        user.is_superuser,
    ) == before


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[]", b'"Ada"', b"null"])
def test_patch_non_object_body_is_422(api_client, bearer, body):
    response = api_client.generic(
        "PATCH", ME, body, content_type="application/json", headers=bearer
    )
    assert_error(response, 422, "validation_error")


@pytest.mark.django_db
def test_patch_malformed_json_is_400(api_client, bearer):
    response = api_client.generic(
        "PATCH", ME, b'{"legal_name": ', content_type="application/json", headers=bearer
    )
    assert_error(response, 400, "malformed_json")


@pytest.mark.django_db
def test_patch_with_session_needs_csrf(csrf_client, user):
    assert_error(patch_me(csrf_client, {"first_name": "Eve"}), 403, "csrf_failed")
    user.refresh_from_db()
    assert user.first_name != "Eve"

    token = csrf_token_for(csrf_client)
    response = patch_me(csrf_client, {"first_name": "Eve"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.first_name == "Eve"


@pytest.mark.django_db
def test_patch_anonymous_is_401(api_client):
    assert_error(patch_me(api_client, {"first_name": "Eve"}), 401, "not_authenticated")


# --- time zone ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_reads_and_changes_the_zone(api_client, user, bearer):
    assert api_client.get(ME, headers=bearer).json()["time_zone"] == ""
    response = patch_me(api_client, {"time_zone": "America/New_York"}, headers=bearer)
    assert response.status_code == 200
    assert response.json()["time_zone"] == "America/New_York"
    back = patch_me(api_client, {"time_zone": ""}, headers=bearer)
    assert back.json()["time_zone"] == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone", ["Europe/Atlantis", "europe/paris", "Etc/GMT+99", "Europe/../Paris"]
)
def test_the_api_refuses_an_unknown_zone(api_client, user, bearer, zone):
    user.time_zone = "Europe/Paris"
    user.save(update_fields=["time_zone"])
    response = patch_me(api_client, {"time_zone": zone}, headers=bearer)
    assert_error(response, 422, "invalid_time_zone")
    user.refresh_from_db()
    assert user.time_zone == "Europe/Paris"


@pytest.mark.django_db
def test_api_timestamps_stay_in_utc_whatever_the_zone(csrf_client, user, token):
    user.time_zone = "Asia/Tokyo"
    user.save(update_fields=["time_zone"])
    tokens = csrf_client.get("/api/v1/auth/tokens").json()["data"]
    assert tokens and all(t["created_at"].endswith(("Z", "+00:00")) for t in tokens)
