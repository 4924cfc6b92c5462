"""POST /api/v1/auth/token, GET /api/v1/auth/tokens, DELETE /api/v1/auth/tokens/{id}."""

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from lms.models import ApiToken
from lms.tokens import token_create, token_revoke
from tests.lms.api.helpers import assert_error
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory

TOKEN_URL = "/api/v1/auth/token"
LIST_URL = "/api/v1/auth/tokens"


def ask_token(client, email, password=DEFAULT_PASSWORD, meta=None, **fields):
    return client.post(
        TOKEN_URL,
        {"email": email, "password": password, **fields},
        content_type="application/json",
        **(meta or {}),
    )


# --- create -------------------------------------------------------------------


@pytest.mark.django_db
def test_right_credentials_give_a_working_token(api_client, user):
    response = ask_token(api_client, user.email, name="  laptop  ")
    assert response.status_code == 201, response.content
    body = response.json()
    plain = body["token"]
    assert len(plain) >= 43  # token_urlsafe(32): 256 bits
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.user == user
    assert stored.name == "laptop"
    assert stored.prefix == plain[:8] == body["prefix"]
    assert stored.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in {stored.key_hash, stored.name}  # never stored
    expected = timezone.now() + timedelta(days=30)
    assert abs((stored.expires_at - expected).total_seconds()) < 60

    me = api_client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.status_code == 200
    assert me.json()["email"] == user.email


@pytest.mark.django_db
def test_email_is_matched_regardless_of_case_and_spaces(api_client, user):
    response = ask_token(api_client, "  LEARNER@Example.COM ")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "password"),
    [("learner@example.com", "wrong-password"), ("nobody@example.com", DEFAULT_PASSWORD)],
)
def test_wrong_credentials_are_401_invalid_credentials(api_client, user, email, password):
    response = ask_token(api_client, email, password)
    assert_error(response, 401, "invalid_credentials")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_inactive_account_gets_no_token(api_client):
    inactive = UserFactory(is_active=False)
    assert_error(ask_token(api_client, inactive.email), 401, "invalid_credentials")


@pytest.mark.django_db
def test_token_endpoint_needs_no_csrf_token(user):
    # Programs call it; a signed-in browser session must not make it demand CSRF.
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert ask_token(client, user.email).status_code == 201


# --- throttling (lms.throttle) ----------------------------------------------


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(api_client, user):
    for _ in range(4):
        assert_error(
            ask_token(api_client, user.email, "wrong-password"), 401, "invalid_credentials"
        )
    # The fifth failure reaches the limit: it is answered with the pause already.
    fifth = ask_token(api_client, user.email, "wrong-password")
    assert_error(fifth, 429, "too_many_attempts")
    sixth = ask_token(api_client, user.email)
    body = assert_error(sixth, 429, "too_many_attempts")
    assert "try again in 15 minutes" in body["detail"]
    assert 14 * 60 < int(sixth["Retry-After"]) <= 15 * 60
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_lockout_ignores_the_letter_case_of_the_email(api_client, user):
    for variant in ["learner@example.com", "Learner@example.com", "LEARNER@example.com"] * 2:
        ask_token(api_client, variant, "wrong-password")
    assert_error(ask_token(api_client, user.email), 429, "too_many_attempts")


@pytest.mark.django_db
def test_wrong_passwords_for_other_accounts_do_not_lock_out_the_ip(api_client):
    people = UserFactory.create_batch(6)
    for person in people[:5]:
        for _ in range(5):
            ask_token(api_client, person.email, "wrong-password")
    # A sixth person, right password, same IP: signed in.
    response = ask_token(api_client, people[5].email)
    assert response.status_code == 201, response.content


# --- list ---------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_only_own_tokens_without_secrets(api_client, user, token, bearer):
    token_create(user=UserFactory(), name="someone else's")
    revoked, _ = token_create(user=user, name="old")
    token_revoke(token=revoked)

    response = api_client.get(LIST_URL, headers=bearer)
    assert response.status_code == 200
    rows = response.json()["data"]
    assert [row["name"] for row in rows] == ["old", "ci"]
    assert set(rows[0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    }
    assert rows[0]["revoked_at"] is not None
    assert rows[1]["last_used_at"] is not None  # this very request used it
    assert token[1] not in response.content.decode()


# --- revoke ---------------------------------------------------------------------


@pytest.mark.django_db
def test_revoke_own_token_then_it_is_refused(api_client, token, bearer):
    row, _ = token
    response = api_client.delete(f"{LIST_URL}/{row.pk}", headers=bearer)
    assert response.status_code == 204
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert_error(api_client.get("/api/v1/me", headers=bearer), 401, "token_revoked")


@pytest.mark.django_db
def test_revoke_is_idempotent(api_client, user, bearer):
    other, _ = token_create(user=user, name="other")
    assert api_client.delete(f"{LIST_URL}/{other.pk}", headers=bearer).status_code == 204
    first = ApiToken.objects.get(pk=other.pk).revoked_at
    assert api_client.delete(f"{LIST_URL}/{other.pk}", headers=bearer).status_code == 204
    assert ApiToken.objects.get(pk=other.pk).revoked_at == first


@pytest.mark.django_db
def test_revoking_someone_elses_token_is_404(api_client, bearer):
    theirs, _ = token_create(user=UserFactory())
    response = api_client.delete(f"{LIST_URL}/{theirs.pk}", headers=bearer)
    assert_error(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("token_id", "status", "code"),
    [
        ("999999", 404, "not_found"),
        ("0", 422, "validation_error"),
        ("-1", 422, "validation_error"),
        ("abc", 422, "validation_error"),
        ("99999999999999999999999", 422, "validation_error"),
        ("1.5", 422, "validation_error"),
    ],
)
def test_revoke_bad_ids(api_client, bearer, token_id, status, code):
    assert_error(api_client.delete(f"{LIST_URL}/{token_id}", headers=bearer), status, code)


# --- expired / revoked tokens -----------------------------------------------------


@pytest.mark.django_db
def test_expired_token_is_401_token_expired(api_client, token, bearer):
    row, _ = token
    ApiToken.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - timedelta(days=40),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert_error(api_client.get("/api/v1/me", headers=bearer), 401, "token_expired")


@pytest.mark.django_db
def test_token_of_deactivated_account_is_refused(api_client, user, bearer):
    user.is_active = False
    user.save()
    assert_error(api_client.get("/api/v1/me", headers=bearer), 401, "invalid_token")


@pytest.mark.django_db
def test_bearer_writes_need_no_csrf_token(user, bearer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.patch(
        "/api/v1/me", {"first_name": "Ada"}, content_type="application/json", headers=bearer
    )
    assert response.status_code == 200, response.content
