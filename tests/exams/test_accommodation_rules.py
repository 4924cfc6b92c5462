"""The accommodation rules (exams.accommodations.rules) on the worked cases."""

from datetime import UTC, date, datetime, timedelta

import pytest

from exams.accommodations import rules
from tests.exams import load_testdata

CASES = load_testdata("accommodations.json")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", CASES["deadline"], ids=lambda c: c["name"])
def test_deadline_with_extra_time(case):
    deadline = rules.deadline_with_extra_time(
        started_at=_dt(case["started_at"]),
        duration=timedelta(minutes=case["duration_minutes"]),
        extra_time_percent=case["extra_time_percent"],
    )
    assert deadline == _dt(case["expected"])


@pytest.mark.parametrize("case", CASES["grant"], ids=lambda c: c["name"])
def test_grant_problems(case):
    given = case["input"]
    problems = rules.grant_problems(
        extra_time_percent=given["extra_time_percent"],
        breaks=given["breaks"],
        break_minutes=given["break_minutes"],
        ends_on=date.fromisoformat(given["ends_on"]) if given["ends_on"] else None,
        reason=given["reason"],
        today=date.fromisoformat(case["today"]),
        max_breaks=4,
        max_break_minutes=30,
    )
    assert [p.code for p in problems] == case["expected_codes"]
    assert all(p.message and p.field for p in problems)


@pytest.mark.parametrize("case", CASES["break"], ids=lambda c: c["name"])
def test_break_decision(case):
    decision = rules.break_decision(
        now=_dt(case["now"]),
        deadline=_dt(case["deadline"]),
        in_progress=case["in_progress"],
        on_break=case["on_break"],
        breaks_allowed=case["breaks_allowed"],
        breaks_taken=case["breaks_taken"],
        break_minutes=case["break_minutes"],
        requested_minutes=case["requested_minutes"],
    )
    expected = case["expected"]
    assert (decision.allowed, decision.code, decision.minutes) == (
        expected["allowed"],
        expected["code"],
        expected["minutes"],
    )
    assert decision.reason


@pytest.mark.parametrize("case", CASES["paused_deadline"], ids=lambda c: c["name"])
def test_deadline_while_paused(case):
    started, ends, now = _dt(case["break_started_at"]), _dt(case["break_ends_at"]), _dt(case["now"])
    assert rules.deadline_while_paused(
        deadline=_dt(case["deadline"]), break_started_at=started, break_ends_at=ends, now=now
    ) == _dt(case["expected"])
    if started is not None:
        assert rules.break_taken(started_at=started, ends_at=ends, now=now) == timedelta(
            seconds=case["taken_seconds"]
        )


def test_naive_datetimes_and_out_of_range_percentages_are_refused():
    naive = datetime(2027, 3, 1, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        rules.deadline_with_extra_time(
            started_at=naive, duration=timedelta(minutes=1), extra_time_percent=0
        )
    with pytest.raises(ValueError, match="out of range"):
        rules.duration_with_extra_time(duration=timedelta(minutes=1), extra_time_percent=201)


def test_a_break_never_counts_negative_time():
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    assert rules.break_taken(
        started_at=start, ends_at=start + timedelta(minutes=5), now=start - timedelta(minutes=1)
    ) == timedelta(0)
