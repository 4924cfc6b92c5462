"""Each person's time zone, and the one way the site writes a moment for them.

Contract:
- `User.time_zone` is an IANA name (`Europe/Paris`) from
  `zoneinfo.available_timezones()`, or empty for the site's `TIME_ZONE`.
- `UserTimeZoneMiddleware` activates the signed-in person's zone for the
  request, so Django's `date` filter and `timezone.localtime` give local time.
  It reads the user row the session already loads (no extra query); a request
  without a session cookie is not looked at. It sits inside the learner page
  cache (courses.learner_page_cache), whose copies are rendered in the zone
  and retired when the user row changes.
- E-mails are rendered inside `in_zone_of(recipient)`: times in them are the
  recipient's, whatever request or worker renders them.
- `format_moment` is how a date and time is written everywhere
  ("6 Dec 2026, 14:05 CET (Europe/Paris)"): the abbreviation tells summer from
  winter time, the IANA name removes the ambiguity of abbreviations (CST, IST)
  and of numeric ones ("+04" is written "UTC+04"). UTC is written "UTC" alone.
- `format_event_span` writes an instructor-led session in its own zone and,
  when it differs, in the reader's:
  "Mon 6 Dec 2026, 14:00–16:00 Europe/Dublin (15:00–17:00 your time, Europe/Paris)".
- The API keeps ISO 8601 (UTC); calendars (.ics) keep UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import dateformat, timezone

TIME_ZONE_MAX_LENGTH = 64
INVALID_TIME_ZONE = "invalid_time_zone"
INVALID_TIME_ZONE_MESSAGE = "Choose a time zone from the list (an IANA name such as Europe/Paris)."

MOMENT_FORMAT = "j M Y, H:i"


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone this server knows, sorted."""
    from zoneinfo import available_timezones

    return tuple(sorted(available_timezones()))


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(time_zone_names())


def is_time_zone(name: object) -> bool:
    return isinstance(name, str) and name in _known()


def validate_time_zone(value: str) -> None:
    """Model and form validator: empty (the site's zone) or a known IANA name."""
    from django.core.exceptions import ValidationError

    if value and not is_time_zone(value):
        raise ValidationError(INVALID_TIME_ZONE_MESSAGE, code=INVALID_TIME_ZONE)


def time_zone_or_default(name: object) -> str:
    """`name` when it is a known zone, else "" (the site's zone): for browser guesses."""
    value = name.strip() if isinstance(name, str) else ""
    return value if is_time_zone(value) else ""


def zone_name_of(user: Any) -> str:
    """The person's zone name; the site's TIME_ZONE when they chose none (or are anonymous)."""
    name = getattr(user, "time_zone", "") or ""
    return name if is_time_zone(name) else settings.TIME_ZONE


def zone_of(user: Any) -> ZoneInfo:
    return ZoneInfo(zone_name_of(user))


@contextmanager
def in_zone_of(user: Any) -> Iterator[None]:
    """Render inside this person's zone (e-mails, documents made for them)."""
    with timezone.override(zone_of(user)):
        yield


def _zone_key(zone: tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone)


def zone_label(local: datetime) -> str:
    """How the zone of an aware local datetime is named: "CET (Europe/Paris)", "UTC"."""
    zone = local.tzinfo
    key = _zone_key(zone) if zone is not None else "UTC"
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in {"+", "-"}:
        abbreviation = f"UTC{abbreviation}"
    if key in {"UTC", "Etc/UTC"} and abbreviation == "UTC":
        return "UTC"
    if not abbreviation or abbreviation == key:
        return key
    return f"{abbreviation} ({key})"


def _localtime(value: datetime, zone: tzinfo | None = None) -> datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return timezone.localtime(value, zone)


def format_moment(value: datetime | None, zone: tzinfo | None = None) -> str:
    """A moment in `zone` (default: the active one) with the zone's name."""
    if value is None:
        return ""
    local = _localtime(value, zone)
    return f"{dateformat.format(local, MOMENT_FORMAT)} {zone_label(local)}"


def format_event_span(
    starts_at: datetime, ends_at: datetime, event_zone: str, reader_zone: tzinfo | None = None
) -> str:
    """A session's time in its own zone, then in the reader's (active) zone when it differs."""
    own = ZoneInfo(event_zone) if is_time_zone(event_zone) else ZoneInfo("UTC")
    start, end = _localtime(starts_at, own), _localtime(ends_at, own)
    text = (
        f"{dateformat.format(start, 'D j M Y, H:i')}–{dateformat.format(end, 'H:i')} "
        f"{_zone_key(own)}"
    )
    reader = reader_zone or timezone.get_current_timezone()
    reader_key = _zone_key(reader)
    if reader_key == _zone_key(own):
        return text
    mine_start, mine_end = _localtime(starts_at, reader), _localtime(ends_at, reader)
    day = "" if mine_start.date() == start.date() else f"{dateformat.format(mine_start, 'D j M')}, "
    mine = f"{day}{dateformat.format(mine_start, 'H:i')}–{dateformat.format(mine_end, 'H:i')}"
    return f"{text} ({mine} your time, {reader_key})"


class UserTimeZoneMiddleware:
    """Activate the signed-in person's zone for the request (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        zone = None
        # Without a session cookie nobody is signed in: do not load the session for it.
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated and getattr(user, "time_zone", ""):
                zone = zone_of(user)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def people_by_zone(people: Iterable[Any]) -> list[tuple[ZoneInfo, list[Any]]]:
    """Recipients grouped by zone, in order of first appearance: one e-mail per zone."""
    groups: dict[str, list[Any]] = {}
    for person in people:
        groups.setdefault(zone_name_of(person), []).append(person)
    return [(ZoneInfo(name), members) for name, members in groups.items()]


class Recipient(NamedTuple):
    """An e-mail address and its person's zone, read in the query that finds them."""

    email: str
    time_zone: str = ""


def mail_per_zone(
    recipients: Iterable[Any], render: Callable[[], str]
) -> list[tuple[list[str], str]]:
    """(addresses, body) for each zone among `recipients` (people or `Recipient`s):
    the body rendered in that zone, so each person reads their own times."""
    out = []
    for zone, people in people_by_zone(recipients):
        with timezone.override(zone):
            body = render()
        out.append((sorted(person.email for person in people), body))
    return out
