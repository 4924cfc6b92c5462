"""Reads for the partner admin's roster, the members API and the staff partner list.

Contract: functions here never write. Each runs a fixed number of queries
whatever the number of members or partners (pinned by tests):
`partner_roster` 4 (a page of it 4, 5 with a cursor), `partner_list_for_staff`
2 (rows, then tracks), `invitations_open_for` 1, `applications_for_staff` 1. Learner records are
read set-based for all current members at once, straight from the lower
apps' models (partners may import them).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from certificates.models import Credential
from certificates.rules import credential_status
from courses.models import Enrolment
from exams.models import Attempt, AttemptStatus
from lms.errors import NotFound
from lms.models import User
from lms.pagination import PageParams, paginate

from ..membership.selectors import partner_members_current
from ..models import (
    Invitation,
    Membership,
    Partner,
    PartnerApplication,
    PartnerTrack,
    TrackState,
    TrackStatusRecord,
)

FINISHED = [AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED]


@dataclass(frozen=True)
class CompletedCourse:
    title: str
    slug: str
    completed_at: datetime


@dataclass(frozen=True)
class LastAttempt:
    exam: str
    passed: bool | None
    score_percent: Decimal | None
    finished_at: datetime | None


@dataclass(frozen=True)
class HeldCredential:
    certification: str
    certification_slug: str
    status: str  # active, expired or revoked
    issued_at: datetime
    expires_at: datetime
    public_id: str


@dataclass
class RosterRow:
    membership: Membership
    courses: list[CompletedCourse] = field(default_factory=list)
    attempts_count: int = 0
    last_attempt: LastAttempt | None = None
    credentials: list[HeldCredential] = field(default_factory=list)

    @property
    def person(self) -> User:
        return self.membership.person

    @property
    def active_credentials(self) -> list[HeldCredential]:
        return [c for c in self.credentials if c.status == "active"]


ROSTER_ORDER = ("role", "person__legal_name", "person__email", "id")


def _roster_memberships(partner: Partner) -> QuerySet[Membership]:
    finished = Attempt.objects.filter(person_id=OuterRef("person_id"), status__in=FINISHED)
    return partner_members_current(partner).annotate(
        attempts_count=Coalesce(
            Subquery(
                finished.order_by().values("person_id").annotate(n=Count("pk")).values("n")[:1]
            ),
            0,
        ),
    )


def partner_roster(*, partner: Partner, now: datetime | None = None) -> list[RosterRow]:
    """Current members (admins first) with courses completed, exam attempts
    summary and certifications with expiry dates. 4 queries."""
    return _roster_rows(list(_roster_memberships(partner).order_by(*ROSTER_ORDER)), now)


def partner_roster_page(
    *, partner: Partner, page: PageParams, now: datetime | None = None
) -> tuple[list[RosterRow], bool]:
    """One page of `partner_roster` in its order (the membership id is the
    cursor) and whether more follow. 4 queries, 5 with a cursor."""
    memberships, has_more = paginate(_roster_memberships(partner), page, order=ROSTER_ORDER)
    return _roster_rows(memberships, now), has_more


def partner_roster_row(*, partner: Partner, member_id: int) -> RosterRow:
    """The roster row of one current membership (4 queries)."""
    rows = _roster_rows(list(_roster_memberships(partner).filter(pk=member_id)), None)
    if not rows:
        raise NotFound("No such member.", code="member_not_found")
    return rows[0]


def _roster_rows(memberships: list[Membership], now: datetime | None) -> list[RosterRow]:
    now = now or timezone.now()
    if not memberships:
        return []
    people = [m.person_id for m in memberships]
    rows = {
        m.person_id: RosterRow(membership=m, attempts_count=getattr(m, "attempts_count", 0))
        for m in memberships
    }

    for person_id, title, slug, completed_at in (
        Enrolment.objects.filter(person_id__in=people, completed_at__isnull=False)
        .order_by("-completed_at")
        .values_list("person_id", "course__title", "course__slug", "completed_at")
    ):
        rows[person_id].courses.append(
            CompletedCourse(title, slug, cast(datetime, completed_at))  # not null: filtered
        )

    latest = Attempt.objects.filter(person_id=OuterRef("person_id"), status__in=FINISHED).order_by(
        "-submitted_at", "-pk"
    )
    for person_id, exam, passed, score, finished_at in (
        Attempt.objects.filter(person_id__in=people, status__in=FINISHED)
        .filter(pk=Subquery(latest.values("pk")[:1]))
        .values_list("person_id", "exam__title", "passed", "score_percent", "submitted_at")
    ):
        rows[person_id].last_attempt = LastAttempt(exam, passed, score, finished_at)

    for credential in (
        Credential.objects.filter(person_id__in=people)
        .select_related("certification")
        .order_by("certification__name", "-issued_at")
    ):
        rows[credential.person_id].credentials.append(
            HeldCredential(
                certification=credential.certification.name,
                certification_slug=credential.certification.slug,
                status=credential_status(
                    revoked_at=credential.revoked_at, expires_at=credential.expires_at, now=now
                ),
                issued_at=credential.issued_at,
                expires_at=credential.expires_at,
                public_id=credential.public_id,
            )
        )
    return list(rows.values())


def invitations_open_for(*, partner: Partner, now: datetime | None = None) -> list[Invitation]:
    """Invitations neither accepted nor withdrawn (expired ones included, marked by the page)."""
    return list(
        Invitation.objects.filter(
            partner=partner, accepted_at__isnull=True, revoked_at__isnull=True
        ).order_by("-created_at")
    )


# --- programme staff ----------------------------------------------------------


@dataclass(frozen=True)
class StaffFilters:
    track: str = ""
    status: str = ""
    at_risk: bool = False
    deadline_within_days: int | None = None  # provisional deadline passing within N days


def partner_list_for_staff(
    *, filters: StaffFilters = StaffFilters(), now: datetime | None = None
) -> QuerySet[Partner]:
    """Every partner with its application (deadline), current member count and
    tracks (prefetched). 2 queries when evaluated."""
    now = now or timezone.now()
    partners = (
        Partner.objects.select_related("application")
        .annotate(
            members_count=Count("memberships", filter=Q(memberships__ended__isnull=True)),
            at_risk=Exists(
                TrackStatusRecord.objects.filter(
                    partner_id=OuterRef("pk"), state=TrackState.AT_RISK
                )
            ),
        )
        .prefetch_related(Prefetch("tracks", queryset=PartnerTrack.objects.order_by("track")))
        .order_by("name", "pk")
    )
    if filters.track:
        partners = partners.filter(
            Exists(PartnerTrack.objects.filter(partner_id=OuterRef("pk"), track=filters.track))
        )
    if filters.status:
        partners = partners.filter(status=filters.status)
    if filters.at_risk:
        partners = partners.filter(at_risk=True)
    if filters.deadline_within_days is not None:
        partners = partners.filter(
            status=Partner.Status.PROVISIONAL,
            provisional_deadline__lte=now + timedelta(days=filters.deadline_within_days),
        )
    return cast("QuerySet[Partner]", partners)  # the annotations make it untyped


def applications_for_staff(
    *, status: str = PartnerApplication.Status.PENDING
) -> list[PartnerApplication]:
    """Applications in `status`, oldest first, with partner and applicant. 1 query."""
    return list(
        PartnerApplication.objects.filter(status=status)
        .select_related("partner", "applicant", "agreement_acceptance__agreement")
        .order_by("submitted_at", "pk")
    )
