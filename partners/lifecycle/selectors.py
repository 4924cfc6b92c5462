"""Reads of the programme lifecycle: status history, the re-review queue.

Contract: never writes; each function runs a fixed number of queries whatever
the number of partners or history rows:
- `partner_status_history(partner=, limit=50)`: 1 query (the rows with the person).
- `rereview_queue(now=)`: 2 queries (partners with a re-review, recent confirmations).
- `rereview_of(partner=, now=)`: 2 queries while the re-review is open (the
  agreement in force, the last acceptance), none otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from ..agreements.services import agreement_current
from ..models import (
    AgreementAcceptance,
    Partner,
    PartnerAgreement,
    PartnerReReview,
    PartnerStatusChange,
)
from . import rules

HISTORY_LIMIT = 50
STATUS_LABELS = dict(Partner.Status.choices)


@dataclass(frozen=True)
class HistoryRow:
    from_status: str
    to_status: str
    from_label: str
    to_label: str
    reason: str
    by_kind: str  # person | rule
    by_name: str
    at: datetime


def partner_status_history(*, partner: Partner, limit: int = HISTORY_LIMIT) -> list[HistoryRow]:
    """The partner's status changes, newest first, at most `limit` (one query)."""
    rows = (
        PartnerStatusChange.objects.filter(partner=partner)
        .select_related("by")
        .order_by("-at", "-pk")[:limit]
    )
    return [
        HistoryRow(
            from_status=row.from_status,
            to_status=row.to_status,
            from_label=STATUS_LABELS.get(row.from_status, row.from_status),
            to_label=STATUS_LABELS.get(row.to_status, row.to_status),
            reason=row.reason,
            by_kind="person" if row.by_id is not None else "rule",
            by_name=(
                row.by.display_name
                if row.by is not None
                else rules.RULE_LABELS.get(row.rule, row.rule)
            ),
            at=row.at,
        )
        for row in rows
    ]


# --- re-reviews -------------------------------------------------------------------


@dataclass(frozen=True)
class ReReviewView:
    partner: Partner
    state: str  # none | upcoming | due | overdue
    due_at: datetime | None
    suspends_at: datetime | None
    open: bool
    agreement: PartnerAgreement | None  # the version in force
    agreement_to_accept: bool  # it differs from the last version the partner accepted


def rereview_of(*, partner: Partner, now: datetime | None = None) -> ReReviewView:
    now = now or timezone.now()
    reviewable = partner.status == rules.ACTIVE or (
        partner.status == rules.SUSPENDED and partner.suspended_from == rules.ACTIVE
    )
    due = partner.rereview_due_at if reviewable else None
    is_open = rules.rereview_open(due=due, now=now)
    agreement, last = None, None
    if is_open:  # the form needs the agreement; otherwise no query
        agreement = agreement_current(now=now)
        last = (
            AgreementAcceptance.objects.filter(partner=partner)
            .order_by("-accepted_at", "-pk")
            .values_list("agreement_id", flat=True)
            .first()
        )
    return ReReviewView(
        partner=partner,
        state=rules.rereview_state(due=due, now=now),
        due_at=due,
        suspends_at=rules.rereview_suspends_at(due) if due else None,
        open=is_open,
        agreement=agreement,
        agreement_to_accept=agreement is not None and last != agreement.pk,
    )


@dataclass(frozen=True)
class QueueRow:
    partner: Partner
    due_at: datetime | None
    suspends_at: datetime | None
    confirmed_at: datetime | None = None
    confirmed_by: str = ""


@dataclass(frozen=True)
class ReReviewQueue:
    due: list[QueueRow]  # open (within 30 days of the due date), not yet late
    overdue: list[QueueRow]  # past the due date (suspended ones included)
    confirmed: list[QueueRow]  # confirmed in the last 90 days
    days_confirmed = 90


def rereview_queue(*, now: datetime | None = None) -> ReReviewQueue:
    now = now or timezone.now()
    opens_by = now + timedelta(days=rules.REREVIEW_OPENS_DAYS_BEFORE)
    partners = Partner.objects.filter(
        Q(status=rules.ACTIVE) | Q(status=rules.SUSPENDED, suspended_from=rules.ACTIVE),
        rereview_due_at__lte=opens_by,
    ).order_by("rereview_due_at", "name")
    due: list[QueueRow] = []
    overdue: list[QueueRow] = []
    for p in partners:
        row = QueueRow(p, p.rereview_due_at, rules.rereview_suspends_at(p.rereview_due_at))
        (overdue if p.rereview_due_at <= now else due).append(row)
    confirmed = [
        QueueRow(
            r.partner,
            r.due_at,
            None,
            confirmed_at=r.confirmed_at,
            confirmed_by=r.confirmed_by.display_name,
        )
        for r in PartnerReReview.objects.filter(
            confirmed_at__gte=now - timedelta(days=ReReviewQueue.days_confirmed)
        )
        .select_related("partner", "confirmed_by")
        .order_by("-confirmed_at", "-pk")
    ]
    return ReReviewQueue(due=due, overdue=overdue, confirmed=confirmed)
