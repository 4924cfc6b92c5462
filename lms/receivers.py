"""Signal receivers of the lms app (connected in LmsConfig.ready).

- `user_login_failed` with a request counts one failed sign-in for the
  credentials' username (lms.throttle), whoever sent it: Django's
  authenticate() or a second-factor check. A failure that reaches a limit
  marks the request, so it is answered 429 at once.
- `user_logged_in` clears that (IP, account) pair's failures.
- A saved change of a person's password hash, or their deactivation,
  calls `lms.services.user_credentials_changed` (tokens revoked, other
  sessions ended) from whatever path saved it: our views, Wagtail's and
  Django's admins, `set_password()` + `save()` in a shell.
"""

from django.contrib.auth import get_user_model

from . import services
from .throttle import login_failure_record, login_succeeded, mark_throttled, throttled

_WATCHED = {"password", "is_active"}
_CHANGED = "_academy_credentials_changed"


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


def note_credentials_change(sender, instance, raw=False, update_fields=None, **kwargs):
    setattr(instance, _CHANGED, False)
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not _WATCHED & set(update_fields):
        return  # e.g. last_login on every sign-in: nothing to compare, no query
    before = sender._default_manager.filter(pk=instance.pk).values(*_WATCHED).first()
    if before is None:
        return
    deactivated = before["is_active"] and not instance.is_active
    setattr(instance, _CHANGED, deactivated or before["password"] != instance.password)


def revoke_on_credentials_change(sender, instance, created=False, raw=False, **kwargs):
    if getattr(instance, _CHANGED, False):
        setattr(instance, _CHANGED, False)
        services.user_credentials_changed(user=instance)
