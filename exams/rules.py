"""Pure exam rules: may this learner start another attempt, and from when?

Contract:
- No Django import, no database, no clock: callers pass `now` and the finish
  times of the learner's earlier attempts at the same exam; every datetime must
  be timezone-aware (naive ones raise `ValueError`) and results are in UTC.
- The numbers (24 h, 14 days, 5 attempts in 365 days) are defaults only; the
  exam's own fields are passed in by the service.
- `retake_available_at()` returns a frozen `RetakeDecision`; refusals carry the
  stable API codes `retake_too_soon`, `attempts_exhausted` and
  `already_certified`, and `available_at` is the earliest moment a new attempt
  may start (the rule allows it at exactly that instant).
- Worked cases: `tests/testdata/retakes.json`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

RetakeCode = Literal["retake_too_soon", "attempts_exhausted", "already_certified"]

RETAKE_TOO_SOON: RetakeCode = "retake_too_soon"
ATTEMPTS_EXHAUSTED: RetakeCode = "attempts_exhausted"
ALREADY_CERTIFIED: RetakeCode = "already_certified"

DEFAULT_FIRST_WAIT = timedelta(hours=24)
DEFAULT_LATER_WAIT = timedelta(days=14)
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_WINDOW = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class RetakeDecision:
    allowed: bool
    available_at: datetime | None  # set only when a wait ends it; None if allowed or never
    code: RetakeCode | None
    reason: str


def retake_available_at(
    *,
    finished_attempts: Sequence[datetime],
    now: datetime,
    certified: bool,
    first_wait: timedelta = DEFAULT_FIRST_WAIT,
    later_wait: timedelta = DEFAULT_LATER_WAIT,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    window: timedelta = DEFAULT_WINDOW,
    stamp: Callable[[datetime], str] | None = None,
) -> RetakeDecision:
    """Decide whether a new attempt may start at `now`, and if not, when.

    - `certified`: the learner holds a current certification this exam leads to;
      they never retake it (renewal has its own exam), so no `available_at`.
    - Wait: `first_wait` after the only finished attempt, `later_wait` after the
      latest one once there are two or more (counted over the whole history).
    - Cap: at most `max_attempts` attempts finished in the `window` before now;
      an attempt finished at `t` stops counting at exactly `t + window`, so the
      next attempt is allowed when the `max_attempts`-th most recent one leaves.
    - When both the wait and the cap block, `available_at` is the later of the
      two and `code` names the one that ends later (the cap on a tie): that is
      the reason the learner actually waits for.
    - `stamp` writes a moment into the reason ("2026-12-07 14:05 UTC" by
      default); callers pass one that speaks the reader's time zone.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    stamp = stamp or _stamp
    now = _utc(now, "now")
    finished = sorted((_utc(at, "finished_attempts") for at in finished_attempts), reverse=True)

    if certified:
        return RetakeDecision(
            allowed=False,
            available_at=None,
            code=ALREADY_CERTIFIED,
            reason="You already hold a current certification from this exam; "
            "renew it with the renewal exam instead.",
        )
    if not finished:
        return _allowed("You have not taken this exam yet.")

    latest = finished[0]
    first_retake = len(finished) == 1
    wait_until = latest + (first_wait if first_retake else later_wait)

    in_window = [at for at in finished if at > now - window]
    cap_until = in_window[max_attempts - 1] + window if len(in_window) >= max_attempts else None

    if cap_until is not None and cap_until > now and cap_until >= wait_until:
        return RetakeDecision(
            allowed=False,
            available_at=cap_until,
            code=ATTEMPTS_EXHAUSTED,
            reason=(
                f"You have used all {max_attempts} attempts allowed in {_span(window)}; "
                f"your next attempt is possible from {stamp(cap_until)}."
            ),
        )
    if wait_until > now:
        which = "first retake" if first_retake else "next retake"
        return RetakeDecision(
            allowed=False,
            available_at=wait_until,
            code=RETAKE_TOO_SOON,
            reason=(
                f"The {which} is allowed {_span(first_wait if first_retake else later_wait)} "
                f"after your last attempt, from {stamp(wait_until)}."
            ),
        )
    return _allowed("You may start a new attempt.")


def _allowed(reason: str) -> RetakeDecision:
    return RetakeDecision(allowed=True, available_at=None, code=None, reason=reason)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours == int(hours) and hours <= 48:
        return f"{int(hours)} hour{'s' if hours != 1 else ''}"
    if delta.seconds == 0 and delta.microseconds == 0:
        return f"{delta.days} days"
    return str(delta)
