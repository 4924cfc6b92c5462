"""Signal receivers of the lms app (connected in LmsConfig.ready).

- `user_login_failed` with a request counts one failed sign-in for the
  credentials' username (lms.throttle), whoever sent it: Django's
  authenticate() or a second-factor check. A failure that reaches a limit
  marks the request, so it is answered 429 at once.
- `user_logged_in` clears that (IP, account) pair's failures.
"""

from django.contrib.auth import get_user_model

from .throttle import login_failure_record, login_succeeded, mark_throttled, throttled


def count_failed_login(sender, credentials, request=None, **kwargs):
    username = credentials.get("username") or credentials.get(get_user_model().USERNAME_FIELD)
    if not username or not isinstance(username, str):
        return
    if request is not None and throttled(request) is not None:
        return  # refused before any password was checked: not another failure
    error = login_failure_record(request, username)
    if error is not None:
        mark_throttled(request, error)


def clear_pair_on_login(sender, request, user, **kwargs):
    login_succeeded(request, user.get_username())
