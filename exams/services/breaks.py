"""Rest breaks during an attempt: the clock stands still while one runs.

Part of exams.services; its contract is in that package's docstring. What an
attempt may take was fixed at its start (`breaks_allowed`, `break_minutes`,
from the accommodation in force then); ending a break is in `attempts`
(`break_close`, `break_end_if_over`) because every path that judges the
deadline ends a break whose time is up first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from lms.errors import Conflict
from lms.models import User

from .. import attempt_forms, selectors
from ..accommodations import rules as accommodation_rules
from ..models import Attempt, AttemptStatus
from .attempts import attempt_finalise_if_overdue, break_end_if_over


def _allowed_minutes(attempt: Attempt, *, now: datetime, minutes: int | None) -> int:
    """The break's planned length if one may start now, else the refusal (409)."""
    decision = accommodation_rules.break_decision(
        now=now,
        deadline=attempt.deadline,
        in_progress=attempt.status == AttemptStatus.IN_PROGRESS,
        on_break=attempt.on_break,
        breaks_allowed=attempt.breaks_allowed,
        breaks_taken=attempt.breaks_taken,
        break_minutes=attempt.break_minutes,
        requested_minutes=minutes,
    )
    if not decision.allowed:
        extra = {"breaks_left": attempt.breaks_left}
        raise Conflict(decision.reason, code=str(decision.code), **extra)
    return decision.minutes


def attempt_break_start(
    *, person: User, attempt_id: int, minutes: int | None = None, now: datetime | None = None
) -> Attempt:
    """Start a rest break of `minutes` (None: the longest granted) now.

    Refused with 409 `no_breaks_left`, `break_in_progress`, `break_too_long`
    or `attempt_closed`. One conditional UPDATE claims the break: of two
    starts at once, one wins and the other is refused."""
    now = now or timezone.now()
    attempt = selectors.attempt_get_for_person(person=person, attempt_id=attempt_id)
    attempt = attempt_finalise_if_overdue(attempt=attempt, now=now)
    planned = _allowed_minutes(attempt, now=now, minutes=minutes)
    claimed = Attempt.objects.filter(
        pk=attempt.pk,
        status=AttemptStatus.IN_PROGRESS,
        break_started_at__isnull=True,
        breaks_taken=attempt.breaks_taken,
        breaks_taken__lt=F("breaks_allowed"),
        deadline__gte=now,
    ).update(
        break_started_at=now,
        break_ends_at=now + timedelta(minutes=planned),
        breaks_taken=F("breaks_taken") + 1,
    )
    attempt_forms.forget(attempt.pk)
    attempt.refresh_from_db()
    if not claimed:
        # Another request changed the attempt first (a break, a submit): say what now.
        _allowed_minutes(attempt, now=now, minutes=minutes)
        raise Conflict("You are on a break already.", code="break_in_progress")
    return attempt


def attempt_break_end(*, person: User, attempt_id: int, now: datetime | None = None) -> Attempt:
    """Resume now: the running break ends and the deadline moves later by its
    length. Without a running break, the attempt as it is (a second click)."""
    now = now or timezone.now()
    attempt = selectors.attempt_get_for_person(person=person, attempt_id=attempt_id)
    if attempt.status == AttemptStatus.IN_PROGRESS:
        attempt = break_end_if_over(attempt=attempt, now=now, early=True)
    return attempt_finalise_if_overdue(attempt=attempt, now=now)
