"""Reads for programme analytics: aggregate queries over the learner and partner records.

Contract: never writes. Each function runs a fixed number of queries whatever
the number of partners, people, attempts or credentials (counts are grouped
in the database; only the learner funnel reads one row per person of its
cohort, to take medians portably). `scope` is `Scope.programme()` for staff
or `Scope.of(partner)`: a partner's figures count its current members only,
the same people its track status counts (docs/product-rules.md).

Dates: a `DateRange` is whole days, both ends included, at most five years
(`date_range_check` refuses a reversed or longer one with
`invalid_date_range`). Months are calendar months in the site's time zone.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from certificates.models import Certification, Credential, CredentialStatus
from courses.models import CourseKind, CoursePage, Enrolment
from exams.models import Attempt, AttemptStatus, Submission, SubmissionStatus
from lms.errors import DomainError

from ..models import Membership, Partner, PartnerStatus, Track, TrackStatusChange, TrackStatusRecord

MAX_RANGE_YEARS = 5
DEFAULT_MONTHS = 24
EXPIRY_WINDOWS = (90, 180)
VERIFIED_STATES = ("verified", "at_risk")  # at risk is still verified (grace)
AT_RISK_LIST_LIMIT = 100


class InvalidDateRange(DomainError):
    code = "invalid_date_range"
    status = 400


# --- the period and who is counted ---------------------------------------------------


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # included

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def months(self) -> list[date]:
        first, last = self.start.replace(day=1), self.end.replace(day=1)
        out = []
        while first <= last:
            out.append(first)
            first = _add_months(first, 1)
        return out


def default_date_range(*, today: date) -> DateRange:
    """The last 24 calendar months, this one included."""
    return DateRange(start=_add_months(today.replace(day=1), 1 - DEFAULT_MONTHS), end=today)


def date_range_check(*, start: date, end: date) -> DateRange:
    """A valid range or InvalidDateRange (reversed, or longer than five years)."""
    if start > end:
        raise InvalidDateRange("The start date is after the end date.")
    try:
        limit = start.replace(year=start.year + MAX_RANGE_YEARS)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + MAX_RANGE_YEARS, day=28)
    if end >= limit:
        raise InvalidDateRange(f"The period may be at most {MAX_RANGE_YEARS} years long.")
    return DateRange(start=start, end=end)


@dataclass(frozen=True)
class Scope:
    partner: Partner | None = None

    @classmethod
    def programme(cls) -> Scope:
        return cls(None)

    @classmethod
    def of(cls, partner: Partner) -> Scope:
        return cls(partner)

    def people(self, qs: QuerySet, field_name: str = "person") -> QuerySet:
        """`qs` narrowed to the partner's current members (no query of its own)."""
        if self.partner is None:
            return qs
        members = Membership.objects.filter(partner_id=self.partner.pk, ended__isnull=True).values(
            "person_id"
        )
        return qs.filter(**{f"{field_name}__in": members})

    def partners(self, qs: QuerySet, field_name: str = "partner") -> QuerySet:
        if self.partner is None:
            return qs
        return qs.filter(**{f"{field_name}_id": self.partner.pk})


def _month_index(field_name: str, period: DateRange) -> Case:
    """The month of the period (0, 1, ...) that `field_name` falls in, as a CASE
    on the stored value against bounds computed here.

    Grouping by it leaves the database no per-row date function to call (on
    SQLite, TruncMonth is a Python function called for every row) and Django
    one small expression to compile. Rows must already be filtered to the period.
    """
    months = period.months
    whens = [
        When(**{f"{field_name}__lt": timezone.make_aware(datetime.combine(m, time.min))}, then=i)
        for i, m in enumerate(months[1:])
    ]
    return Case(*whens, default=len(months) - 1, output_field=IntegerField())


# --- certifications issued -----------------------------------------------------------


@dataclass
class MonthlyCounts:
    months: list[date]
    names: list[str]  # one per series
    counts: dict[str, list[int]]  # name -> one count per month


def certifications_issued_by_month(*, scope: Scope, period: DateRange) -> MonthlyCounts:
    """Credentials issued per month and certification; revoked ones count (they
    were issued). One query."""
    rows = (
        scope.people(Credential.objects.all())
        .filter(issued_at__gte=period.start_at, issued_at__lt=period.end_before)
        .annotate(month=_month_index("issued_at", period))
        .values("certification__name", "month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    months = period.months
    counts: dict[str, list[int]] = {}
    for row in rows:
        counts.setdefault(row["certification__name"], [0] * len(months))[row["month"]] += row["n"]
    names = sorted(counts)
    return MonthlyCounts(months, names, counts)


# --- exam pass rates -----------------------------------------------------------------


@dataclass
class ExamMonth:
    month: date
    attempts: int
    passed: int
    first_attempts: int
    first_passed: int

    @property
    def pass_rate(self) -> float | None:
        return 100 * self.passed / self.attempts if self.attempts else None

    @property
    def first_pass_rate(self) -> float | None:
        return 100 * self.first_passed / self.first_attempts if self.first_attempts else None


@dataclass
class ExamPassRates:
    exam_id: int
    title: str
    months: list[ExamMonth]

    @property
    def attempts(self) -> int:
        return sum(m.attempts for m in self.months)


def exam_pass_rates_by_month(*, scope: Scope, period: DateRange) -> list[ExamPassRates]:
    """Per exam and month of finishing: attempts, passes, first attempts and their passes.

    A first attempt is the person's earliest attempt at that exam ever (not only
    in the period). One query.
    """
    # Attempts are created when started, so a person's first at an exam has the
    # lowest id: one uncorrelated subquery instead of one lookup per attempt.
    first_ids = (
        Attempt.objects.order_by()
        .values("person_id", "exam_id")
        .annotate(first=Min("pk"))
        .values("first")
    )
    rows = (
        scope.people(Attempt.objects.exclude(status=AttemptStatus.IN_PROGRESS))
        .filter(submitted_at__gte=period.start_at, submitted_at__lt=period.end_before)
        .annotate(month=_month_index("submitted_at", period))
        .values("exam_id", "exam__title", "month")
        .annotate(
            total=Count("pk"),
            passes=Count("pk", filter=Q(passed=True)),
            first_total=Count("pk", filter=Q(pk__in=first_ids)),
            first_passed=Count("pk", filter=Q(pk__in=first_ids, passed=True)),
        )
        .order_by()
    )
    months = period.months
    exams: dict[int, ExamPassRates] = {}
    for row in rows:
        exam = exams.get(row["exam_id"])
        if exam is None:
            exam = exams[row["exam_id"]] = ExamPassRates(
                row["exam_id"], row["exam__title"], [ExamMonth(m, 0, 0, 0, 0) for m in months]
            )
        cell = exam.months[row["month"]]
        cell.attempts += row["total"]
        cell.passed += row["passes"]
        cell.first_attempts += row["first_total"]
        cell.first_passed += row["first_passed"]
    return sorted(exams.values(), key=lambda e: (e.title, e.exam_id))


# --- credentials expiring --------------------------------------------------------------


@dataclass
class Expiring:
    certification: str
    within: dict[int, int]  # days -> credentials


def credentials_expiring(*, scope: Scope, now: datetime) -> list[Expiring]:
    """Active credentials expiring within 90 and 180 days of `now`, per certification. One query."""
    windows = {
        f"d{days}": Count("pk", filter=Q(expires_at__lte=now + timedelta(days=days)))
        for days in EXPIRY_WINDOWS
    }
    rows = (
        scope.people(Credential.objects.all())
        .filter(
            status=CredentialStatus.ACTIVE,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=max(EXPIRY_WINDOWS)),
        )
        .values("certification__name")
        .annotate(**windows)
        .order_by("certification__name")
    )
    return [
        Expiring(row["certification__name"], {d: row[f"d{d}"] for d in EXPIRY_WINDOWS})
        for row in rows
    ]


# --- partners by status, verified tracks over time -------------------------------------------


def partners_by_status() -> list[tuple[str, str, int]]:
    """[(status, label, partners)] for every status, zeros included. One query."""
    counts = dict(Partner.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return [(value, label, counts.get(value, 0)) for value, label in PartnerStatus.choices]


@dataclass
class VerifiedTracks:
    months: list[date]
    tracks: list[tuple[str, str]]  # (track, label) with any history
    counts: dict[str, list[int]]  # track -> verified at each month's end (or today)


def verified_tracks_by_month(*, scope: Scope, period: DateRange) -> VerifiedTracks:
    """How many partners were verified on each track at the end of each month.

    From the track status history (`TrackStatusChange`): every change into a
    verified state (verified or at risk) adds one, every change out of one
    takes one away. Two queries: the standing before the period, then the
    changes per month in it.
    """
    into = Count("pk", filter=~Q(from_state__in=VERIFIED_STATES) & Q(to_state__in=VERIFIED_STATES))
    out = Count("pk", filter=Q(from_state__in=VERIFIED_STATES) & ~Q(to_state__in=VERIFIED_STATES))
    changes = scope.partners(TrackStatusChange.objects.all())
    before = {
        row["track"]: row["into"] - row["out"]
        for row in changes.filter(at__lt=period.start_at)
        .values("track")
        .annotate(into=into, out=out)
        .order_by()
    }
    during = (
        changes.filter(at__gte=period.start_at, at__lt=period.end_before)
        .annotate(month=_month_index("at", period))
        .values("track", "month")
        .annotate(into=into, out=out)
        .order_by()
    )
    months = period.months
    net: dict[str, list[int]] = {}
    for row in during:
        net.setdefault(row["track"], [0] * len(months))[row["month"]] += row["into"] - row["out"]
    labels = dict(Track.choices)
    tracks = [t for t in Track.values if t in before or t in net]
    counts = {}
    for track in tracks:
        level, series = before.get(track, 0), []
        for change in net.get(track, [0] * len(months)):
            level += change
            series.append(level)
        counts[track] = series
    return VerifiedTracks(months, [(t, labels[t]) for t in tracks], counts)


# --- at risk -------------------------------------------------------------------------------

AT_RISK_BUCKETS = ((7, "7 days or fewer"), (14, "8 to 14 days"), (30, "15 to 30 days"))


@dataclass
class AtRiskTrack:
    partner_name: str
    partner_slug: str
    track: str
    track_label: str
    grace_until: datetime | None
    days_left: int | None
    certified_individuals: int
    required: int


@dataclass
class AtRisk:
    buckets: list[tuple[str, int]]  # (label, tracks) by days left until the grace deadline
    total: int
    soonest: list[AtRiskTrack] = field(default_factory=list)  # at most AT_RISK_LIST_LIMIT


def _days_left(until: datetime | None, now: datetime) -> int | None:
    if until is None:
        return None
    return max(0, (until - now).days)


def at_risk_tracks(
    *, scope: Scope, now: datetime, limit: int | None = AT_RISK_LIST_LIMIT
) -> AtRisk:
    """Tracks at risk now, grouped by time left until their grace deadline, and
    the soonest of them (all when `limit` is None). Two queries."""
    records = scope.partners(TrackStatusRecord.objects.filter(state="at_risk"))
    edges = [now + timedelta(days=days) for days, _ in AT_RISK_BUCKETS]
    aggregates = {"total": Count("pk")}
    previous = None
    for i, edge in enumerate(edges):
        condition = Q(at_risk_until__lte=edge)
        if previous is not None:
            condition &= Q(at_risk_until__gt=previous)
        aggregates[f"b{i}"] = Count("pk", filter=condition)
        previous = edge
    aggregates["later"] = Count(
        "pk", filter=Q(at_risk_until__gt=previous) | Q(at_risk_until__isnull=True)
    )
    sums = records.aggregate(**aggregates)
    buckets = [(label, sums[f"b{i}"]) for i, (_, label) in enumerate(AT_RISK_BUCKETS)]
    buckets.append((f"more than {AT_RISK_BUCKETS[-1][0]} days", sums["later"]))
    listed = records.select_related("partner").order_by("at_risk_until", "partner__name", "track")
    if limit is not None:
        listed = listed[:limit]
    labels = dict(Track.choices)
    soonest = [
        AtRiskTrack(
            r.partner.name,
            r.partner.slug,
            r.track,
            labels.get(r.track, r.track),
            r.at_risk_until,
            _days_left(r.at_risk_until, now),
            r.certified_individuals,
            r.required,
        )
        for r in listed
    ]
    return AtRisk(buckets, sums["total"], soonest)


# --- the learner funnel ------------------------------------------------------------------

FUNNEL_STEPS = (
    ("enrolled", "Enrolled in a path course"),
    ("courses", "Path courses completed"),
    ("exam", "Exam passed"),
    ("project", "Project passed"),
    ("certified", "Certified"),
)


@dataclass
class Funnel:
    certification: str
    slug: str
    path_courses: int
    counts: list[int]  # one per FUNNEL_STEPS
    median_days: list[float | None]  # between step k and k+1 (len = steps - 1)
    project_offered: bool


def learner_funnels(*, scope: Scope, period: DateRange) -> list[Funnel]:
    """Per certification, the people whose first enrolment in a course of its
    path falls in the period, and how many of them reached each later step:
    every live technical course of the path completed, the certification's exam
    passed, its project passed, a credential issued (at any time up to now).
    Each step counts who reached it; a median is over those who reached both
    steps, in days. 1 + 1 query per certification.
    """
    funnels = []
    for certification in Certification.objects.order_by("name"):
        funnels.append(_funnel(certification, scope, period))
    return funnels


def _funnel(certification: Certification, scope: Scope, period: DateRange) -> Funnel:
    path = {
        "course__live": True,
        "course__kind": CourseKind.TECHNICAL,
        "course__certification": certification.slug,
    }
    courses_in_path = (
        CoursePage.objects.filter(
            live=True, kind=CourseKind.TECHNICAL, certification=certification.slug
        )
        .order_by()
        .values("certification")
        .annotate(n=Count("pk"))
        .values("n")
    )
    exam_passed = (
        Attempt.objects.filter(
            person_id=OuterRef("person_id"), exam_id=certification.exam_id, passed=True
        )
        .order_by("submitted_at")
        .values("submitted_at")[:1]
    )
    project_passed = (
        Submission.objects.filter(
            person_id=OuterRef("person_id"),
            brief_id=certification.project_brief_id,
            status=SubmissionStatus.PASSED,
        )
        .order_by("decided_at")
        .values("decided_at")[:1]
    )
    certified = (
        Credential.objects.filter(
            person_id=OuterRef("person_id"), certification_id=certification.pk
        )
        .order_by("issued_at")
        .values("issued_at")[:1]
    )
    rows = list(
        scope.people(Enrolment.objects.filter(**path))
        .values("person_id")
        .annotate(
            enrolled=Min("enrolled_at"),
            done=Count("pk", filter=Q(completed_at__isnull=False)),
            done_at=Max("completed_at"),
        )
        .filter(enrolled__gte=period.start_at, enrolled__lt=period.end_before)
        .annotate(
            path_courses=Coalesce(Subquery(courses_in_path, output_field=IntegerField()), Value(0)),
            exam_at=Subquery(exam_passed),
            project_at=Subquery(project_passed),
            certified_at=Subquery(certified),
        )
        .order_by()
    )
    path_courses = rows[0]["path_courses"] if rows else 0
    steps: list[list[datetime | None]] = []
    for row in rows:
        courses_at = (
            row["done_at"] if row["path_courses"] and row["done"] >= row["path_courses"] else None
        )
        steps.append(
            [
                row["enrolled"],
                courses_at,
                row["exam_at"],
                row["project_at"] if certification.project_brief_id else None,
                row["certified_at"],
            ]
        )
    counts = [sum(1 for s in steps if s[k] is not None) for k in range(len(FUNNEL_STEPS))]
    medians: list[float | None] = []
    for k in range(len(FUNNEL_STEPS) - 1):
        gaps = [
            (s[k + 1] - s[k]).total_seconds() / 86400
            for s in steps
            if s[k] is not None and s[k + 1] is not None
        ]
        medians.append(round(statistics.median(gaps), 1) if gaps else None)
    return Funnel(
        certification.name,
        certification.slug,
        path_courses,
        counts,
        medians,
        certification.project_brief_id is not None,
    )
