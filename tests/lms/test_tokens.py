"""lms.tokens: personal API token services."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from lms import tokens
from lms.errors import DomainError
from lms.models import ApiToken
from lms.tokens import (
    token_authenticate,
    token_clear_expired,
    token_create,
    token_list_for_user,
    token_revoke,
)
from tests.lms.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


def test_create_stores_only_the_hash_and_prefix(user):
    token, plain = token_create(user=user, name=" cli ")
    assert len(plain) >= 43
    assert token.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == plain[:8]
    assert token.name == "cli"
    stored = ApiToken.objects.get()
    assert plain not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.last_used_at is None and stored.revoked_at is None


def test_tokens_are_unique(user):
    plains = {token_create(user=user)[1] for _ in range(10)}
    assert len(plains) == 10


def test_default_and_custom_lifetime(user, settings):
    settings.API_TOKEN_TTL_DAYS = 3
    token, _ = token_create(user=user)
    assert abs(token.expires_at - (token.created_at + timedelta(days=3))) < timedelta(seconds=1)
    token, _ = token_create(user=user, ttl=timedelta(hours=1))
    assert token.expires_at - token.created_at == timedelta(hours=1)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-5)])
def test_lifetime_must_be_positive(user, ttl):
    with pytest.raises(DomainError) as error:
        token_create(user=user, ttl=ttl)
    assert error.value.code == "invalid_token_ttl"
    assert not ApiToken.objects.exists()


def test_name_too_long(user):
    with pytest.raises(DomainError) as error:
        token_create(user=user, name="x" * 101)
    assert error.value.code == "invalid_token_name"


def test_active_token_cap(user, monkeypatch):
    monkeypatch.setattr(tokens, "MAX_ACTIVE_TOKENS_PER_USER", 2)
    first, _ = token_create(user=user)
    token_create(user=user)
    with pytest.raises(DomainError) as error:
        token_create(user=user)
    assert (error.value.status, error.value.code) == (409, "too_many_tokens")
    token_revoke(token=first)  # a revoked token frees a place
    token_create(user=user)


def test_authenticate_returns_the_user(user):
    _, plain = token_create(user=user)
    assert token_authenticate(plain) == user


@pytest.mark.parametrize("plain", ["", "not-a-token", "x" * 201, "caf\u00e9", "a\x00b"], ids=repr)
def test_authenticate_unknown_or_malformed(user, plain):
    token_create(user=user)
    with pytest.raises(DomainError) as error:
        token_authenticate(plain)
    assert (error.value.status, error.value.code) == (401, "invalid_token")


def test_authenticate_expired(user):
    token, plain = token_create(user=user, ttl=timedelta(hours=1))
    with pytest.raises(DomainError) as error:
        token_authenticate(plain, now=token.expires_at)
    assert (error.value.status, error.value.code) == (401, "token_expired")


def test_authenticate_revoked(user):
    token, plain = token_create(user=user)
    token_revoke(token=token)
    with pytest.raises(DomainError) as error:
        token_authenticate(plain)
    assert (error.value.status, error.value.code) == (401, "token_revoked")


def test_authenticate_inactive_user(user):
    _, plain = token_create(user=user)
    user.is_active = False
    user.save()
    with pytest.raises(DomainError) as error:
        token_authenticate(plain)
    assert error.value.code == "invalid_token"


def test_last_used_is_written_at_most_once_a_minute(user, django_assert_num_queries):
    token, plain = token_create(user=user)
    now = timezone.now()
    with django_assert_num_queries(2):  # lookup + UPDATE
        token_authenticate(plain, now=now)
    token.refresh_from_db()
    assert token.last_used_at == now
    with django_assert_num_queries(1):  # lookup only
        token_authenticate(plain, now=now + timedelta(seconds=59))
    with django_assert_num_queries(2):
        token_authenticate(plain, now=now + timedelta(seconds=61))
    token.refresh_from_db()
    assert token.last_used_at == now + timedelta(seconds=61)


def test_revoke_is_idempotent(user):
    token, _ = token_create(user=user)
    first = token_revoke(token=token).revoked_at
    assert first is not None
    later = timezone.now() + timedelta(hours=1)
    assert token_revoke(token=token, now=later).revoked_at == first


def test_list_for_user_is_own_newest_first(user):
    older, _ = token_create(user=user, name="older")
    newer, _ = token_create(user=user, name="newer")
    token_create(user=UserFactory())
    assert list(token_list_for_user(user=user)) == [newer, older]


def test_clear_expired_deletes_long_ended_tokens_only(user):
    now = timezone.now()
    live, _ = token_create(user=user)
    recently_expired, _ = token_create(user=user)
    long_expired, _ = token_create(user=user)
    recently_revoked, _ = token_create(user=user)
    long_revoked, _ = token_create(user=user)
    ApiToken.objects.filter(pk=recently_expired.pk).update(
        created_at=now - timedelta(days=40), expires_at=now - timedelta(days=1)
    )
    ApiToken.objects.filter(pk=long_expired.pk).update(
        created_at=now - timedelta(days=40), expires_at=now - timedelta(days=8)
    )
    ApiToken.objects.filter(pk=recently_revoked.pk).update(revoked_at=now - timedelta(days=1))
    ApiToken.objects.filter(pk=long_revoked.pk).update(revoked_at=now - timedelta(days=8))

    assert token_clear_expired(now=now) == 2
    assert set(ApiToken.objects.values_list("pk", flat=True)) == {
        live.pk,
        recently_expired.pk,
        recently_revoked.pk,
    }
    assert token_clear_expired(now=now) == 0  # idempotent
