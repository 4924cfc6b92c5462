"""Pure tests for partners.rollup (no database).

Contract under test: the track-status rule in partners/rollup.py, checked
against the worked cases (tests/testdata/partner-rollup.json), hand-written
edge cases, and a
brute-force oracle on random histories.
"""

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from partners.rollup import (
    CredentialSpan,
    HolderForecast,
    MemberSpan,
    TechnicalVerification,
    TrackRule,
    certified_count_at,
    people_whose_renewal_matters,
    track_status,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTDATA = REPO_ROOT / "tests" / "testdata" / "partner-rollup.json"

RULE = TrackRule(counting_certifications=frozenset({"developer", "architect"}))
PASSED = TechnicalVerification("passed", None)


def ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def day(y: int, m: int, d: int, *rest: int) -> datetime:
    return datetime(y, m, d, *rest, tzinfo=UTC)


def member(person, started, ended=None):
    return MemberSpan(person, started, ended)


def cred(person, started, expires, revoked=None, certification="developer"):
    return CredentialSpan(person, certification, started, expires, revoked)


def status(now, members, credentials, *, rule=RULE, verification=PASSED):
    return track_status(
        now=now, rule=rule, verification=verification, members=members, credentials=credentials
    )


# --- the shared worked cases --------------------------------------------------

CASES = json.loads(TESTDATA.read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_worked_case(case):
    rule = TrackRule(
        required=case["rule"]["required"],
        grace_days=case["rule"]["grace_days"],
        counting_certifications=frozenset(case["rule"]["counting_certifications"]),
    )
    tv = case["technical_verification"]
    members = [MemberSpan(m["person"], ts(m["started"]), ts(m["ended"])) for m in case["members"]]
    credentials = [
        CredentialSpan(
            c["person"],
            c["certification"],
            ts(c["issued_at"]),
            ts(c["expires_at"]),
            ts(c["revoked_at"]),
        )
        for c in case["credentials"]
    ]
    now = ts(case["now"])

    result = track_status(
        now=now,
        rule=rule,
        verification=TechnicalVerification(tv["status"], ts(tv["expires_at"])),
        members=members,
        credentials=credentials,
    )

    expected = case["expected"]
    assert result.verified is expected["verified"]
    assert result.certified_individuals == expected["certified_individuals"]
    assert result.at_risk_until == ts(expected["at_risk_until"])
    assert result.lapses_on == ts(expected["lapses_on"])
    assert result.required == rule.required
    assert certified_count_at(now, members, credentials, rule) == result.certified_individuals


# --- counting ---------------------------------------------------------------


def test_one_person_with_both_certifications_counts_once():
    members = [member("a", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1), certification="developer"),
        cred("a", day(2026, 3, 1), day(2028, 3, 1), certification="architect"),
    ]

    assert certified_count_at(day(2027, 1, 1), members, creds, RULE) == 1
    assert status(day(2027, 1, 1), members, creds).certified_individuals == 1


def test_two_memberships_of_one_person_count_once():
    members = [member("a", day(2026, 1, 1)), member("a", day(2026, 6, 1))]
    creds = [cred("a", day(2026, 2, 1), day(2028, 2, 1))]

    assert status(day(2027, 1, 1), members, creds).certified_individuals == 1


def test_departed_member_keeps_credential_but_does_not_count():
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1), day(2026, 9, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
    ]

    assert certified_count_at(day(2026, 8, 31), members, creds, RULE) == 2
    assert certified_count_at(day(2026, 9, 1), members, creds, RULE) == 1
    assert creds[1].valid_at(day(2026, 9, 1))  # the credential is still the person's


def test_credential_of_someone_never_a_member_does_not_count():
    members = [member("a", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("x", day(2026, 2, 1), day(2028, 2, 1)),
    ]

    assert status(day(2027, 1, 1), members, creds).certified_individuals == 1


def test_credential_earned_before_joining_counts_from_the_join():
    members = [member("a", day(2026, 1, 1)), member("b", day(2027, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2025, 6, 1), day(2027, 6, 1)),
    ]

    assert status(day(2026, 12, 31), members, creds).certified_individuals == 1
    result = status(day(2027, 1, 1), members, creds)
    assert result.certified_individuals == 2
    assert result.lapses_on == day(2027, 6, 1)


def test_membership_start_is_inclusive_and_end_exclusive():
    members = [member("a", day(2026, 1, 1), day(2026, 6, 1))]
    creds = [cred("a", day(2025, 1, 1), day(2028, 1, 1))]

    assert certified_count_at(day(2026, 1, 1), members, creds, RULE) == 1
    assert certified_count_at(day(2026, 6, 1), members, creds, RULE) == 0


# --- simultaneous changes ---------------------------------------------------


def test_expiry_and_join_at_the_same_instant_is_no_drop():
    t = day(2027, 3, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1)), member("c", t)]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), t),
        cred("c", day(2026, 5, 1), day(2028, 5, 1)),
    ]

    result = status(t + timedelta(days=10), members, creds)

    assert result.certified_individuals == 2
    assert result.state == "verified"
    assert result.at_risk_until is None
    assert result.below_required_since is None
    assert result.lapses_on == day(2028, 2, 1)


def test_leave_and_issue_at_the_same_instant_is_no_drop():
    t = day(2027, 3, 1)
    members = [
        member("a", day(2026, 1, 1)),
        member("b", day(2026, 1, 1), t),
        member("c", day(2026, 1, 1)),
    ]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
        cred("c", t, day(2029, 3, 1)),
    ]

    result = status(t, members, creds)

    assert (result.certified_individuals, result.at_risk_until) == (2, None)


def test_revocation_and_expiry_of_one_credential_at_the_same_instant_is_an_expiry():
    # Revoking a credential at the very moment it expires changes nothing: the
    # drop would have happened anyway, so the grace applies.
    t = day(2027, 1, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [cred("a", day(2026, 2, 1), day(2028, 2, 1)), cred("b", day(2026, 2, 1), t, t)]

    result = status(t + timedelta(days=1), members, creds)

    assert result.state == "at_risk"
    assert result.at_risk_until == t + timedelta(days=60)


def test_revocation_after_expiry_changes_nothing():
    t = day(2027, 1, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), t, t + timedelta(days=5)),
    ]

    assert status(t + timedelta(days=10), members, creds).at_risk_until == t + timedelta(days=60)


def test_revocation_needed_for_the_drop_means_no_grace_even_with_a_simultaneous_expiry():
    # 3 -> 1 at t: without b's revocation the count would have stayed at 2.
    t = day(2027, 1, 1)
    members = [member(p, day(2026, 1, 1)) for p in "abc"]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1), t),
        cred("c", day(2026, 2, 1), t),
    ]

    result = status(t + timedelta(days=1), members, creds)

    assert result.verified is False
    assert result.at_risk_until is None
    assert result.reason == "revoked"


def test_drop_that_an_expiry_alone_causes_keeps_the_grace_despite_a_revocation():
    # 2 -> 0 at t: a's expiry alone would have taken the count below 2.
    t = day(2027, 1, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), t),
        cred("b", day(2026, 2, 1), day(2028, 2, 1), t),
    ]

    result = status(t + timedelta(days=1), members, creds)

    assert result.certified_individuals == 0
    assert result.state == "at_risk"
    assert result.at_risk_until == t + timedelta(days=60)


def test_revoking_one_of_two_credentials_while_the_other_expires_is_a_revocation():
    t = day(2027, 1, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), t, certification="developer"),
        cred("b", day(2026, 2, 1), day(2028, 2, 1), t, certification="architect"),
    ]

    result = status(t + timedelta(days=1), members, creds)

    assert (result.verified, result.at_risk_until, result.reason) == (False, None, "revoked")


def test_revocation_of_a_second_credential_leaves_the_person_counting():
    t = day(2027, 1, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1), certification="developer"),
        cred("b", day(2026, 2, 1), day(2028, 2, 1), t, certification="architect"),
    ]

    result = status(t + timedelta(days=1), members, creds)

    assert (result.certified_individuals, result.state) == (2, "verified")


# --- grace --------------------------------------------------------------------


def test_grace_deadline_is_exclusive():
    left = day(2027, 1, 1, 9, 30)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1), left)]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
    ]
    deadline = left + timedelta(days=60)

    assert status(deadline - timedelta(microseconds=1), members, creds).state == "at_risk"
    after = status(deadline, members, creds)
    assert (after.verified, after.at_risk_until, after.reason) == (False, None, "grace_ended")


def test_a_later_drop_restarts_the_grace():
    d1, back, d2 = day(2027, 1, 1), day(2027, 2, 1), day(2027, 2, 15)
    members = [
        member("a", day(2026, 1, 1)),
        member("b", day(2026, 1, 1), d1),
        member("c", back, d2),
    ]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
        cred("c", day(2026, 2, 1), day(2028, 2, 1)),
    ]

    result = status(d1 + timedelta(days=70), members, creds)

    assert result.at_risk_until == d2 + timedelta(days=60)
    assert result.below_required_since == d2


def test_revocation_drop_after_an_earlier_recovered_drop_gets_no_grace():
    d1, back, d2 = day(2027, 1, 1), day(2027, 1, 5), day(2027, 1, 10)
    members = [
        member("a", day(2026, 1, 1)),
        member("b", day(2026, 1, 1), d1),
        member("c", back),
    ]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
        cred("c", day(2026, 2, 1), day(2028, 2, 1), d2),
    ]

    result = status(d2 + timedelta(days=1), members, creds)

    assert (result.verified, result.reason) == (False, "revoked")


def test_never_reached_required_is_not_at_risk():
    members = [member("a", day(2026, 1, 1))]
    creds = [cred("a", day(2026, 2, 1), day(2028, 2, 1))]

    result = status(day(2027, 1, 1), members, creds)

    assert (result.state, result.at_risk_until, result.reason) == (
        "not_verified",
        None,
        "too_few_certified",
    )


def test_grace_counts_in_utc_across_a_dst_change():
    berlin = ZoneInfo("Europe/Berlin")
    left = datetime(2027, 2, 1, 12, 0, tzinfo=berlin)  # CET; +60 days is in CEST
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1), left)]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
    ]

    result = status(datetime(2027, 2, 2, tzinfo=berlin), members, creds)

    assert result.at_risk_until == day(2027, 4, 2, 11, 0)
    assert result.at_risk_until.tzinfo is UTC


# --- technical verification ---------------------------------------------------


def _two_certified():
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
    ]
    return members, creds


@pytest.mark.parametrize(
    ("verification", "state", "reason"),
    [
        (TechnicalVerification("passed", day(2027, 1, 2)), "passed", "verified"),
        (TechnicalVerification("passed", day(2027, 1, 1)), "expired", "verification_expired"),
        (TechnicalVerification("failed", None), "failed", "verification_failed"),
        (TechnicalVerification(None, None), "missing", "verification_missing"),
        (TechnicalVerification("pending", None), "missing", "verification_missing"),
        (None, "missing", "verification_missing"),
    ],
    ids=["current", "expires-now", "failed", "none", "pending", "no-record"],
)
def test_technical_verification(verification, state, reason):
    members, creds = _two_certified()

    result = status(day(2027, 1, 1), members, creds, verification=verification)

    assert result.technical_verification == state
    assert result.verified is (state == "passed")
    assert result.reason == reason
    assert result.certified_individuals == 2
    assert result.lapses_on == day(2028, 2, 1)


def test_at_risk_deadline_is_shown_while_verification_is_expired():
    left = day(2027, 1, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1), left)]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
    ]

    result = status(
        left + timedelta(days=1),
        members,
        creds,
        verification=TechnicalVerification("passed", left),
    )

    assert (result.verified, result.state) == (False, "not_verified")
    assert result.reason == "verification_expired"
    assert result.at_risk_until == left + timedelta(days=60)


# --- forecast -----------------------------------------------------------------


def test_people_whose_renewal_matters_are_those_ending_by_the_lapse():
    members = [member(p, day(2026, 1, 1)) for p in "abc"]
    creds = [
        cred("a", day(2026, 6, 1), day(2027, 5, 1)),
        cred("b", day(2026, 6, 1), day(2027, 8, 1)),
        cred("c", day(2026, 6, 1), day(2028, 1, 1)),
    ]
    now = day(2027, 1, 1)

    matter = people_whose_renewal_matters(now=now, rule=RULE, members=members, credentials=creds)

    assert matter == (
        HolderForecast("a", day(2027, 5, 1), "expiry"),
        HolderForecast("b", day(2027, 8, 1), "expiry"),
    )
    assert status(now, members, creds).renewals_that_matter == matter


def test_scheduled_membership_end_brings_the_lapse_forward():
    members = [member("a", day(2026, 1, 1), day(2027, 3, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 6, 1), day(2028, 6, 1)),
        cred("b", day(2026, 6, 1), day(2028, 6, 1)),
    ]

    result = status(day(2027, 1, 1), members, creds)

    assert result.lapses_on == day(2027, 3, 1)
    assert result.renewals_that_matter == (HolderForecast("a", day(2027, 3, 1), "membership_end"),)


def test_back_to_back_credentials_extend_the_forecast():
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 6, 1), day(2027, 6, 1), certification="developer"),
        cred("a", day(2027, 6, 1), day(2029, 6, 1), certification="architect"),
        cred("b", day(2026, 6, 1), day(2028, 6, 1)),
    ]

    assert status(day(2027, 1, 1), members, creds).lapses_on == day(2028, 6, 1)


def test_no_end_on_record_means_no_lapse():
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [cred("a", day(2026, 6, 1), None), cred("b", day(2026, 6, 1), None)]

    result = status(day(2027, 1, 1), members, creds)

    assert (result.lapses_on, result.renewals_that_matter) == (None, ())


def test_forecast_ignores_people_who_do_not_count_now():
    members = [member(p, day(2026, 1, 1)) for p in "abc"]
    creds = [
        cred("a", day(2026, 6, 1), day(2027, 6, 1)),
        cred("b", day(2026, 6, 1), day(2028, 6, 1)),
        cred("c", day(2027, 5, 1), day(2029, 6, 1)),  # recorded, not yet valid
    ]

    assert status(day(2027, 1, 1), members, creds).lapses_on == day(2027, 6, 1)


def test_required_zero_never_lapses():
    rule = TrackRule(required=0, counting_certifications=frozenset({"developer"}))

    result = status(day(2027, 1, 1), [], [], rule=rule)

    assert (result.verified, result.lapses_on, result.at_risk_until) == (True, None, None)


# --- inputs -------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        MemberSpan("a", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        status(datetime(2027, 1, 1), [], [])


@pytest.mark.parametrize("field", ["required", "grace_days"])
def test_negative_rule_settings_are_refused(field):
    with pytest.raises(ValueError, match=field):
        TrackRule(counting_certifications=frozenset({"developer"}), **{field: -1})


def test_results_are_in_utc_whatever_the_input_offset():
    plus2 = timezone(timedelta(hours=2))
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1))]
    creds = [
        cred("a", day(2026, 6, 1), datetime(2028, 6, 1, 2, 0, tzinfo=plus2)),
        cred("b", day(2026, 6, 1), day(2029, 1, 1)),
    ]

    result = status(day(2027, 1, 1), members, creds)

    assert result.lapses_on == day(2028, 6, 1)
    assert result.lapses_on.tzinfo is UTC


def test_explanation_names_the_deadline():
    left = day(2027, 1, 1)
    members = [member("a", day(2026, 1, 1)), member("b", day(2026, 1, 1), left)]
    creds = [
        cred("a", day(2026, 2, 1), day(2028, 2, 1)),
        cred("b", day(2026, 2, 1), day(2028, 2, 1)),
    ]

    result = status(left + timedelta(days=10), members, creds)

    assert result.explanation.startswith("At risk:")
    assert "2027-03-02" in result.explanation


# --- the sweep against a brute-force oracle -----------------------------------


def _oracle(now, rule, members, credentials):
    """Recompute the rule by evaluating the count at every change point."""

    def count_at(t, creds=credentials):
        return certified_count_at(t, members, creds, rule)

    points = sorted(
        {m.started for m in members}
        | {m.ended for m in members if m.ended}
        | {c.issued_at for c in credentials}
        | {c.expires_at for c in credentials if c.expires_at}
        | {c.revoked_at for c in credentials if c.revoked_at}
    )
    past = [t for t in points if t <= now]
    below_since = None
    previous = 0
    for t in past:
        current = count_at(t)
        if previous >= rule.required > current:
            below_since = t
        elif current >= rule.required:
            below_since = None
        previous = current
    at_risk_until = None
    if below_since is not None:
        unrevoked = [
            CredentialSpan(c.person, c.certification, c.issued_at, c.expires_at, None)
            if c.revoked_at == below_since
            else c
            for c in credentials
        ]
        if count_at(below_since, unrevoked) < rule.required and now < below_since + rule.grace:
            at_risk_until = below_since + rule.grace

    count = count_at(now)
    lapses_on = None
    if count >= rule.required > 0:
        holders = {
            m.person
            for m in members
            if m.covers(now) and any(c.person == m.person for c in credentials)
        }
        holders = {p for p in holders if count_at(now, [c for c in credentials if c.person == p])}
        ends = []
        for p in holders:
            own = [c for c in credentials if c.person == p]
            ends.append(next((t for t in points if t > now and not count_at(t, own)), None))
        ends.sort(key=lambda t: (t is None, t))
        lapses_on = ends[count - rule.required]
    return count, at_risk_until, lapses_on


@pytest.mark.parametrize("seed", range(150))
def test_sweep_agrees_with_brute_force(seed):
    rng = random.Random(seed)
    base = day(2026, 1, 1)

    def at(max_day):
        return base + timedelta(days=rng.randrange(max_day))

    people = [f"p{i}" for i in range(rng.randint(1, 7))]
    members = []
    for p in people:
        for _ in range(rng.randint(1, 2)):
            started = at(400)
            ended = started + timedelta(days=rng.randint(1, 300)) if rng.random() < 0.5 else None
            members.append(MemberSpan(p, started, ended))
    credentials = []
    for p in people:
        for _ in range(rng.randint(0, 3)):
            issued = at(400)
            expires = issued + timedelta(days=rng.choice([30, 90, 200, 365]))
            revoked = issued + timedelta(days=rng.randint(0, 400)) if rng.random() < 0.25 else None
            certification = rng.choice(["developer", "architect", "sales"])
            credentials.append(CredentialSpan(p, certification, issued, expires, revoked))
    rule = TrackRule(
        required=rng.randint(1, 3),
        grace_days=rng.choice([0, 30, 60]),
        counting_certifications=frozenset({"developer", "architect"}),
    )
    counting = [c for c in credentials if c.certification in rule.counting_certifications]

    for _ in range(5):
        now = at(800)
        result = status(now, members, credentials, rule=rule)
        assert (result.certified_individuals, result.at_risk_until, result.lapses_on) == _oracle(
            now, rule, members, counting
        )
