"""The partner programme lifecycle: status transitions, deadlines, re-reviews.

Contract:
- `partner_transition(*, partner, to, reason, by, rule, now, deadline)` moves a
  partner's programme status along `partners.lifecycle.rules.TRANSITIONS`:
  `by` is the person (programme staff) or None with `rule` the code of the rule
  that made the change. One conditional UPDATE on the status read (so of two
  parallel transitions from one state, one wins and the other is refused with
  409 `invalid_transition`), one `PartnerStatusChange` row, the signal
  `partners.signals.partner_status_changed` sent inside the transaction, and
  the partner's current admins e-mailed after commit (except on approval,
  which the application's own e-mail announces). Refusals change nothing:
  409 `invalid_transition` (not in the table, from terminated, a reinstatement
  elsewhere than the state suspended from), 422 `reason_required`,
  `reason_too_long`, `invalid_deadline`, `deadline_required` (reinstating
  past the partner's deadline without a new one).
- A reinstatement may carry a new `deadline` (a provisional partner's new
  provisional deadline, an active partner's next re-review); approval sets the
  provisional deadline (`PARTNER_PROVISIONAL_MONTHS` after it); activation
  sets the first re-review 12 months later.
- `partner_requirements_check(*, partner, now)` makes a provisional partner
  active as soon as every requirement is met (the rule `requirements_met`);
  receivers call it on the events that can complete an item.
- `partner_payments_account_confirm(*, partner, by, now)`: staff confirm the
  partner's payments account is created and activated (once; idempotent).
- `partner_rereview_confirm(*, partner, by, agreement_version,
  restricted_business_attested, now)`: a current partner admin re-confirms;
  anyone else 403 `not_partner_admin`. Accepts the agreement version in force
  when it differs from the last one accepted, stores a `PartnerReReview`
  (once per due date), moves the next re-review 12 months on and reactivates a
  partner suspended only for the overdue re-review.
- `lifecycle_daily(*, now)`: the daily job; see `partners.lifecycle.tasks`. A
  provisional partner without a deadline or an active one without a re-review
  date (made so by staff or the demo data, not by a transition) gets one
  from the first run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from courses.selectors import BUSINESS_FOUNDATIONS_SLUG, people_who_completed
from lms.errors import Conflict, DomainError
from lms.timezones import Recipient, mail_per_zone

from .. import signals
from ..agreements.services import agreement_current
from ..models import (
    AgreementAcceptance,
    DeadlineKind,
    Membership,
    Partner,
    PartnerApplication,
    PartnerDeadlineReminder,
    PartnerReReview,
    PartnerStatusChange,
)
from . import rules

logger = logging.getLogger(__name__)

MAX_REASON_LENGTH = 2000


def provisional_months() -> int:
    return int(getattr(settings, "PARTNER_PROVISIONAL_MONTHS", 6))


# --- guards -------------------------------------------------------------------


def check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            f"Keep the reason under {MAX_REASON_LENGTH} characters.",
            code="reason_too_long",
            status=422,
        )
    if "\x00" in reason:
        raise DomainError("The reason contains a NUL character.", code="invalid_reason", status=422)
    return reason


def check_deadline(deadline: datetime | None, *, now: datetime) -> None:
    if deadline is None:
        return
    if timezone.is_naive(deadline) or deadline <= now:
        raise DomainError(
            "A new deadline must be in the future.", code="invalid_deadline", status=422
        )


def check_reinstatement_deadline(
    *, current: Partner, to: str, deadline: datetime | None, now: datetime
) -> None:
    """Reinstating past a deadline needs a new one, or the next daily run would
    suspend the partner again at once."""
    if current.status != rules.SUSPENDED or deadline is not None:
        return
    if to == rules.PROVISIONAL:
        passed = current.provisional_deadline is not None and current.provisional_deadline <= now
        what = "provisional deadline"
    elif to == rules.ACTIVE:
        due = current.rereview_due_at
        passed = due is not None and rules.rereview_suspends_at(due) <= now
        what = "re-review date"
    else:
        return
    if passed:
        raise DomainError(
            f"The partner's {what} has passed; give a new one to reinstate it.",
            code="deadline_required",
            status=422,
        )


def check_partner_admin(*, partner: Partner, person) -> None:
    is_admin = (
        person is not None
        and getattr(person, "is_authenticated", False)
        and Membership.objects.filter(
            partner=partner,
            person_id=person.pk,
            role=Membership.Role.ADMIN,
            ended__isnull=True,
        ).exists()
    )
    if not is_admin:
        raise DomainError(
            f"Only a partner admin of {partner.name} can confirm its re-review.",
            code="not_partner_admin",
            status=403,
        )


# --- transitions --------------------------------------------------------------


def _changes_for(
    *, current: Partner, to: str, rule: str, now: datetime, deadline: datetime | None
) -> dict:
    """The Partner fields a transition writes besides the status."""
    changes: dict = {"status": to, "updated_at": now}
    from_state = current.status
    if to == rules.SUSPENDED:
        if from_state != rules.SUSPENDED:
            changes["suspended_from"] = from_state
        changes["suspension_cause"] = rule or rules.CAUSE_STAFF
    else:
        changes["suspended_from"] = ""
        changes["suspension_cause"] = ""
    if to == rules.PROVISIONAL:
        if from_state == rules.APPLICANT:
            changes["provisional_deadline"] = deadline or rules.provisional_deadline(
                approved_at=now, months=provisional_months()
            )
        elif deadline is not None:
            changes["provisional_deadline"] = deadline
    if to == rules.ACTIVE:
        if from_state == rules.PROVISIONAL:
            changes["activated_at"] = now
            changes["rereview_due_at"] = rules.rereview_due(
                activated_at=now, last_confirmed_at=None
            )
        elif deadline is not None:
            changes["rereview_due_at"] = deadline
    return changes


@transaction.atomic
def partner_transition(
    *,
    partner: Partner,
    to: str,
    reason: str = "",
    by=None,
    rule: str = "",
    now: datetime | None = None,
    deadline: datetime | None = None,
) -> PartnerStatusChange:
    """Move `partner` to `to`; see the module contract. Returns the history row."""
    now = now or timezone.now()
    if (by is None) == (not rule):
        raise ValueError("A transition is made by a person or by a rule, exactly one of them.")
    reason = check_reason(reason)
    current = Partner.objects.get(pk=partner.pk)
    refusal = rules.check_transition(
        from_state=current.status,
        to_state=to,
        actor=rules.RULE if rule else rules.PERSON,
        reason=reason,
        suspended_from=current.suspended_from,
    )
    if refusal is not None:
        if refusal.code == "reason_required":
            raise DomainError(refusal.message, code=refusal.code, status=422)
        raise Conflict(refusal.message, code=refusal.code, status_now=current.status)
    check_deadline(deadline, now=now)
    check_reinstatement_deadline(current=current, to=to, deadline=deadline, now=now)
    changes = _changes_for(current=current, to=to, rule=rule, now=now, deadline=deadline)
    moved = Partner.objects.filter(
        pk=current.pk, status=current.status, suspended_from=current.suspended_from
    ).update(**changes)
    if not moved:
        fresh = Partner.objects.only("status").get(pk=current.pk)
        raise Conflict(
            f"The partner's status changed meanwhile (it is {fresh.status} now); "
            "reload and decide again.",
            code="invalid_transition",
            status_now=fresh.status,
        )
    for name, value in changes.items():
        setattr(partner, name, value)
    change = PartnerStatusChange.objects.create(
        partner=partner,
        from_status=current.status,
        to_status=to,
        reason=reason,
        by=by,
        rule=rule,
        at=now,
    )
    signals.partner_status_changed.send(
        sender=Partner,
        partner=partner,
        from_state=current.status,
        to_state=to,
        reason=reason,
        at=now,
        by=by,
    )
    _mail_admins_on_commit(partner, change)
    if to == rules.PROVISIONAL and current.status != rules.PROVISIONAL:
        partner_requirements_check(partner=partner, now=now)
    return change


def _admin_recipients(partner_id: int) -> list[Recipient]:
    return sorted(
        Recipient(email, zone)
        for email, zone in Membership.objects.filter(
            partner_id=partner_id, role=Membership.Role.ADMIN, ended__isnull=True
        ).values_list("person__email", "person__time_zone")
    )


def _send_on_commit(subject: str, mails: list[tuple[list[str], str]]) -> None:
    """Each admin reads the dates in their own zone (one message per zone)."""
    for recipients, body in mails:
        transaction.on_commit(
            lambda body=body, recipients=recipients: send_mail(subject, body, None, recipients)
        )


def _dashboard_url(partner: Partner) -> str:
    return settings.SITE_URL + reverse("partners:dashboard", args=[partner.slug])


def _mail_admins_on_commit(partner: Partner, change: PartnerStatusChange) -> None:
    if change.from_status == rules.APPLICANT:
        return  # the application's approval e-mail tells the applicant
    recipients = _admin_recipients(partner.pk)
    if not recipients:
        return
    context = {
        "partner": partner,
        "change": change,
        "by_name": by_name(change),
        "from_label": dict(Partner.Status.choices).get(change.from_status, change.from_status),
        "to_label": dict(Partner.Status.choices).get(change.to_status, change.to_status),
        "dashboard_url": _dashboard_url(partner),
    }
    subject = f"{partner.name} is now {context['to_label'].lower()} in the partner programme"
    _send_on_commit(
        subject,
        mail_per_zone(
            recipients,
            lambda: render_to_string("partners/email/partner_status_changed.txt", context),
        ),
    )


def by_name(change: PartnerStatusChange) -> str:
    if change.by_id is not None:
        return change.by.display_name if change.by is not None else ""
    return rules.RULE_LABELS.get(change.rule, change.rule)


# --- the provisional requirements ---------------------------------------------


def requirements_of(partner_ids: list[int]) -> dict[int, rules.Requirements]:
    """The checklist inputs of many partners in 5 queries, whatever their number."""
    partner_ids = list(partner_ids)
    if not partner_ids:
        return {}
    accepted = set(
        AgreementAcceptance.objects.filter(partner_id__in=partner_ids).values_list(
            "partner_id", flat=True
        )
    )
    attested = set(
        PartnerApplication.objects.filter(
            partner_id__in=partner_ids, restricted_business_attested_at__isnull=False
        ).values_list("partner_id", flat=True)
    ) | set(
        PartnerReReview.objects.filter(partner_id__in=partner_ids).values_list(
            "partner_id", flat=True
        )
    )
    members: dict[int, set[int]] = defaultdict(set)
    for pid, person in Membership.objects.filter(
        partner_id__in=partner_ids, ended__isnull=True
    ).values_list("partner_id", "person_id"):
        members[pid].add(person)
    completed = people_who_completed(
        course_slug=BUSINESS_FOUNDATIONS_SLUG,
        person_ids={p for people in members.values() for p in people},
    )
    confirmed = set(
        Partner.objects.filter(
            pk__in=partner_ids, payments_account_confirmed_at__isnull=False
        ).values_list("pk", flat=True)
    )
    return {
        pid: rules.Requirements(
            agreement_accepted=pid in accepted,
            restricted_business_attested=pid in attested,
            business_foundations_completed=bool(members.get(pid, set()) & completed),
            payments_account_confirmed=pid in confirmed,
        )
        for pid in partner_ids
    }


def partner_requirements_check(*, partner: Partner, now: datetime | None = None) -> bool:
    """Activate a provisional partner whose requirements are all met; True if it did."""
    now = now or timezone.now()
    status = Partner.objects.filter(pk=partner.pk).values_list("status", flat=True).first()
    if status != rules.PROVISIONAL:
        return False
    if rules.unmet_requirements(requirements_of([partner.pk])[partner.pk]):
        return False
    return _activate_by_rule(partner, now=now)


def _activate_by_rule(partner: Partner, *, now: datetime) -> bool:
    try:
        with transaction.atomic():
            partner_transition(
                partner=partner,
                to=rules.ACTIVE,
                rule=rules.RULE_REQUIREMENTS_MET,
                reason="Every partner requirement is met.",
                now=now,
            )
    except Conflict:  # changed meanwhile: whoever moved it decided
        return False
    return True


def schedule_requirements_check(partner_id: int) -> None:
    """Check the partner's requirements after the current transaction commits."""

    def run():
        partner = Partner.objects.filter(pk=partner_id).first()
        if partner is None:
            return
        try:
            partner_requirements_check(partner=partner)
        except Exception:  # the daily job catches up; the caller's work is committed
            logger.exception("Checking the requirements of partner %s failed", partner_id)

    transaction.on_commit(run)


@transaction.atomic
def partner_payments_account_confirm(*, partner: Partner, by, now: datetime | None = None) -> bool:
    """Staff confirm the payments account is created and activated; True if newly confirmed."""
    now = now or timezone.now()
    confirmed = Partner.objects.filter(
        pk=partner.pk, payments_account_confirmed_at__isnull=True
    ).update(payments_account_confirmed_at=now, payments_account_confirmed_by=by)
    if confirmed:
        partner.payments_account_confirmed_at = now
        partner.payments_account_confirmed_by = by
        schedule_requirements_check(partner.pk)
    return bool(confirmed)


# --- the yearly re-review -------------------------------------------------------


def check_rereview_open(*, partner: Partner, now: datetime) -> None:
    reviewable = partner.status == rules.ACTIVE or (
        partner.status == rules.SUSPENDED and partner.suspended_from == rules.ACTIVE
    )
    if not reviewable or partner.rereview_due_at is None:
        raise Conflict("Only an active partner has a yearly re-review.", code="rereview_not_due")
    if not rules.rereview_open(due=partner.rereview_due_at, now=now):
        opens = partner.rereview_due_at - timedelta(days=rules.REREVIEW_OPENS_DAYS_BEFORE)
        raise Conflict(
            f"The re-review opens on {timezone.localtime(opens):%d %b %Y}.",
            code="rereview_not_open",
        )


@transaction.atomic
def partner_rereview_confirm(
    *,
    partner: Partner,
    by,
    agreement_version: str,
    restricted_business_attested: bool,
    now: datetime | None = None,
) -> PartnerReReview:
    now = now or timezone.now()
    check_partner_admin(partner=partner, person=by)
    current = Partner.objects.get(pk=partner.pk)
    check_rereview_open(partner=current, now=now)
    if not restricted_business_attested:
        raise DomainError(
            "Confirm that the company is not a restricted business.",
            code="restricted_business_attestation_required",
            status=422,
        )
    agreement = agreement_current(now=now)
    if agreement is None:
        raise Conflict("No partner agreement is published.", code="no_agreement")
    last = (
        AgreementAcceptance.objects.filter(partner=current).order_by("-accepted_at", "-pk").first()
    )
    if last is None or last.agreement_id != agreement.pk:
        if agreement_version != agreement.version:
            raise Conflict(
                f"Read and accept version {agreement.version} of the partner agreement.",
                code="agreement_outdated",
                current_version=agreement.version,
            )
        AgreementAcceptance.objects.get_or_create(
            partner=current, agreement=agreement, defaults={"accepted_by": by, "accepted_at": now}
        )
    due = current.rereview_due_at
    try:
        with transaction.atomic():
            review = PartnerReReview.objects.create(
                partner=current,
                confirmed_by=by,
                confirmed_at=now,
                due_at=due,
                agreement=agreement,
                restricted_business_attested_at=now,
            )
    except IntegrityError as error:
        raise Conflict("This re-review is confirmed already.", code="rereview_confirmed") from error
    next_due = rules.rereview_due(activated_at=current.activated_at, last_confirmed_at=now)
    Partner.objects.filter(pk=current.pk, rereview_due_at=due).update(
        rereview_due_at=next_due, updated_at=now
    )
    partner.rereview_due_at = next_due
    if (
        current.status == rules.SUSPENDED
        and current.suspension_cause == rules.RULE_REREVIEW_OVERDUE
    ):
        partner_transition(
            partner=partner,
            to=rules.ACTIVE,
            rule=rules.RULE_REREVIEW_CONFIRMED,
            reason=f"{by.display_name} confirmed the re-review.",
            now=now,
        )
    return review


# --- the daily job --------------------------------------------------------------


@dataclass
class DailyResult:
    activated: int = 0
    suspended: int = 0
    reminders: int = 0


def _remind(partner: Partner, *, kind: str, deadline: datetime, now: datetime, sent) -> bool:
    days = rules.reminder_due(deadline=deadline, now=now, sent=sent)
    if days is None:
        return False
    try:
        with transaction.atomic():
            PartnerDeadlineReminder.objects.create(
                partner=partner, kind=kind, deadline=deadline, days=days, sent_at=now
            )
            recipients = _admin_recipients(partner.pk)
            if recipients:
                context = {
                    "partner": partner,
                    "kind": kind,
                    "deadline": deadline,
                    "days": days,
                    "dashboard_url": _dashboard_url(partner),
                    "rereview_url": settings.SITE_URL
                    + reverse("partners_lifecycle:rereview", args=[partner.slug]),
                }
                subject = (
                    f"{partner.name}: the partner requirements are due in {days} days"
                    if kind == DeadlineKind.PROVISIONAL
                    else f"{partner.name}: the yearly partner re-review is due in {days} days"
                )
                _send_on_commit(
                    subject,
                    mail_per_zone(
                        recipients,
                        lambda: render_to_string("partners/email/deadline_reminder.txt", context),
                    ),
                )
    except IntegrityError:  # sent by a parallel run
        return False
    return True


def _suspend_by_rule(partner: Partner, *, rule: str, reason: str, now: datetime) -> bool:
    try:
        with transaction.atomic():
            partner_transition(
                partner=partner, to=rules.SUSPENDED, rule=rule, reason=reason, now=now
            )
    except Conflict:
        return False
    return True


def partner_dates_initialise(*, now: datetime) -> None:
    """Partners made provisional or active without a transition (created so by
    staff or the demo data) get their deadline or first re-review from the
    first run that sees them (conditional updates: idempotent)."""
    Partner.objects.filter(status=rules.PROVISIONAL, provisional_deadline__isnull=True).update(
        provisional_deadline=rules.provisional_deadline(
            approved_at=now, months=provisional_months()
        )
    )
    Partner.objects.filter(status=rules.ACTIVE, rereview_due_at__isnull=True).update(
        rereview_due_at=rules.rereview_due(activated_at=now, last_confirmed_at=None)
    )


def lifecycle_daily(*, now: datetime | None = None) -> DailyResult:
    """Activate, remind and suspend as the deadlines say (idempotent).

    Everything is decided from the stored deadlines and what was already done
    (status, reminder rows), never from "yesterday", so a run after days of
    downtime does each overdue thing once.
    """
    now = now or timezone.now()
    result = DailyResult()
    partner_dates_initialise(now=now)
    provisional = list(Partner.objects.filter(status=rules.PROVISIONAL).order_by("pk"))
    requirements = requirements_of([p.pk for p in provisional])
    active = list(
        Partner.objects.filter(status=rules.ACTIVE, rereview_due_at__isnull=False).order_by("pk")
    )
    sent: dict[tuple[int, str, datetime], set[int]] = defaultdict(set)
    for pid, kind, deadline, days in PartnerDeadlineReminder.objects.filter(
        partner_id__in=[p.pk for p in provisional + active]
    ).values_list("partner_id", "kind", "deadline", "days"):
        sent[(pid, kind, deadline)].add(days)

    for partner in provisional:
        unmet = rules.unmet_requirements(requirements[partner.pk])
        if not unmet:
            result.activated += _activate_by_rule(partner, now=now)
            continue
        deadline = partner.provisional_deadline
        if deadline is None:
            continue
        if now >= deadline:
            result.suspended += _suspend_by_rule(
                partner,
                rule=rules.RULE_PROVISIONAL_DEADLINE,
                reason=rules.deadline_suspension_reason(unmet),
                now=now,
            )
        else:
            result.reminders += _remind(
                partner,
                kind=DeadlineKind.PROVISIONAL,
                deadline=deadline,
                now=now,
                sent=sent[(partner.pk, DeadlineKind.PROVISIONAL, deadline)],
            )

    for partner in active:
        due = partner.rereview_due_at
        if now >= rules.rereview_suspends_at(due):
            result.suspended += _suspend_by_rule(
                partner,
                rule=rules.RULE_REREVIEW_OVERDUE,
                reason=(
                    f"The yearly re-review was due on {timezone.localtime(due):%d %b %Y} "
                    f"and is more than {rules.REREVIEW_SUSPEND_AFTER_DAYS} days overdue."
                ),
                now=now,
            )
        else:
            result.reminders += _remind(
                partner,
                kind=DeadlineKind.REREVIEW,
                deadline=due,
                now=now,
                sent=sent[(partner.pk, DeadlineKind.REREVIEW, due)],
            )
    return result
