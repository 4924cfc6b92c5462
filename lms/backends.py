"""The authentication backend: e-mail and password, throttled (lms.throttle).

Contract:
- `ThrottledEmailBackend` signs people in with their e-mail (any letter case,
  surrounding spaces ignored) and password, on every path that calls
  `django.contrib.auth.authenticate` with a request: our sign-in page, the
  API token endpoint, Wagtail's and Django's admin logins.
- A paused attempt (see lms.throttle) is refused before the password is
  checked: the request is marked and PermissionDenied stops authenticate(),
  which then sends `user_login_failed` (lms.receivers does not count a
  refused attempt).
- It is the authority for e-mail + password: a wrong password or an unknown
  e-mail raises PermissionDenied too, so Django's ModelBackend, which stays
  listed after it only to load sessions signed in through it, never hashes
  the same password a second time.
- Failures are counted by the `user_login_failed` receiver, not here, so any
  code that sends that signal with the request (a wrong second-factor code)
  counts as a failed sign-in too.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from .ratelimit import RateLimited
from .throttle import login_throttle_check, mark_throttled


class ThrottledEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        username = str(username).strip()
        try:
            login_throttle_check(request, username)
        except RateLimited as error:
            mark_throttled(request, error)
            raise PermissionDenied(error.message) from error
        # ModelBackend looks the e-mail up case-insensitively and hashes a
        # password even for an unknown address (equal timing).
        user = super().authenticate(request, username=username, password=password)
        if user is None:
            raise PermissionDenied("That e-mail and password do not match an account.")
        return user
