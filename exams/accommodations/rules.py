"""Pure accommodation rules: a grant's limits, the deadline with extra time,
and rest breaks that pause the clock (docs/product-rules.md, "Accommodations").

Contract:
- No Django import, no database, no clock: callers pass `now` and `today`;
  every datetime must be timezone-aware (naive ones raise `ValueError`).
- `grant_problems()` checks what staff enter for a grant and returns every
  problem as a `Problem(field, code, message)` (empty: valid). Codes:
  `invalid_extra_time` (not an integer from 1 to 200), `too_many_breaks`,
  `invalid_break_length`, `break_too_long`, `nothing_granted`,
  `end_date_in_past`, `reason_required`.
- `deadline_with_extra_time()` is start + duration × (100 + percent) / 100
  (`duration_with_extra_time()`), to the microsecond (integer arithmetic).
- `break_decision()` says whether a learner may start a break now; refusals
  carry the stable API codes `attempt_closed`, `break_in_progress`,
  `no_breaks_left` and `break_too_long`.
- `break_taken()` is how long a break lasted at `now` (it ends at its planned
  end at the latest); `deadline_while_paused()` is the deadline as it stands
  during a break: the clock stands still, so it moves with `now` until the
  break's planned end.
- Worked cases: `tests/testdata/accommodations.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

MIN_EXTRA_TIME_PERCENT = 1
MAX_EXTRA_TIME_PERCENT = 200
QUICK_EXTRA_TIME_PERCENTS = (25, 50, 100)
DEFAULT_MAX_BREAKS = 4
DEFAULT_MAX_BREAK_MINUTES = 30

BreakCode = Literal["attempt_closed", "break_in_progress", "no_breaks_left", "break_too_long"]


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    message: str


def _as_int(value: object) -> int | None:
    """`value` if it is a whole number (not a bool, not a string), else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def grant_problems(
    *,
    extra_time_percent: object,
    breaks: object,
    break_minutes: object,
    ends_on: date | None,
    reason: str,
    today: date,
    max_breaks: int = DEFAULT_MAX_BREAKS,
    max_break_minutes: int = DEFAULT_MAX_BREAK_MINUTES,
) -> list[Problem]:
    """Every problem with a grant as entered. `extra_time_percent` None means
    no extra time; `breaks` 0 (or None) means no breaks, and then
    `break_minutes` is ignored."""
    problems: list[Problem] = []
    extra = 0
    if extra_time_percent is not None:
        percent = _as_int(extra_time_percent)
        if percent is None or not MIN_EXTRA_TIME_PERCENT <= percent <= MAX_EXTRA_TIME_PERCENT:
            problems.append(
                Problem(
                    "extra_time_percent",
                    "invalid_extra_time",
                    f"Extra time is a whole percentage from {MIN_EXTRA_TIME_PERCENT} to "
                    f"{MAX_EXTRA_TIME_PERCENT} (e.g. 25, 50 or 100).",
                )
            )
        else:
            extra = percent
    count = 0
    if breaks is not None:
        number = _as_int(breaks)
        if number is None or number < 0:
            problems.append(
                Problem("breaks", "too_many_breaks", "The number of breaks is a whole number.")
            )
        elif number > max_breaks:
            problems.append(
                Problem(
                    "breaks", "too_many_breaks", f"At most {max_breaks} rest breaks per attempt."
                )
            )
        else:
            count = number
    if count:
        length = _as_int(break_minutes)
        if length is None or length < 1:
            problems.append(
                Problem(
                    "break_minutes",
                    "invalid_break_length",
                    "Give the length of a break in whole minutes (at least 1).",
                )
            )
        elif length > max_break_minutes:
            problems.append(
                Problem(
                    "break_minutes",
                    "break_too_long",
                    f"A break lasts at most {max_break_minutes} minutes.",
                )
            )
    if not problems and not extra and not count:
        problems.append(
            Problem(
                "extra_time_percent",
                "nothing_granted",
                "Grant extra time, rest breaks or both.",
            )
        )
    if ends_on is None or ends_on < today:
        problems.append(
            Problem("ends_on", "end_date_in_past", "The end date must be today or later.")
        )
    if not reason.strip():
        problems.append(Problem("reason", "reason_required", "Give the reason for the grant."))
    return problems


def duration_with_extra_time(*, duration: timedelta, extra_time_percent: int) -> timedelta:
    """duration × (100 + percent) / 100, to the microsecond (rounded down)."""
    if not 0 <= extra_time_percent <= MAX_EXTRA_TIME_PERCENT:
        raise ValueError(f"extra_time_percent out of range: {extra_time_percent}")
    micros = duration // timedelta(microseconds=1)
    return timedelta(microseconds=micros * (100 + extra_time_percent) // 100)


def deadline_with_extra_time(
    *, started_at: datetime, duration: timedelta, extra_time_percent: int
) -> datetime:
    return _utc(started_at, "started_at") + duration_with_extra_time(
        duration=duration, extra_time_percent=extra_time_percent
    )


@dataclass(frozen=True, slots=True)
class BreakDecision:
    allowed: bool
    code: BreakCode | None
    reason: str
    minutes: int  # the break's planned length when allowed


def break_decision(
    *,
    now: datetime,
    deadline: datetime,
    in_progress: bool,
    on_break: bool,
    breaks_allowed: int,
    breaks_taken: int,
    break_minutes: int,
    requested_minutes: int | None = None,
) -> BreakDecision:
    """May a break start at `now`? Only while the attempt is open and before its
    deadline, not during another break, with breaks left, and for at most the
    granted length (`requested_minutes` None: the granted length)."""
    now = _utc(now, "now")
    if not in_progress or now > _utc(deadline, "deadline"):
        return _refused("attempt_closed", "This attempt is over: no break can start.")
    if on_break:
        return _refused("break_in_progress", "You are on a break already.")
    if breaks_taken >= breaks_allowed:
        if breaks_allowed == 0:
            return _refused("no_breaks_left", "No rest breaks are granted for this attempt.")
        return _refused(
            "no_breaks_left",
            f"You have taken all {breaks_allowed} rest break"
            f"{'s' if breaks_allowed != 1 else ''} granted.",
        )
    minutes = break_minutes if requested_minutes is None else requested_minutes
    if minutes < 1 or minutes > break_minutes:
        return _refused("break_too_long", f"A break lasts from 1 to {break_minutes} minutes.")
    return BreakDecision(allowed=True, code=None, reason="You may take a break.", minutes=minutes)


def _refused(code: BreakCode, reason: str) -> BreakDecision:
    return BreakDecision(allowed=False, code=code, reason=reason, minutes=0)


def break_taken(*, started_at: datetime, ends_at: datetime, now: datetime) -> timedelta:
    """How long a break lasted at `now`: it ends at `ends_at` at the latest."""
    started_at = _utc(started_at, "started_at")
    end = min(_utc(now, "now"), _utc(ends_at, "ends_at"))
    return max(end - started_at, timedelta(0))


def break_is_over(*, ends_at: datetime, now: datetime) -> bool:
    return _utc(now, "now") >= _utc(ends_at, "ends_at")


def deadline_while_paused(
    *,
    deadline: datetime,
    break_started_at: datetime | None,
    break_ends_at: datetime | None,
    now: datetime,
) -> datetime:
    """The deadline as it stands at `now`: moved by the running break's length so far."""
    deadline = _utc(deadline, "deadline")
    if break_started_at is None or break_ends_at is None:
        return deadline
    return deadline + break_taken(started_at=break_started_at, ends_at=break_ends_at, now=now)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)
