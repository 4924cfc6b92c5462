"""Company API keys: create, authenticate, revoke, list.

Contract:
- A key is `pak_` followed by 43 random letters and digits (about 256 bits),
  so secret scanners can match `pak_[A-Za-z0-9]{43}`. It is returned once by
  `api_key_create` and never stored: the database holds its SHA-256
  (`key_hash`, unique) and its first `PREFIX_LENGTH` characters (`prefix`).
- `api_key_authenticate(plain)` returns the usable key (its partner joined) or
  raises `ApiKeyError` (401) with a stable code: `invalid_api_key` (unknown or
  malformed), `api_key_expired`, `api_key_revoked` (also for every key of a
  terminated partner, whether or not the revocation has run yet). It records
  `last_used_at` at most once a minute per key, with a conditional UPDATE.
- A key belongs to its partner: the person who made it may leave and the key
  keeps working. `api_key_revoke` is idempotent (the first `revoked_at` stays).
- `api_keys_revoke_all(partner=, reason=)` revokes every usable key of a
  partner (a terminated partner's keys); it is called inside the transaction
  that terminates the partner, through `partner_status_changed`.
- A partner holds at most `MAX_ACTIVE_KEYS_PER_PARTNER` usable keys
  (`Conflict`, code `too_many_api_keys`).
"""

import hashlib
import secrets
import string
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from lms.errors import Conflict, DomainError

from ..models import ApiKey, ApiKeyScope, Partner

KEY_PREFIX = "pak_"
SECRET_LENGTH = 43  # 43 characters of 62 possible: 256 bits
PREFIX_LENGTH = len(KEY_PREFIX) + 8
# Longer than any key we issue: anything longer is refused before hashing.
KEY_MAX_LENGTH = 200
NAME_MAX_LENGTH = 100
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_ACTIVE_KEYS_PER_PARTNER = 50
SCOPES = tuple(ApiKeyScope.values)
READ_SCOPES = frozenset({ApiKeyScope.PARTNER_READ, ApiKeyScope.CERTIFICATES_READ})
TERMINATED = "terminated"  # the partner status that ends every key

_ALPHABET = string.ascii_letters + string.digits


class ApiKeyError(DomainError):
    status = 401
    code = "invalid_api_key"


def _hash(plain: str) -> str:
    # A plain SHA-256, not a slow password hash: the secret is 256 random
    # bits, so there is nothing to guess from its hash; a slow hash would only
    # cost time on every request (the same reasoning as lms.tokens).
    return hashlib.sha256(plain.encode("ascii")).hexdigest()


def check_api_key_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the key a name.", code="invalid_api_key_name", status=422)
    if len(name) > NAME_MAX_LENGTH:
        raise DomainError(
            f"A key name has at most {NAME_MAX_LENGTH} characters.",
            code="invalid_api_key_name",
            status=422,
        )
    return name


def check_api_key_scopes(scopes) -> list[str]:
    """The scopes in their canonical order, or DomainError 422 `unknown_scope`."""
    scopes = list(scopes or ())
    unknown = sorted({str(scope) for scope in scopes} - set(SCOPES))
    if unknown:
        raise DomainError(
            f"Unknown scope {unknown[0]!r}; use {', '.join(SCOPES)}.",
            code="unknown_scope",
            status=422,
        )
    if not scopes:
        raise DomainError("Choose at least one scope.", code="invalid_scopes", status=422)
    return [scope for scope in SCOPES if scope in scopes]


def check_api_key_expiry(expires_at: datetime | None, *, now: datetime) -> None:
    if expires_at is None:
        return
    if timezone.is_naive(expires_at):
        raise DomainError(
            "Give expires_at with a time zone, e.g. 2027-01-31T00:00:00Z.",
            code="invalid_expiry",
            status=422,
        )
    if expires_at <= now:
        raise DomainError("expires_at must be in the future.", code="invalid_expiry", status=422)


def api_key_active_for(*, partner: Partner, now: datetime | None = None) -> QuerySet[ApiKey]:
    now = now or timezone.now()
    return ApiKey.objects.filter(partner=partner, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


@transaction.atomic
def api_key_create(
    *,
    partner: Partner,
    name: str,
    scopes,
    created_by,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Make a key for `partner`. Returns the row and the plain key (show it once)."""
    now = timezone.now()
    name = check_api_key_name(name)
    scopes = check_api_key_scopes(scopes)
    check_api_key_expiry(expires_at, now=now)
    if getattr(partner, "status", None) == TERMINATED:
        raise DomainError(
            "A terminated partner cannot have API keys.", code="partner_terminated", status=403
        )
    if api_key_active_for(partner=partner, now=now).count() >= MAX_ACTIVE_KEYS_PER_PARTNER:
        raise Conflict(
            f"This partner already has {MAX_ACTIVE_KEYS_PER_PARTNER} active keys; "
            "revoke one first.",
            code="too_many_api_keys",
        )
    plain = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
    key = ApiKey.objects.create(
        partner=partner,
        name=name,
        key_hash=_hash(plain),
        prefix=plain[:PREFIX_LENGTH],
        scopes=scopes,
        created_by=created_by,
        created_at=now,
        expires_at=expires_at,
    )
    return key, plain


def api_key_authenticate(plain: str, *, now: datetime | None = None) -> ApiKey:
    """The usable key `plain` names (partner joined), or ApiKeyError (401)."""
    if (
        not plain.startswith(KEY_PREFIX)
        or len(plain) > KEY_MAX_LENGTH
        or not plain.isascii()
        or not plain.isprintable()
    ):
        raise ApiKeyError("Invalid API key.")
    # Looked up by its hash: timing tells an attacker nothing about stored keys.
    key = ApiKey.objects.select_related("partner").filter(key_hash=_hash(plain)).first()
    if key is None:
        raise ApiKeyError("Invalid API key.")
    now = now or timezone.now()
    if key.revoked_at is not None or key.partner.status == TERMINATED:
        raise ApiKeyError("This API key was revoked.", code="api_key_revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiKeyError("This API key has expired.", code="api_key_expired")
    api_key_touch(key=key, now=now)
    return key


def api_key_touch(*, key: ApiKey, now: datetime) -> bool:
    """Record a use of `key` at `now` unless one was recorded in the last
    minute; True when this call wrote it."""
    threshold = now - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > threshold:
        return False
    # Conditional UPDATE: of concurrent requests, at most one writes per minute.
    written = (
        ApiKey.objects.filter(pk=key.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold))
        .update(last_used_at=now)
    )
    key.last_used_at = now
    return bool(written)


def api_key_revoke(*, key: ApiKey, reason: str = "", now: datetime | None = None) -> ApiKey:
    """Revoke `key` (idempotent). Returns it with `revoked_at` as stored."""
    now = now or timezone.now()
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason[:200]
    )
    key.refresh_from_db(fields=["revoked_at", "revoked_reason"])
    return key


def api_keys_revoke_all(*, partner: Partner, reason: str, now: datetime | None = None) -> int:
    """Revoke every key of `partner` not revoked yet; return how many."""
    now = now or timezone.now()
    return ApiKey.objects.filter(partner=partner, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason[:200]
    )
