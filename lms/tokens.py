"""Personal API tokens: create, authenticate, revoke, list, clear.

Contract:
- A token is `secrets.token_urlsafe(32)` (256 random bits). It is returned
  once by `token_create` and never stored: the database holds its SHA-256
  (`key_hash`, unique) and its first 8 characters (`prefix`, for display).
- `token_authenticate(plain)` returns the token's active user or raises
  `DomainError` with status 401 and a stable code: `invalid_token` (unknown,
  malformed, or the person's account is inactive), `token_expired`,
  `token_revoked`. It records `last_used_at` at most once a minute per token,
  with a conditional UPDATE, so busy clients do not cause a write per request.
- `token_revoke` is idempotent: revoking twice keeps the first `revoked_at`.
- `token_clear_expired` deletes tokens that expired or were revoked more than
  `TOKEN_KEEP_AFTER_END` ago (until then the owner still sees them listed and
  a client gets `token_expired`/`token_revoked` rather than `invalid_token`).
- A person holds at most `MAX_ACTIVE_TOKENS_PER_USER` usable tokens
  (`Conflict`, code `too_many_tokens`; a soft cap: two simultaneous creations
  may pass it by one).
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .db import convert_row
from .errors import Conflict, DomainError
from .models import ApiToken

PREFIX_LENGTH = 8
TOKEN_NAME_MAX_LENGTH = 100
# Longer than any token we issue (43 characters): anything longer is rejected
# before hashing so a client cannot make us hash megabytes per request.
TOKEN_MAX_LENGTH = 200
LAST_USED_RESOLUTION = timedelta(minutes=1)
TOKEN_KEEP_AFTER_END = timedelta(days=7)
MAX_ACTIVE_TOKENS_PER_USER = 25


class TokenError(DomainError):
    status = 401
    code = "invalid_token"


def _hash(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def _default_ttl() -> timedelta:
    return timedelta(days=settings.API_TOKEN_TTL_DAYS)


def check_token_name(name: str) -> str:
    """The cleaned label, or DomainError `invalid_token_name`."""
    name = (name or "").strip()
    if len(name) > TOKEN_NAME_MAX_LENGTH:
        raise DomainError(
            f"A token label has at most {TOKEN_NAME_MAX_LENGTH} characters.",
            code="invalid_token_name",
            status=422,
        )
    return name


def check_token_ttl(ttl: timedelta) -> None:
    if ttl <= timedelta(0):
        raise DomainError("A token must live for some time.", code="invalid_token_ttl", status=422)


def token_active_for(*, user, now: datetime | None = None) -> QuerySet[ApiToken]:
    """The person's usable tokens: not revoked, not expired."""
    now = now or timezone.now()
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now)


def token_list_for_user(*, user) -> QuerySet[ApiToken]:
    """All of the person's tokens still on record, newest first (one query)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


@transaction.atomic
def token_create(*, user, name: str = "", ttl: timedelta | None = None) -> tuple[ApiToken, str]:
    """Issue a token for `user`. Returns the row and the plain token (show it once)."""
    name = check_token_name(name)
    ttl = _default_ttl() if ttl is None else ttl
    check_token_ttl(ttl)
    now = timezone.now()
    if token_active_for(user=user, now=now).count() >= MAX_ACTIVE_TOKENS_PER_USER:
        raise Conflict(
            f"You already have {MAX_ACTIVE_TOKENS_PER_USER} active tokens; revoke one first.",
            code="too_many_tokens",
        )
    plain = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=_hash(plain),
        prefix=plain[:PREFIX_LENGTH],
        created_at=now,
        expires_at=now + ttl,
    )
    return token, plain


def token_authenticate(plain: str, *, now: datetime | None = None):
    """The active user owning `plain`, or TokenError (401) with a stable code."""
    if not plain or len(plain) > TOKEN_MAX_LENGTH or not plain.isascii():
        raise TokenError("Invalid token.")
    # Looking the row up by its SHA-256 leaks nothing useful through timing:
    # an attacker cannot steer the hash of their guess toward a stored one.
    token = _token_with_user(_hash(plain))
    if token is None or not token.user.is_active:
        raise TokenError("Invalid token.")
    now = now or timezone.now()
    if token.revoked_at is not None:
        raise TokenError("This token was revoked.", code="token_revoked")
    if token.expires_at <= now:
        raise TokenError("This token has expired.", code="token_expired")
    _touch(token, now)
    return token.user


# Every API call authenticates; built by the ORM, the token + user lookup
# cost several times what the database takes to answer it (query
# compilation). So its SQL is composed once from the models' own names and
# the rows become model instances the way the ORM makes them (from_db, with
# the same value converters).


@cache
def _token_lookup() -> tuple[str, list, list]:
    user_model = ApiToken._meta.get_field("user").related_model
    quote = connection.ops.quote_name
    token_fields = list(ApiToken._meta.concrete_fields)
    user_fields = list(user_model._meta.concrete_fields)
    columns = [f"t.{quote(f.column)}" for f in token_fields]
    columns += [f"u.{quote(f.column)}" for f in user_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(ApiToken._meta.db_table)} t"  # noqa: S608
        f" JOIN {quote(user_model._meta.db_table)} u"
        f" ON u.{quote(user_model._meta.pk.column)} = t.{quote(ApiToken.user.field.column)}"
        f" WHERE t.{quote(ApiToken._meta.get_field('key_hash').column)} = %s"
    )
    return sql, token_fields, user_fields


def _token_with_user(key_hash: str) -> ApiToken | None:
    sql, token_fields, user_fields = _token_lookup()
    with connection.cursor() as cursor:  # on every API request: prepared (lms.settings)
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(token_fields)
    token = ApiToken.from_db(
        connection.alias, [f.attname for f in token_fields], convert_row(token_fields, row[:split])
    )
    user_model = ApiToken._meta.get_field("user").related_model
    token.user = user_model.from_db(
        connection.alias, [f.attname for f in user_fields], convert_row(user_fields, row[split:])
    )
    return token


def _touch(token: ApiToken, now: datetime) -> None:
    threshold = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > threshold:
        return
    # Conditional UPDATE: of concurrent requests, at most one writes per minute.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold)
    ).update(last_used_at=now)
    token.last_used_at = now


def token_revoke(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke `token` (idempotent). Returns it with `revoked_at` as stored."""
    now = now or timezone.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.refresh_from_db(fields=["revoked_at"])
    return token


def token_clear_expired(*, now: datetime | None = None) -> int:
    """Delete tokens expired or revoked more than TOKEN_KEEP_AFTER_END ago; return how many."""
    cutoff = (now or timezone.now()) - TOKEN_KEEP_AFTER_END
    deleted, _ = ApiToken.objects.filter(
        Q(expires_at__lte=cutoff) | Q(revoked_at__lte=cutoff)
    ).delete()
    return deleted
