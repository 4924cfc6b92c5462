"""Reads of accommodations: the grant in force, the learner's view, staff lists.

Contract:
- A grant is in force for an attempt starting on `today` when it is not
  revoked and `ends_on >= today`. A grant for the exam itself wins over one
  for all exams; among grants of the same scope the newest wins.
- `accommodation_in_force` is 1 query; `accommodations_in_force_by_exam` is 1
  query for any number of exams (the exam list and its API).
- `LearnerAccommodation` is what the learner is told before starting: the
  extra time as minutes ("90 minutes instead of 60") and the rest breaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet

from lms.errors import NotFound
from lms.models import User
from lms.pagination import PageParams, paginate

from ..models import Exam
from . import rules
from .models import Accommodation, AccommodationEvent


def _in_force(today: date) -> QuerySet[Accommodation]:
    return Accommodation.objects.filter(revoked_at__isnull=True, ends_on__gte=today)


def _pick(grants: list[Accommodation], exam_id: int) -> Accommodation | None:
    """The exam's own grant if any, else an all-exams one (newest first in `grants`)."""
    own = [g for g in grants if g.exam_id == exam_id]
    if own:
        return own[0]
    general = [g for g in grants if g.exam_id is None]
    return general[0] if general else None


def accommodation_in_force(*, person: User, exam: Exam, today: date) -> Accommodation | None:
    """The grant an attempt of `exam` by `person` starting on `today` gets (1 query)."""
    grants = list(
        _in_force(today)
        .filter(Q(exam=exam) | Q(exam__isnull=True), person_id=person.pk)
        .order_by("-created_at", "-pk")
    )
    return _pick(grants, exam.pk)


def accommodations_in_force_by_exam(
    *, person: User, exams: list[Exam], today: date
) -> dict[int, Accommodation]:
    """Exam id -> the grant in force for it, for the exams that have one (1 query)."""
    grants = list(
        _in_force(today)
        .filter(Q(exam__in=exams) | Q(exam__isnull=True), person_id=person.pk)
        .order_by("-created_at", "-pk")
    )
    found: dict[int, Accommodation] = {}
    for exam in exams:
        grant = _pick(grants, exam.pk)
        if grant is not None:
            found[exam.pk] = grant
    return found


def _minutes(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(int(rounded)) if rounded == rounded.to_integral() else str(rounded)


@dataclass(frozen=True)
class LearnerAccommodation:
    extra_time_percent: int
    time_limit_minutes: int
    breaks: int
    break_minutes: int
    ends_on: date

    @property
    def minutes_with_extra_time(self) -> str:
        """The time limit with the extra time, in minutes ("90", "112.5")."""
        duration = rules.duration_with_extra_time(
            duration=timedelta(minutes=self.time_limit_minutes),
            extra_time_percent=self.extra_time_percent,
        )
        return _minutes(Decimal(duration // timedelta(microseconds=1)) / Decimal(60_000_000))

    @property
    def summary(self) -> str:
        parts = []
        if self.extra_time_percent:
            parts.append(
                f"You have {self.extra_time_percent} % extra time: "
                f"{self.minutes_with_extra_time} minutes instead of {self.time_limit_minutes}"
            )
        if self.breaks:
            breaks = f"{self.breaks} rest break{'s' if self.breaks != 1 else ''}"
            lead = "" if parts else "You have "
            parts.append(f"{lead}{breaks} of up to {self.break_minutes} minutes")
        return "; ".join(parts) + "."


def learner_view(grant: Accommodation | None, exam: Exam) -> LearnerAccommodation | None:
    if grant is None:
        return None
    return LearnerAccommodation(
        extra_time_percent=grant.extra_time_percent,
        time_limit_minutes=exam.time_limit_minutes,
        breaks=grant.breaks,
        break_minutes=grant.break_minutes if grant.breaks else 0,
        ends_on=grant.ends_on,
    )


# --- staff ---------------------------------------------------------------------------


def accommodation_get(*, accommodation_id: int) -> Accommodation:
    grant = (
        Accommodation.objects.select_related("person", "exam").filter(pk=accommodation_id).first()
    )
    if grant is None:
        raise NotFound("No such accommodation.", code="accommodation_not_found")
    return grant


def accommodation_page(
    *, page: PageParams, person: User | None = None, exam: Exam | None = None
) -> tuple[list[Accommodation], bool]:
    """Grants, newest first (the id is the cursor), optionally of one person or exam."""
    grants = Accommodation.objects.select_related("person", "exam")
    if person is not None:
        grants = grants.filter(person=person)
    if exam is not None:
        grants = grants.filter(exam=exam)
    found, has_more = paginate(grants, page, order=("-created_at", "-id"))
    return list(found), has_more


def accommodation_history(*, accommodation: Accommodation) -> list[AccommodationEvent]:
    """Every change of the grant, newest first, with who made it (1 query)."""
    return list(
        AccommodationEvent.objects.filter(accommodation=accommodation)
        .select_related("actor")
        .order_by("-at", "-pk")
    )
