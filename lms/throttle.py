"""Sign-in throttling: failed sign-ins counted per (IP, account), per account and per IP.

Contract:
- `account_key(value)` is the one spelling of an account for counting: the
  submitted e-mail trimmed and case-folded, so `Ada@x`, `ADA@x` and ` ada@x `
  share every counter on every path (site, API token, both admins, reset).
- Three limits, each a setting read from the environment (lms.settings.base);
  a limit <= 0 is off:
  - pair: `LOGIN_FAILURE_LIMIT` failures of one account from one client IP
    within `LOGIN_COOLOFF_MINUTES` pause that pair only;
  - account: `LOGIN_ACCOUNT_FAILURE_LIMIT` failures from any IPs within the
    same cool-off pause the account everywhere (a distributed guess);
  - IP: `LOGIN_IP_FAILURE_LIMIT` failures for any accounts within
    `LOGIN_IP_WINDOW_MINUTES` pause that IP (a spray over many accounts).
  No single count closes sign-in for everybody behind one address: people
  who type their own password wrongly a few times pause only themselves.
- `login_throttle_check(request, username)` raises `RateLimited` (429, code
  `too_many_attempts`, `retry_after` = the longest wait of the limits
  reached) before any password is checked, so a paused pair cannot keep
  guessing, not even the right password.
- `login_failure_record(request, username)` counts one failure on all three
  counters and returns the `RateLimited` the next attempt would get (or
  None): the failure that reaches a limit is answered 429 at once. A refused
  attempt is not counted, so hammering a paused pair does not extend it.
- `login_succeeded(request, username)` clears that pair's failures.
- `login_counters_clear(username)` clears the account's counter and every
  pair counter of the account (a completed password reset: a targeted
  pause of someone's account ends when its owner resets the password).
  Pair counters are keyed with the account's reset generation (the time of
  its last clear), so one write retires all of them whatever IPs they came
  from; the old rows age out with the hourly sweep. (The sweep also takes
  the marker after RATE_EVENT_KEEP, which at worst forgets one pair's
  latest failures once.)
- Counters live in the database (lms.ratelimit): a cache outage neither
  unlocks nor locks anyone, and every web process sees the same counts.
- `mark_throttled(request, error)` / `throttled(request)`: the backend and
  the failure receiver mark the request; `LoginThrottleMiddleware` turns a
  marked request's answer into 429 with Retry-After (JSON under /api/, the
  "Sign-in paused" page elsewhere), whichever view sent the form.
- Client IPs come from `lms.client_ip.client_ip` (TRUSTED_PROXY_COUNT).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .auth import lockout_message, lockout_response
from .client_ip import client_ip
from .ratelimit import (
    RateLimited,
    rate_limit_clear,
    rate_limit_oldest,
    rate_limit_record,
    retry_after_seconds,
)

THROTTLE_CODE = "too_many_attempts"
SCOPE_PAIR = "login-pair"
SCOPE_ACCOUNT = "login-account"
SCOPE_IP = "login-ip"
SCOPE_GENERATION = "login-reset"
_MARK = "_academy_login_throttled"


def account_key(value) -> str:
    return str(value or "").strip().casefold()


def _cooloff() -> timedelta:
    return timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES)


def _ip_window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_IP_WINDOW_MINUTES)


def _generation(account: str) -> str:
    cleared_at = rate_limit_oldest(scope=SCOPE_GENERATION, key=account)
    return cleared_at.isoformat() if cleared_at else "-"


def _pair_key(request, account: str) -> str:
    return f"{account}\x1f{_generation(account)}\x1f{client_ip(request)}"


def _limits(request, account: str) -> list[tuple[str, str, int, timedelta]]:
    """(scope, key, limit, window) of every counter this attempt feeds."""
    limits = [(SCOPE_ACCOUNT, account, settings.LOGIN_ACCOUNT_FAILURE_LIMIT, _cooloff())]
    if request is not None:
        # Without a request (authenticate() from a shell) there is no address to count.
        pair = _pair_key(request, account)
        limits.insert(0, (SCOPE_PAIR, pair, settings.LOGIN_FAILURE_LIMIT, _cooloff()))
        limits.append((SCOPE_IP, client_ip(request), settings.LOGIN_IP_FAILURE_LIMIT, _ip_window()))
    return limits


def _over(limits, now) -> RateLimited | None:
    waits = [
        retry_after_seconds(scope=scope, key=key, limit=limit, window=window, now=now)
        for scope, key, limit, window in limits
        if limit > 0
    ]
    wait = max(waits, default=0)
    if not wait:
        return None
    return RateLimited(lockout_message(wait), retry_after=wait, code=THROTTLE_CODE)


def login_throttle_check(request, username) -> None:
    """Raise RateLimited (429 `too_many_attempts`) while this attempt is paused."""
    error = _over(_limits(request, account_key(username)), timezone.now())
    if error is not None:
        raise error


def login_failure_record(request, username) -> RateLimited | None:
    """Count one failed sign-in; return the pause it caused, if any."""
    now = timezone.now()
    limits = _limits(request, account_key(username))
    for scope, key, _limit, _window in limits:
        rate_limit_record(scope=scope, key=key, now=now)
    return _over(limits, now)


def login_succeeded(request, username) -> None:
    account = account_key(username)
    if not account or request is None:
        return
    rate_limit_clear(scope=SCOPE_PAIR, key=_pair_key(request, account))


@transaction.atomic
def login_counters_clear(username) -> None:
    """Forget the account's failures: its own counter and all its pair counters."""
    account = account_key(username)
    if not account:
        return
    rate_limit_clear(scope=SCOPE_ACCOUNT, key=account)
    # A new generation: pair keys written before now are never read again.
    rate_limit_clear(scope=SCOPE_GENERATION, key=account)
    rate_limit_record(scope=SCOPE_GENERATION, key=account)


def mark_throttled(request, error: RateLimited) -> None:
    if request is not None:
        setattr(request, _MARK, error)


def throttled(request) -> RateLimited | None:
    return getattr(request, _MARK, None)


class LoginThrottleMiddleware:
    """Answers 429 (with Retry-After) for a request whose sign-in was paused.

    Django's, Wagtail's and our own sign-in views only see a failed
    authenticate() and would show the form again; the backend marked the
    request, so the answer is replaced here. The JSON API raises the 429
    itself (lms.api_auth) and is left as it is.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        error = throttled(request)
        if error is None or response.status_code == 429:
            return response
        return lockout_response(request, error.retry_after)
