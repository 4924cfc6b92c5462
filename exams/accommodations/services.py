"""Granting, changing and revoking accommodations (programme staff).

Contract:
- `accommodation_grant`, `accommodation_change` and `accommodation_revoke` are
  keyword-only and atomic; each writes one `AccommodationEvent` (who, when,
  the grant as it stands after, and for a change what changed) in the same
  transaction: the history is complete or the change did not happen.
- Inputs are checked by `rules.grant_problems` with the limits
  `ACCOMMODATION_MAX_BREAKS` and `ACCOMMODATION_MAX_BREAK_MINUTES`; a bad
  grant raises `AccommodationInvalid` (422) with the first problem's code
  (`invalid_extra_time`, `too_many_breaks`, `invalid_break_length`,
  `break_too_long`, `nothing_granted`, `end_date_in_past`, `reason_required`)
  and `errors: [{field, code, message}]` listing every problem.
- A revoked grant cannot be changed (409 `accommodation_revoked`) or revoked
  again (409 `already_revoked`).
- Attempts keep what they applied at their start (exams.services.attempts):
  a change or a revoke never moves a running attempt's deadline.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lms.errors import Conflict, DomainError
from lms.models import User

from ..models import Exam
from . import rules
from .models import Accommodation, AccommodationAction, AccommodationEvent

MAX_REASON_LENGTH = 2000


class AccommodationInvalid(DomainError):
    status = 422
    code = "invalid_accommodation"


def max_breaks() -> int:
    return int(getattr(settings, "ACCOMMODATION_MAX_BREAKS", rules.DEFAULT_MAX_BREAKS))


def max_break_minutes() -> int:
    return int(
        getattr(settings, "ACCOMMODATION_MAX_BREAK_MINUTES", rules.DEFAULT_MAX_BREAK_MINUTES)
    )


def grant_problems(
    *,
    extra_time_percent: object,
    breaks: object,
    break_minutes: object,
    ends_on: date | None,
    reason: str,
    today: date,
) -> list[rules.Problem]:
    """The pure rule with this site's limits (the admin form shows them per field)."""
    problems = rules.grant_problems(
        extra_time_percent=extra_time_percent,
        breaks=breaks,
        break_minutes=break_minutes,
        ends_on=ends_on,
        reason=reason,
        today=today,
        max_breaks=max_breaks(),
        max_break_minutes=max_break_minutes(),
    )
    if len(reason) > MAX_REASON_LENGTH:
        problems.append(
            rules.Problem("reason", "reason_too_long", f"At most {MAX_REASON_LENGTH} characters.")
        )
    return problems


def _check(
    *,
    extra_time_percent: object,
    breaks: object,
    break_minutes: object,
    ends_on: date | None,
    reason: str,
    today: date,
) -> dict[str, Any]:
    """The grant's fields as stored (percent, breaks, break minutes, end date,
    reason), or AccommodationInvalid listing every problem."""
    reason = reason.strip()
    problems = grant_problems(
        extra_time_percent=extra_time_percent,
        breaks=breaks,
        break_minutes=break_minutes,
        ends_on=ends_on,
        reason=reason,
        today=today,
    )
    if problems:
        raise AccommodationInvalid(
            problems[0].message,
            code=problems[0].code,
            # Each problem also in the API's validation-error shape (loc, msg, type).
            errors=[
                {
                    "loc": ["body", p.field],
                    "msg": p.message,
                    "type": p.code,
                    "field": p.field,
                    "code": p.code,
                    "message": p.message,
                }
                for p in problems
            ],
        )
    count = breaks if isinstance(breaks, int) else 0
    return {
        "extra_time_percent": extra_time_percent if isinstance(extra_time_percent, int) else 0,
        "breaks": count,
        "break_minutes": break_minutes if count and isinstance(break_minutes, int) else 0,
        "ends_on": ends_on or today,  # None was refused above (end_date_in_past)
        "reason": reason,
    }


def _snapshot(grant: Accommodation) -> dict[str, Any]:
    return {
        "exam": grant.exam.slug if grant.exam is not None else None,
        "extra_time_percent": grant.extra_time_percent,
        "breaks": grant.breaks,
        "break_minutes": grant.break_minutes,
        "ends_on": grant.ends_on.isoformat(),
        "reason": grant.reason,
        "revoked": grant.revoked_at is not None,
    }


def _record(
    grant: Accommodation,
    *,
    action: str,
    by: User | None,
    at: datetime,
    before: dict[str, Any] | None = None,
) -> AccommodationEvent:
    after = _snapshot(grant)
    changes: dict[str, Any] = {}
    if before is not None:
        changes = {
            key: [before[key], value] for key, value in after.items() if before[key] != value
        }
    return AccommodationEvent.objects.create(
        accommodation=grant, action=action, actor=by, at=at, snapshot=after, changes=changes
    )


@transaction.atomic
def accommodation_grant(
    *,
    by: User | None,
    person: User,
    exam: Exam | None,
    extra_time_percent: object,
    breaks: object,
    break_minutes: object,
    ends_on: date | None,
    reason: str,
    now: datetime | None = None,
) -> Accommodation:
    now = now or timezone.now()
    fields = _check(
        extra_time_percent=extra_time_percent,
        breaks=breaks,
        break_minutes=break_minutes,
        ends_on=ends_on,
        reason=reason,
        today=timezone.localdate(now),
    )
    grant = Accommodation.objects.create(person=person, exam=exam, **fields)
    _record(grant, action=AccommodationAction.CREATED, by=by, at=now)
    return grant


@transaction.atomic
def accommodation_change(
    *,
    by: User | None,
    accommodation: Accommodation,
    exam: Exam | None,
    extra_time_percent: object,
    breaks: object,
    break_minutes: object,
    ends_on: date | None,
    reason: str,
    now: datetime | None = None,
) -> Accommodation:
    """Set every field of the grant (callers pass the unchanged ones as they are)."""
    now = now or timezone.now()
    grant = (
        Accommodation.objects.select_for_update(of=("self",))
        .select_related("exam")
        .get(pk=accommodation.pk)
    )
    if grant.revoked_at is not None:
        raise Conflict(
            "This accommodation has been revoked; grant a new one instead.",
            code="accommodation_revoked",
        )
    fields = _check(
        extra_time_percent=extra_time_percent,
        breaks=breaks,
        break_minutes=break_minutes,
        ends_on=ends_on,
        reason=reason,
        today=timezone.localdate(now),
    )
    before = _snapshot(grant)
    grant.exam = exam
    for name, value in fields.items():
        setattr(grant, name, value)
    grant.save()
    if _snapshot(grant) != before:
        _record(grant, action=AccommodationAction.CHANGED, by=by, at=now, before=before)
    return grant


@transaction.atomic
def accommodation_revoke(
    *, by: User | None, accommodation: Accommodation, now: datetime | None = None
) -> Accommodation:
    """End the grant now: attempts started later get no accommodation from it."""
    now = now or timezone.now()
    claimed = Accommodation.objects.filter(pk=accommodation.pk, revoked_at__isnull=True).update(
        revoked_at=now, updated_at=now
    )
    grant = Accommodation.objects.select_related("exam").get(pk=accommodation.pk)
    if not claimed:
        raise Conflict("This accommodation is already revoked.", code="already_revoked")
    before = {**_snapshot(grant), "revoked": False}
    _record(grant, action=AccommodationAction.REVOKED, by=by, at=now, before=before)
    return grant
