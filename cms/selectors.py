"""Reads for the Wagtail admin home: the work waiting for staff and instructors.

Contract: never writes; counts only, each a fixed number of queries whatever
the amount of data (pinned in tests/cms/test_admin_home.py):
- `staff_work(now=)`: 7 queries.
- `instructor_work(user=, now=)`: 3 queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from wagtail.models import WorkflowState

from certificates.models import Credential
from courses.models import Event
from exams.projects.selectors import review_queue_summary_for
from partners.lifecycle import rules as lifecycle_rules
from partners.models import Partner, PartnerApplication, TrackState, TrackStatusRecord

DEADLINE_WINDOW_DAYS = 30


@dataclass(frozen=True)
class ReviewQueue:
    waiting: int
    oldest_at: datetime | None


@dataclass(frozen=True)
class StaffWork:
    applications_to_decide: int
    verifications_to_record: int
    rereviews_due: int
    rereviews_overdue: int
    provisional_deadlines_soon: int
    review_queue: ReviewQueue
    pages_in_moderation: int
    partners_at_risk: int
    credentials_expiring_this_month: int


@dataclass(frozen=True)
class InstructorWork:
    review_queue: ReviewQueue
    my_pages_in_moderation: int
    upcoming_events: list[Event]


def _month_bounds(now: datetime) -> tuple[datetime, datetime]:
    local = timezone.localtime(now)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _review_queue(user, now: datetime, *, staff: bool) -> ReviewQueue:
    waiting, oldest = review_queue_summary_for(grader=user, now=now, staff=staff)
    return ReviewQueue(waiting, oldest)


def staff_work(*, user, now: datetime | None = None) -> StaffWork:
    now = now or timezone.now()
    in_good_standing = (Partner.Status.PROVISIONAL, Partner.Status.ACTIVE)
    opens_by = now + timedelta(days=lifecycle_rules.REREVIEW_OPENS_DAYS_BEFORE)
    reviewable = Q(status=Partner.Status.ACTIVE) | Q(
        status=Partner.Status.SUSPENDED, suspended_from=Partner.Status.ACTIVE
    )
    partners = Partner.objects.aggregate(
        rereviews_due=Count(
            "pk", filter=reviewable & Q(rereview_due_at__gt=now, rereview_due_at__lte=opens_by)
        ),
        rereviews_overdue=Count("pk", filter=reviewable & Q(rereview_due_at__lte=now)),
        deadlines_soon=Count(
            "pk",
            filter=Q(
                status=Partner.Status.PROVISIONAL,
                provisional_deadline__lte=now + timedelta(days=DEADLINE_WINDOW_DAYS),
            ),
        ),
    )
    start, end = _month_bounds(now)
    return StaffWork(
        applications_to_decide=PartnerApplication.objects.filter(
            status=PartnerApplication.Status.PENDING
        ).count(),
        # Joined tracks of partners in good standing without a current passed
        # technical verification.
        verifications_to_record=TrackStatusRecord.objects.filter(
            partner__status__in=in_good_standing,
            technical_verification__in=("missing", "expired"),
        ).count(),
        rereviews_due=partners["rereviews_due"],
        rereviews_overdue=partners["rereviews_overdue"],
        provisional_deadlines_soon=partners["deadlines_soon"],
        review_queue=_review_queue(user, now, staff=True),
        pages_in_moderation=WorkflowState.objects.filter(
            status=WorkflowState.STATUS_IN_PROGRESS
        ).count(),
        partners_at_risk=TrackStatusRecord.objects.filter(state=TrackState.AT_RISK)
        .values("partner_id")
        .distinct()
        .count(),
        credentials_expiring_this_month=Credential.objects.filter(
            revoked_at__isnull=True, expires_at__gte=max(start, now), expires_at__lt=end
        ).count(),
    )


def instructor_work(*, user, now: datetime | None = None, events: int = 5) -> InstructorWork:
    now = now or timezone.now()
    return InstructorWork(
        review_queue=_review_queue(user, now, staff=False),
        my_pages_in_moderation=WorkflowState.objects.filter(status=WorkflowState.STATUS_IN_PROGRESS)
        .filter(requested_by=user)
        .count(),
        upcoming_events=list(
            Event.objects.filter(instructor=user, starts_at__gte=now, cancelled_at__isnull=True)
            .select_related("course")
            .order_by("starts_at", "pk")[:events]
        ),
    )
