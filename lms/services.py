"""Account workflows.

Contract:
- `user_register(*, email, password, first_name, last_name, legal_name="")`
  creates an active learner account and returns it. The e-mail is stored
  lower-cased; an e-mail already used (in any letter case) raises
  `lms.errors.Conflict` with code `duplicate_email` (the database constraint
  `lms_user_email_ci_unique` backs this up under races). A blank
  `legal_name` defaults to "first last". The password is validated by the
  caller (the sign-up form runs Django's validators).
  `time_zone` is the zone the browser proposed at sign-up: an unknown or
  empty one is stored as "" (the site's zone), never refused.
- `user_profile_update(*, user, legal_name, first_name, last_name,
  time_zone=None)` saves the names and the time zone a person may edit about
  themselves; `time_zone=None` leaves it as it is, "" means the site's zone,
  and an unknown name raises `DomainError` with code `invalid_time_zone` (422).
- `user_credentials_changed(*, user, keep_session_key=None)` ends what the
  old credentials proved, after a password change or reset or a
  deactivation (lms.receivers calls it on every save that changes the
  password hash or clears `is_active`): it revokes the person's personal API
  tokens, ends their sessions except `keep_session_key` (Django's and
  Wagtail's password views then carry the current one over to a new session
  with update_session_auth_hash, which keeps it signed in) and clears their
  sign-in failure counters (lms.throttle), so a completed reset also ends a
  targeted pause of the account. Returns (tokens revoked, sessions ended).
"""

from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from .errors import Conflict, DomainError
from .models import User
from .throttle import login_counters_clear
from .timezones import (
    INVALID_TIME_ZONE,
    INVALID_TIME_ZONE_MESSAGE,
    is_time_zone,
    time_zone_or_default,
)
from .tokens import token_active_for

DUPLICATE_EMAIL = "An account with this e-mail already exists."


def default_legal_name(*, first_name: str, last_name: str) -> str:
    return " ".join(part for part in (first_name.strip(), last_name.strip()) if part)


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    legal_name: str = "",
    time_zone: str = "",
) -> User:
    User = get_user_model()
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(DUPLICATE_EMAIL, code="duplicate_email")
    legal_name = " ".join((legal_name or "").split()) or default_legal_name(
        first_name=first_name, last_name=last_name
    )
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                legal_name=legal_name,
                time_zone=time_zone_or_default(time_zone),
            )
    except IntegrityError as error:  # a concurrent sign-up won the race
        raise Conflict(DUPLICATE_EMAIL, code="duplicate_email") from error


@transaction.atomic
def user_profile_update(
    *,
    user: User,
    legal_name: str,
    first_name: str,
    last_name: str,
    time_zone: str | None = None,
) -> User:
    fields = ["legal_name", "first_name", "last_name"]
    if time_zone is not None:
        time_zone = time_zone.strip()
        if time_zone and not is_time_zone(time_zone):
            raise DomainError(INVALID_TIME_ZONE_MESSAGE, code=INVALID_TIME_ZONE, status=422)
        user.time_zone = time_zone
        fields.append("time_zone")
    user.legal_name = " ".join(legal_name.split())
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.save(update_fields=fields)
    return user


@transaction.atomic
def user_credentials_changed(*, user: User, keep_session_key: str | None = None) -> tuple[int, int]:
    now = timezone.now()
    revoked = token_active_for(user=user, now=now).update(revoked_at=now)
    ended = _end_sessions(user=user, keep_session_key=keep_session_key, now=now)
    login_counters_clear(user.get_username())
    return revoked, ended


def _end_sessions(*, user: User, keep_session_key: str | None, now: datetime) -> int:
    """Delete the person's sessions except `keep_session_key`; return how many.

    Django already refuses a session whose stored hash no longer matches the
    password, or whose person is inactive (django.contrib.auth.get_user);
    deleting them through the session store also drops cached_db's cached
    copy, and a reactivated account does not bring them back. The session
    table has no user column, so the live rows are read and decoded: a cost
    paid on a password change or a deactivation, which are rare. Engines
    without a table (cache, signed cookies) rely on Django's check alone.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return 0
    user_id = str(user.pk)
    rows = (
        store_class.get_model_class()
        .objects.filter(expire_date__gt=now)
        .values_list("session_key", "session_data")
    )
    decoder = store_class()
    doomed = []
    for key, data in rows.iterator(chunk_size=2000):
        if key == keep_session_key:
            continue
        session = decoder.decode(data)
        if str(session.get(SESSION_KEY)) == user_id:
            doomed.append(key)
    for key in doomed:
        store_class(session_key=key).delete()
    return len(doomed)
