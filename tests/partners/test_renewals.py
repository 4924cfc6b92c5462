"""Pure tests for partners.rollup.renewals_that_matter on the worked cases
(tests/testdata/partner-renewals.json), plus its argument checks."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from partners.rollup import (
    CredentialSpan,
    MemberSpan,
    RenewalDue,
    TrackRule,
    renewals_that_matter,
)

TESTDATA = Path(__file__).resolve().parents[2] / "tests" / "testdata" / "partner-renewals.json"
CASES = json.loads(TESTDATA.read_text())["cases"]


def ts(value):
    return None if value is None else datetime.fromisoformat(value)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_worked_case(case):
    rule = TrackRule(
        counting_certifications=frozenset(case["rule"]["counting_certifications"]),
        required=case["rule"]["required"],
        grace_days=case["rule"]["grace_days"],
    )
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
    got = renewals_that_matter(
        now=ts(case["now"]), rule=rule, members=members, credentials=credentials
    )
    expected = tuple(
        RenewalDue(e["person"], e["certification"], ts(e["expires_at"])) for e in case["expected"]
    )
    assert got == expected


def test_results_are_in_utc_and_soonest_first():
    now = datetime(2027, 1, 1, tzinfo=UTC)
    rule = TrackRule(counting_certifications=frozenset({"developer"}), required=3)
    members = [MemberSpan(p, now - timedelta(days=10)) for p in "abc"]
    credentials = [
        CredentialSpan("a", "developer", now - timedelta(days=5), now + timedelta(days=90)),
        CredentialSpan("b", "developer", now - timedelta(days=5), now + timedelta(days=30)),
        CredentialSpan("c", "developer", now - timedelta(days=5), now + timedelta(days=60)),
    ]
    got = renewals_that_matter(now=now, rule=rule, members=members, credentials=credentials)
    assert [r.person for r in got] == ["b"]  # the first expiry already takes 3 below 3
    rule2 = TrackRule(counting_certifications=frozenset({"developer"}), required=1)
    got2 = renewals_that_matter(now=now, rule=rule2, members=members, credentials=credentials)
    assert [r.person for r in got2] == ["b", "c", "a"]
    assert all(r.expires_at.tzinfo is UTC for r in got2)


def test_naive_now_and_negative_horizon_are_refused():
    rule = TrackRule(counting_certifications=frozenset({"developer"}))
    with pytest.raises(ValueError):
        renewals_that_matter(now=datetime(2027, 1, 1), rule=rule, members=[], credentials=[])  # noqa: DTZ001
    with pytest.raises(ValueError):
        renewals_that_matter(
            now=datetime(2027, 1, 1, tzinfo=UTC),
            rule=rule,
            members=[],
            credentials=[],
            horizon_days=-1,
        )
