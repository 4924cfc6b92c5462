"""Rate limits kept in the database: counted events in a sliding window.

Contract:
- `rate_limit_hit(scope=, key=, limit=, window=)` records one event for
  (scope, key) and raises `RateLimited` (429, code `too_many_requests`,
  `retry_after` seconds) when that makes more than `limit` events inside the
  last `window`. A refused event is not recorded, so a client that keeps
  hammering does not push its own window forward.
- `rate_limit_check(...)` raises the same without recording (a guard before
  expensive work); `rate_limit_record(...)` records without checking (for
  counters that only failures feed, such as sign-in throttling).
- `rate_limit_clear(scope=, key=)` forgets a key's events (a completed password
  reset clears the account's sign-in failures).
- Counters live in the database, so a cache outage neither unlocks nor locks
  anyone, and every web process sees the same counts. `rate_limit_sweep()`
  (scheduled) deletes events older than `RATE_EVENT_KEEP`.
- Keys are hashed (SHA-256, truncated) before they are stored: an e-mail
  address or an IP never sits in this table in the clear.
- Limits <= 0 turn a limit off.
"""

import hashlib
import math
from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from .errors import DomainError
from .models import RateEvent

RATE_EVENT_KEEP = timedelta(days=2)


class RateLimited(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None, **extra):
        super().__init__(message, code=code, **extra)
        self.retry_after = max(1, int(retry_after))


def key_digest(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\x1f{key}".encode()).hexdigest()[:40]


def _window_events(scope: str, key: str, window: timedelta, now: datetime):
    return RateEvent.objects.filter(
        scope=scope, key=key_digest(scope, key), created_at__gt=now - window
    )


def retry_after_seconds(
    *, scope: str, key: str, limit: int, window: timedelta, now: datetime | None = None
) -> int:
    """Seconds until fewer than `limit` events are inside the window (0 when already so).

    One query: the newest `limit` events; the window frees a slot when the
    oldest of them ages out.
    """
    now = now or timezone.now()
    newest = list(
        _window_events(scope, key, window, now)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(newest) < limit:
        return 0
    return max(1, math.ceil((newest[-1] + window - now).total_seconds()))


def rate_limit_check(
    *,
    scope: str,
    key: str,
    limit: int,
    window: timedelta,
    message: str = "Too many requests; try again later.",
    code: str | None = None,
    now: datetime | None = None,
) -> None:
    """Raise RateLimited when (scope, key) already has `limit` events in the window."""
    if limit <= 0:
        return
    now = now or timezone.now()
    wait = retry_after_seconds(scope=scope, key=key, limit=limit, window=window, now=now)
    if wait:
        raise RateLimited(message, retry_after=wait, code=code)


def rate_limit_record(*, scope: str, key: str, now: datetime | None = None) -> None:
    RateEvent.objects.create(
        scope=scope, key=key_digest(scope, key), created_at=now or timezone.now()
    )


def rate_limit_hit(
    *,
    scope: str,
    key: str,
    limit: int,
    window: timedelta,
    message: str = "Too many requests; try again later.",
    code: str | None = None,
    now: datetime | None = None,
) -> None:
    """Check, then record one event; raises RateLimited (nothing recorded) when over."""
    if limit <= 0:
        return
    now = now or timezone.now()
    rate_limit_check(
        scope=scope, key=key, limit=limit, window=window, message=message, code=code, now=now
    )
    rate_limit_record(scope=scope, key=key, now=now)


def rate_limit_clear(*, scope: str, key: str) -> int:
    deleted, _ = RateEvent.objects.filter(scope=scope, key=key_digest(scope, key)).delete()
    return deleted


def rate_limit_oldest(*, scope: str, key: str):
    return RateEvent.objects.filter(scope=scope, key=key_digest(scope, key)).aggregate(
        first=Min("created_at")
    )["first"]


def rate_limit_sweep(*, now: datetime | None = None) -> int:
    """Delete events older than RATE_EVENT_KEEP; return how many."""
    cutoff = (now or timezone.now()) - RATE_EVENT_KEEP
    deleted, _ = RateEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
