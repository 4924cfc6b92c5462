"""The pure lifecycle rules: the transition table, deadlines and reminders."""

from datetime import UTC, datetime, timedelta

import pytest

from partners.lifecycle import rules

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("from_state", "to_state", "actor", "reason", "suspended_from", "code"),
    [
        ("applicant", "provisional", "person", "", "", None),
        ("applicant", "provisional", "rule", "", "", "invalid_transition"),
        ("applicant", "active", "person", "", "", "invalid_transition"),
        ("provisional", "active", "rule", "", "", None),
        ("provisional", "active", "person", "", "", None),
        ("provisional", "suspended", "rule", "deadline", "", None),
        ("provisional", "suspended", "person", "", "", "reason_required"),
        ("provisional", "suspended", "person", "   ", "", "reason_required"),
        ("active", "suspended", "person", "fraud", "", None),
        ("active", "provisional", "person", "", "", "invalid_transition"),
        ("suspended", "active", "person", "", "active", None),
        ("suspended", "active", "person", "", "provisional", "invalid_transition"),
        ("suspended", "provisional", "person", "", "provisional", None),
        ("suspended", "provisional", "rule", "", "provisional", "invalid_transition"),
        ("suspended", "suspended", "person", "more", "active", None),
        ("suspended", "suspended", "rule", "more", "active", "invalid_transition"),
        ("active", "terminated", "person", "breach", "", None),
        ("active", "terminated", "person", "", "", "reason_required"),
        ("active", "terminated", "rule", "breach", "", "invalid_transition"),
        ("applicant", "terminated", "person", "x", "", "invalid_transition"),
        ("terminated", "active", "person", "", "", "invalid_transition"),
        ("terminated", "suspended", "person", "x", "", "invalid_transition"),
        ("terminated", "terminated", "person", "x", "", "invalid_transition"),
    ],
)
def test_transition_table(from_state, to_state, actor, reason, suspended_from, code):
    refusal = rules.check_transition(
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        reason=reason,
        suspended_from=suspended_from,
    )
    assert (refusal.code if refusal else None) == code


def test_good_standing():
    assert rules.is_in_good_standing("active") and rules.is_in_good_standing("provisional")
    assert not rules.is_in_good_standing("suspended")
    assert not rules.is_in_good_standing("terminated")


def test_rereview_is_due_12_months_after_the_later_of_activation_and_confirmation():
    assert rules.rereview_due(activated_at=None, last_confirmed_at=None) is None
    assert rules.rereview_due(activated_at=T0, last_confirmed_at=None) == T0.replace(year=2027)
    later = T0 + timedelta(days=300)
    assert rules.rereview_due(activated_at=T0, last_confirmed_at=later) == later.replace(year=2027)
    assert rules.rereview_due(activated_at=later, last_confirmed_at=T0) == later.replace(year=2027)
    assert rules.rereview_suspends_at(T0) == T0 + timedelta(days=30)


def test_rereview_state():
    due = T0
    assert rules.rereview_state(due=None, now=T0) == "none"
    assert rules.rereview_state(due=due, now=due - timedelta(days=31)) == "upcoming"
    assert rules.rereview_state(due=due, now=due - timedelta(days=30)) == "due"
    assert rules.rereview_state(due=due, now=due) == "overdue"


DEADLINE = datetime(2026, 7, 15, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("now", "sent", "expected"),
    [
        (DEADLINE - 31 * DAY, set(), None),  # the day before the 30-day reminder
        (DEADLINE - 30 * DAY, set(), 30),  # its day
        (DEADLINE - 29 * DAY, set(), 30),  # the day after: still due once
        (DEADLINE - 29 * DAY, {30}, None),  # ... and only once
        (DEADLINE - 8 * DAY, {30}, None),  # the day before the 7-day reminder
        (DEADLINE - 7 * DAY, {30}, 7),  # its day
        (DEADLINE - 6 * DAY, {30}, 7),  # the day after
        (DEADLINE - 6 * DAY, {30, 7}, None),
        (DEADLINE - 6 * DAY, set(), 7),  # the job was down: the most urgent one only
        (DEADLINE - 6 * DAY, {7}, None),
        (DEADLINE, set(), None),  # the deadline itself: no reminder any more
        (DEADLINE + DAY, set(), None),
    ],
)
def test_reminder_due(now, sent, expected):
    assert rules.reminder_due(deadline=DEADLINE, now=now, sent=sent) == expected


def test_unmet_requirements_in_checklist_order():
    none_met = rules.Requirements(False, False, False, False)
    assert rules.unmet_requirements(none_met) == [
        "agreement",
        "restricted_business",
        "business_foundations",
        "payments_account",
    ]
    assert rules.unmet_requirements(rules.Requirements(True, True, True, True)) == []
    reason = rules.deadline_suspension_reason(["business_foundations", "payments_account"])
    assert "Business Foundations" in reason and "Payments account" in reason


@pytest.mark.parametrize(
    ("partner_status", "verified", "reason"),
    [
        ("active", True, "verified"),
        ("provisional", True, "verified"),
        ("suspended", False, "partner_suspended"),
        ("terminated", False, "partner_terminated"),
    ],
)
def test_a_suspended_or_terminated_partner_is_verified_on_no_track(
    partner_status, verified, reason
):
    from partners import rollup

    members = [rollup.MemberSpan(p, T0 - timedelta(days=100)) for p in (1, 2)]
    creds = [rollup.CredentialSpan(p, "developer", T0 - timedelta(days=50)) for p in (1, 2)]
    status = rollup.track_status(
        now=T0,
        rule=rollup.TrackRule(counting_certifications=frozenset({"developer"})),
        verification=rollup.TechnicalVerification("passed"),
        members=members,
        credentials=creds,
        partner_status=partner_status,
    )
    assert (status.verified, status.reason) == (verified, reason)
    assert status.certified_individuals == 2  # still reported
    if not verified:
        assert status.state == "not_verified" and status.at_risk_until is None
