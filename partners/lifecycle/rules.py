"""The partner programme's lifecycle as pure rules: no Django, no clock.

Contract:
- `TRANSITIONS` is the transition table: for each (from, to) pair, who may
  make it, a person (programme staff) or a rule (a deadline, a met
  requirement). `check_transition(...)` answers a proposed change with None
  (allowed) or a `Refusal` naming a stable code:
  - `invalid_transition`: the table has no such row for that actor, the
    partner is terminated (final), or a reinstatement goes anywhere but the
    state the partner was suspended from;
  - `reason_required`: suspending or terminating needs a reason.
- A suspended partner remembers the state it was suspended from (`provisional`
  or `active`); reinstating returns it there. Staff may add their own reason
  to a rule's suspension (suspended -> suspended), which then only staff lift.
- Deadlines: `provisional_deadline(approved_at, months)`, `rereview_due(...)`
  (12 months after the later of activation and the last confirmed re-review),
  `rereview_suspends_at(due)` (30 days after), `rereview_open(due, now)`.
- Reminders: `reminder_due(deadline, now, sent)` is the one reminder to send at
  `now` (30 or 7 days before the deadline, each once; after a pause of the
  daily job only the most urgent one still due), or None.
- `unmet_requirements(...)` lists the provisional checklist items not met.

Every number here is the default written in docs/product-rules.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from certificates.rules import add_months

APPLICANT = "applicant"
PROVISIONAL = "provisional"
ACTIVE = "active"
SUSPENDED = "suspended"
TERMINATED = "terminated"
STATES = (APPLICANT, PROVISIONAL, ACTIVE, SUSPENDED, TERMINATED)

Actor = Literal["person", "rule"]
PERSON: Actor = "person"
RULE: Actor = "rule"

# Stable codes of the rules that change a status (kept in the history).
RULE_REQUIREMENTS_MET = "requirements_met"
RULE_PROVISIONAL_DEADLINE = "provisional_deadline"
RULE_REREVIEW_OVERDUE = "rereview_overdue"
RULE_REREVIEW_CONFIRMED = "rereview_confirmed"
RULE_LABELS = {
    RULE_REQUIREMENTS_MET: "Partner requirements met",
    RULE_PROVISIONAL_DEADLINE: "Provisional deadline",
    RULE_REREVIEW_OVERDUE: "Re-review overdue",
    RULE_REREVIEW_CONFIRMED: "Re-review confirmed",
}
# What caused a suspension (Partner.suspension_cause).
CAUSE_STAFF = "staff"

# (from, to) -> who may make the change.
TRANSITIONS: dict[tuple[str, str], frozenset[Actor]] = {
    (APPLICANT, PROVISIONAL): frozenset({PERSON}),  # the application approved
    (PROVISIONAL, ACTIVE): frozenset({PERSON, RULE}),  # requirements met
    (PROVISIONAL, SUSPENDED): frozenset({PERSON, RULE}),  # deadline passed
    (ACTIVE, SUSPENDED): frozenset({PERSON, RULE}),  # re-review overdue
    (SUSPENDED, SUSPENDED): frozenset({PERSON}),  # staff add their own reason
    (SUSPENDED, PROVISIONAL): frozenset({PERSON}),  # reinstated
    (SUSPENDED, ACTIVE): frozenset({PERSON, RULE}),  # reinstated; re-review confirmed
    (PROVISIONAL, TERMINATED): frozenset({PERSON}),
    (ACTIVE, TERMINATED): frozenset({PERSON}),
    (SUSPENDED, TERMINATED): frozenset({PERSON}),
}
NEEDS_REASON = frozenset({SUSPENDED, TERMINATED})
# States in which a partner is verified on no track and has no benefits.
NOT_IN_GOOD_STANDING = frozenset({SUSPENDED, TERMINATED})

REMINDER_DAYS = (30, 7)
REREVIEW_MONTHS = 12
REREVIEW_SUSPEND_AFTER_DAYS = 30
REREVIEW_OPENS_DAYS_BEFORE = 30


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def check_transition(
    *,
    from_state: str,
    to_state: str,
    actor: Actor,
    reason: str,
    suspended_from: str = "",
) -> Refusal | None:
    """None when the change is allowed; otherwise why not (see the module contract)."""
    if from_state == TERMINATED:
        return Refusal("invalid_transition", "This partner was terminated; a termination is final.")
    allowed = TRANSITIONS.get((from_state, to_state), frozenset())
    if actor not in allowed:
        return Refusal(
            "invalid_transition",
            f"A partner cannot go from {from_state} to {to_state}"
            + (" by a rule." if actor == RULE and allowed else "."),
        )
    if from_state == SUSPENDED and to_state in (PROVISIONAL, ACTIVE) and to_state != suspended_from:
        return Refusal(
            "invalid_transition",
            f"This partner was suspended as {suspended_from or 'unknown'}; reinstating "
            f"returns it to {suspended_from or 'that state'}, not {to_state}.",
        )
    if to_state in NEEDS_REASON and not reason.strip():
        return Refusal("reason_required", f"Give a reason to make the partner {to_state}.")
    return None


def is_in_good_standing(status: str) -> bool:
    """False for suspended and terminated partners: no verified track, no benefits."""
    return status not in NOT_IN_GOOD_STANDING


def reinstates_to(*, suspended_from: str) -> str:
    return suspended_from or ACTIVE


# --- deadlines ----------------------------------------------------------------


def provisional_deadline(*, approved_at: datetime, months: int) -> datetime:
    return add_months(approved_at, months)


def rereview_due(
    *, activated_at: datetime | None, last_confirmed_at: datetime | None
) -> datetime | None:
    """12 months after the later of activation and the last confirmed re-review."""
    moments = [m for m in (activated_at, last_confirmed_at) if m is not None]
    if not moments:
        return None
    return add_months(max(moments), REREVIEW_MONTHS)


def rereview_suspends_at(due: datetime) -> datetime:
    return due + timedelta(days=REREVIEW_SUSPEND_AFTER_DAYS)


def rereview_open(*, due: datetime | None, now: datetime) -> bool:
    """Partner admins may confirm from 30 days before the due date (the first reminder)."""
    return due is not None and now >= due - timedelta(days=REREVIEW_OPENS_DAYS_BEFORE)


def rereview_state(*, due: datetime | None, now: datetime) -> str:
    """none | upcoming | due (open, not yet late) | overdue (past the due date)."""
    if due is None:
        return "none"
    if now >= due:
        return "overdue"
    if rereview_open(due=due, now=now):
        return "due"
    return "upcoming"


def reminder_due(*, deadline: datetime, now: datetime, sent: Iterable[int]) -> int | None:
    """The reminder (days before `deadline`) to send at `now`, or None.

    The 30-day reminder is due from 30 days before the deadline, the 7-day one
    from 7 days before; none once the deadline has come. Only the most urgent
    reminder due is sent, once: a job that missed the 30-day window and runs
    inside the 7-day one sends the 7-day reminder alone.
    """
    if now >= deadline:
        return None
    due = [days for days in REMINDER_DAYS if now >= deadline - timedelta(days=days)]
    if not due:
        return None
    most_urgent = min(due)
    return None if most_urgent in set(sent) else most_urgent


# --- the provisional requirements ---------------------------------------------

REQUIREMENT_LABELS = {
    "agreement": "Partner agreement accepted",
    "restricted_business": "Not a restricted business (attested)",
    "business_foundations": "At least one person completed Business Foundations",
    "payments_account": "Payments account created and activated (confirmed by staff)",
}


@dataclass(frozen=True)
class Requirements:
    agreement_accepted: bool
    restricted_business_attested: bool
    business_foundations_completed: bool
    payments_account_confirmed: bool


def unmet_requirements(requirements: Requirements) -> list[str]:
    """Keys of the unmet items, in checklist order (empty: all met)."""
    met = {
        "agreement": requirements.agreement_accepted,
        "restricted_business": requirements.restricted_business_attested,
        "business_foundations": requirements.business_foundations_completed,
        "payments_account": requirements.payments_account_confirmed,
    }
    return [key for key, done in met.items() if not done]


def deadline_suspension_reason(unmet: Iterable[str]) -> str:
    items = "; ".join(REQUIREMENT_LABELS[key] for key in unmet)
    return f"The provisional deadline passed with requirements unmet: {items}."
