"""The retake rule (exams.rules.retake_available_at) against the worked cases and edges."""

import dataclasses
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from exams.rules import (
    ALREADY_CERTIFIED,
    ATTEMPTS_EXHAUSTED,
    RETAKE_TOO_SOON,
    RetakeDecision,
    retake_available_at,
)
from tests.exams import load_testdata

RETAKES = load_testdata("retakes.json")
T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
MICRO = timedelta(microseconds=1)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _decide(case: dict, now: datetime | None = None) -> RetakeDecision:
    return retake_available_at(
        finished_attempts=[_dt(a["finished_at"]) for a in case["finished_attempts"]],
        now=now or _dt(case["now"]),
        certified=case["certified"],
    )


# --- the shared worked cases -------------------------------------------------


@pytest.mark.parametrize("case", RETAKES["cases"], ids=lambda c: c["name"])
def test_worked_case(case):
    decision = _decide(case)

    expected = case["expected"]
    assert decision.allowed is expected["allowed"]
    assert decision.code == expected["code"]
    assert decision.available_at == _dt(expected["available_at"])
    assert isinstance(decision.reason, str) and decision.reason


@pytest.mark.parametrize(
    "case",
    [c for c in RETAKES["cases"] if c["expected"]["available_at"]],
    ids=lambda c: c["name"],
)
def test_worked_case_available_at_is_the_earliest_moment(case):
    available_at = _dt(case["expected"]["available_at"])

    assert _decide(case, now=available_at).allowed
    just_before = _decide(case, now=available_at - MICRO)
    assert not just_before.allowed
    assert just_before.code == case["expected"]["code"]
    assert just_before.available_at == available_at


# --- edges beyond the worked cases --------------------------------------------


def test_first_retake_waits_24_hours_to_the_microsecond():
    early = retake_available_at(
        finished_attempts=[T0], now=T0 + timedelta(hours=24) - MICRO, certified=False
    )
    on_time = retake_available_at(
        finished_attempts=[T0], now=T0 + timedelta(hours=24), certified=False
    )

    assert (early.allowed, early.code) == (False, RETAKE_TOO_SOON)
    assert early.available_at == T0 + timedelta(hours=24)
    assert "24 hours" in early.reason
    assert (on_time.allowed, on_time.code, on_time.available_at) == (True, None, None)


def test_later_retakes_wait_14_days_from_the_latest_attempt_in_any_order():
    attempts = [T0 + timedelta(days=3), T0, T0 + timedelta(days=1)]

    decision = retake_available_at(
        finished_attempts=attempts, now=T0 + timedelta(days=4), certified=False
    )

    assert decision.code == RETAKE_TOO_SOON
    assert decision.available_at == T0 + timedelta(days=17)
    assert "14 days" in decision.reason


def test_certified_never_retakes_even_without_attempts():
    decision = retake_available_at(finished_attempts=[], now=T0, certified=True)

    assert decision == RetakeDecision(
        allowed=False, available_at=None, code=ALREADY_CERTIFIED, reason=decision.reason
    )


def test_window_boundary_is_exclusive_attempt_stops_counting_at_finish_plus_window():
    attempts = [T0 + timedelta(days=d) for d in (0, 20, 40, 60, 80)]
    freed = T0 + timedelta(days=365)

    assert retake_available_at(finished_attempts=attempts, now=freed, certified=False).allowed
    before = retake_available_at(finished_attempts=attempts, now=freed - MICRO, certified=False)
    assert (before.code, before.available_at) == (ATTEMPTS_EXHAUSTED, freed)


def test_cap_uses_the_fifth_most_recent_when_more_than_five_lie_in_the_window():
    # Six in the window (e.g. the cap was lowered): the next attempt waits for
    # the 5th most recent to leave, so that only 4 remain.
    attempts = [T0 + timedelta(days=d) for d in (0, 15, 30, 45, 60, 75)]

    decision = retake_available_at(
        finished_attempts=attempts, now=T0 + timedelta(days=100), certified=False
    )

    assert decision.code == ATTEMPTS_EXHAUSTED
    assert decision.available_at == T0 + timedelta(days=15 + 365)


def test_when_the_wait_ends_later_than_the_cap_the_code_is_retake_too_soon():
    # Oldest of five is about to leave the window, but the latest was yesterday.
    now = T0 + timedelta(days=364)
    attempts = [T0, now - timedelta(days=100), now - timedelta(days=50), now - timedelta(days=20)]
    attempts.append(now - timedelta(days=1))

    decision = retake_available_at(finished_attempts=attempts, now=now, certified=False)

    assert decision.code == RETAKE_TOO_SOON
    assert decision.available_at == now + timedelta(days=13)


def test_when_both_block_and_the_cap_ends_later_the_code_is_attempts_exhausted():
    now = T0 + timedelta(days=10)
    attempts = [T0 + timedelta(days=d) for d in (0, 2, 4, 6, 8)]

    decision = retake_available_at(finished_attempts=attempts, now=now, certified=False)

    assert decision.code == ATTEMPTS_EXHAUSTED
    assert decision.available_at == T0 + timedelta(days=365)
    assert "5 attempts" in decision.reason


def test_rule_numbers_are_parameters():
    attempts = [T0, T0 + timedelta(days=1)]

    decision = retake_available_at(
        finished_attempts=attempts,
        now=T0 + timedelta(days=2),
        certified=False,
        first_wait=timedelta(hours=1),
        later_wait=timedelta(days=3),
        max_attempts=2,
        window=timedelta(days=30),
    )

    assert decision.code == ATTEMPTS_EXHAUSTED
    assert decision.available_at == T0 + timedelta(days=30)  # 2nd most recent + window


def test_other_timezones_are_accepted_and_the_answer_is_in_utc():
    cet = timezone(timedelta(hours=1))
    finished = datetime(2027, 1, 10, 10, 0, tzinfo=cet)  # 09:00 UTC

    decision = retake_available_at(
        finished_attempts=[finished], now=datetime(2027, 1, 10, 12, tzinfo=cet), certified=False
    )

    assert decision.available_at == datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    assert decision.available_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("finished", "now"),
    [
        ([datetime(2027, 1, 10, 9)], T0),
        ([T0], datetime(2027, 1, 12)),
    ],
    ids=["naive attempt", "naive now"],
)
def test_naive_datetimes_are_refused(finished, now):
    with pytest.raises(ValueError, match="timezone-aware"):
        retake_available_at(finished_attempts=finished, now=now, certified=False)


def test_max_attempts_below_one_is_refused():
    with pytest.raises(ValueError, match="max_attempts"):
        retake_available_at(finished_attempts=[], now=T0, certified=False, max_attempts=0)


def test_decision_is_frozen():
    decision = retake_available_at(finished_attempts=[], now=T0, certified=False)

    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.allowed = False


@pytest.mark.parametrize("seed", range(200))
def test_property_available_at_is_exactly_when_a_refusal_ends(seed):
    rng = random.Random(seed)
    now = T0 + timedelta(days=rng.randint(0, 800))
    attempts = [
        now - timedelta(days=rng.uniform(0, 420))
        for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 5, 6, 7, 8]))
    ]

    decision = retake_available_at(finished_attempts=attempts, now=now, certified=False)

    if decision.allowed:
        assert (decision.code, decision.available_at) == (None, None)
        return
    assert decision.code in (RETAKE_TOO_SOON, ATTEMPTS_EXHAUSTED)
    assert decision.available_at > now
    at = retake_available_at(finished_attempts=attempts, now=decision.available_at, certified=False)
    assert at.allowed
    before = retake_available_at(
        finished_attempts=attempts, now=decision.available_at - MICRO, certified=False
    )
    assert (before.allowed, before.available_at) == (False, decision.available_at)
