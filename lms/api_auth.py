"""How API callers prove who they are.

Contract:
- `BearerTokenAuth`: `Authorization: Bearer <token>` with a personal API token
  (lms.tokens). A bad, expired or revoked token is refused with 401 and its
  own code right away; it never falls back to the session.
  A token that starts with a prefix registered by a higher app
  (`register_bearer_authenticator`, e.g. partners' company API keys `pak_`)
  goes to that app's authenticator instead, which returns the principal (or
  raises a DomainError) and says what the request acts for through attributes
  it sets on the request (partners: `request.api_key`).
- `CsrfSessionAuth`: the browser's Django session. Unsafe methods (POST,
  PATCH, PUT, DELETE) must carry the CSRF token (`X-CSRFToken` header), or
  the request gets 403 `csrf_failed`. A request without a signed-in session
  is passed on (and ends in 401 `not_authenticated`), not refused for CSRF.
- `password_authenticate(request, email=, password=)` checks an e-mail and
  password through `django.contrib.auth.authenticate`, so the sign-in
  throttle (lms.throttle) counts failures per (IP, account), per account and
  per IP exactly as on the sign-in page; it raises `RateLimited` 429
  `too_many_attempts` (the API adds Retry-After) while the attempt is
  paused, 401 `invalid_credentials` for a wrong e-mail or password, and on
  success clears that (IP, account) pair's failures.
  A matching password of an account whose e-mail is not confirmed yet is
  refused with 403 `email_unconfirmed` (said only to someone who knows the
  password).
"""

from collections.abc import Callable

from django.contrib.auth import authenticate
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from .errors import DomainError
from .throttle import login_succeeded, throttled
from .tokens import token_authenticate

_bearer_authenticators: dict[str, Callable] = {}


def register_bearer_authenticator(prefix: str, authenticate: Callable) -> None:
    """Let a higher app authenticate bearer tokens that start with `prefix`.

    `authenticate(request, token)` returns the principal that becomes
    `request.auth` (truthy), or raises a DomainError (401 with its own code,
    404 where the credential may not be used). Apps register in `ready()`.
    """
    _bearer_authenticators[prefix] = authenticate


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        token = token.strip()
        for prefix, extra in _bearer_authenticators.items():
            if token.startswith(prefix):
                return extra(request, token)
        user = token_authenticate(token)
        # Code below the API reads request.user; make it the token's owner.
        request.user = user
        return user


class CsrfSessionAuth(SessionAuth):
    """ninja's SessionAuth, but CSRF is checked only for a signed-in session.

    ninja checks CSRF before it looks at the session, so an anonymous POST
    would get 403 instead of 401. Safe methods pass Django's check anyway.
    """

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request) is not None:
                raise DomainError(
                    "CSRF check failed: send the X-CSRFToken header with the csrftoken "
                    "cookie's value.",
                    code="csrf_failed",
                    status=403,
                )
        return user


def password_authenticate(request, *, email: str, password: str):
    """The active user with this e-mail and password, or DomainError (401 / 429)."""
    # The backend normalises the address (lms.throttle.account_key) for the counters.
    user = authenticate(request, username=email, password=password)
    paused = throttled(request)
    if paused is not None:
        raise paused
    if user is None:
        raise DomainError(
            "That e-mail and password do not match an account.",
            code="invalid_credentials",
            status=401,
        )
    if not user.email_confirmed_at:
        raise DomainError(
            "Confirm your e-mail address first: open the link we sent to it.",
            code="email_unconfirmed",
            status=403,
        )
    # No session is made here (user_logged_in is not sent): clear the pair directly.
    login_succeeded(request, email)
    return user
