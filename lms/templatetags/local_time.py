"""Dates and times as a person reads them (lms.timezones): `{% load local_time %}`.

- `{{ value|local_datetime }}`: "6 Dec 2026, 14:05 CET (Europe/Paris)", in the
  active zone (the reader's on pages, the recipient's in e-mails).
- `{{ event|event_when }}`: a session in its own zone and the reader's.
- `{% current_time_zone %}`: the active zone's IANA name, for sentences such
  as "dates are shown in …".

Dates without a time keep Django's `date` filter: it already gives the day in
the active zone.
"""

from datetime import datetime
from typing import Any

from django import template
from django.template import defaultfilters
from django.utils import timezone

from lms.timezones import format_event_span, format_moment

register = template.Library()


@register.filter
def local_datetime(value: Any) -> str:
    if not value:
        return ""
    if not isinstance(value, datetime):  # a calendar date has no time of day nor zone
        return defaultfilters.date(value, "j M Y")
    return format_moment(value)


@register.filter
def event_when(event: Any) -> str:
    return format_event_span(event.starts_at, event.ends_at, event.time_zone)


@register.simple_tag
def current_time_zone() -> str:
    zone = timezone.get_current_timezone()
    return str(getattr(zone, "key", None) or zone)
