"""Pure item analysis of an exam's scored attempts.

Contract:
- No Django import, no database. Input: a 0/1 response matrix (rows =
  attempts, columns = questions; 1 = counted correct, as `score_attempt` gives
  it, credited items included, dropped items left out by the caller), and
  optionally each question's options and each attempt's chosen option ids for
  option frequencies. Output: a frozen `ExamStatistics`.
- A cell may be `None`: that attempt was not given that question (each attempt
  draws its own form from the pools). Per-question figures then use only the
  attempts that were given the question; with no `None` cell every figure is
  the textbook one.
- Per question: difficulty = share correct; discrimination = point-biserial
  against the rest-of-test score (Pearson correlation of the 0/1 item with the
  attempt's total minus that item), `None` when either has zero variance;
  option frequencies (count and share of attempts choosing each option, plus
  blanks); flags `too_easy` (difficulty > 0.95), `too_hard` (< 0.2),
  `low_discrimination` (< 0.1; not raised when discrimination is `None`) and
  `distractor_beats_key` (a wrong option chosen more often than a right one;
  for multiple-answer items, than the least chosen right one).
- Per exam: attempts, mean and standard deviation of the totals (population,
  as the worked case, and sample), KR-20 = k/(k-1) * (1 - sum(p*q) / population
  variance of totals). With random forms, sum(p*q) is the attempts' average
  over their own questions, which equals the textbook sum for a complete
  matrix; KR-20 is `None` when undefined (fewer than 2 questions per attempt,
  forms of different lengths, or zero variance of the totals).
- Figures are rounded to `places` (default 4; `None` keeps full precision) and
  the flags are decided on the rounded figures, so what a reviewer sees and
  what is flagged always agree. Nothing is ever NaN: undefined is `None`.
- Cost is one pass over the matrix with integer sums (no per-item list
  copies), so 10,000 attempts x 60 questions takes well under a second.
- Malformed input (ragged rows, cells other than 0/1/None, selections that do
  not line up with the matrix or name unknown options) raises `ValueError`.
- Worked case: `tests/testdata/item-analysis.json`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import cast

TOO_EASY_ABOVE = 0.95
TOO_HARD_BELOW = 0.2
LOW_DISCRIMINATION_BELOW = 0.1


class ItemFlag(StrEnum):
    TOO_EASY = "too_easy"
    TOO_HARD = "too_hard"
    LOW_DISCRIMINATION = "low_discrimination"
    DISTRACTOR_BEATS_KEY = "distractor_beats_key"


@dataclass(frozen=True, slots=True)
class ItemOptions:
    """A question's options in display/author order and which of them are right."""

    option_ids: tuple[Hashable, ...]
    correct_ids: frozenset[Hashable]

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_ids", tuple(self.option_ids))
        object.__setattr__(self, "correct_ids", frozenset(self.correct_ids))
        if len(set(self.option_ids)) != len(self.option_ids):
            raise ValueError(f"Duplicate option ids: {self.option_ids!r}")
        if not self.correct_ids or not self.correct_ids <= set(self.option_ids):
            raise ValueError("correct_ids must be a non-empty subset of option_ids")


@dataclass(frozen=True, slots=True)
class OptionFrequency:
    option_id: Hashable
    is_correct: bool
    count: int
    share: float | None  # count / attempts given the question; None with none


@dataclass(frozen=True, slots=True)
class ItemStatistics:
    index: int  # column in the response matrix
    attempts: int  # attempts that were given this question
    correct: int
    difficulty: float | None
    discrimination: float | None
    options: tuple[OptionFrequency, ...]  # empty when no option data was given
    blank: int | None  # attempts that chose nothing; None without option data
    flags: tuple[ItemFlag, ...]


@dataclass(frozen=True, slots=True)
class ExamStatistics:
    attempts: int
    item_count: int
    items_per_attempt: int | None  # None when forms differ in length
    mean: float | None
    sd_population: float | None
    sd_sample: float | None
    kr20: float | None
    items: tuple[ItemStatistics, ...]

    def flagged(self, flag: ItemFlag | str) -> tuple[int, ...]:
        """Indexes of the questions carrying `flag`."""
        flag = ItemFlag(flag)
        return tuple(item.index for item in self.items if flag in item.flags)


def analyse_items(
    responses: Sequence[Sequence[int | bool | None]],
    *,
    options: Sequence[ItemOptions] | None = None,
    selections: Sequence[Sequence[Collection[Hashable] | None]] | None = None,
    item_count: int | None = None,
    too_easy_above: float = TOO_EASY_ABOVE,
    too_hard_below: float = TOO_HARD_BELOW,
    low_discrimination_below: float = LOW_DISCRIMINATION_BELOW,
    places: int | None = 4,
) -> ExamStatistics:
    """Compute item and exam statistics; see the module docstring.

    `item_count` fixes the number of columns when there may be no rows (zero
    attempts); otherwise it is taken from the rows or from `options`.
    """
    if (options is None) != (selections is None):
        raise ValueError("options and selections go together")
    k = _column_count(responses, options, item_count)
    n = len(responses)

    # One pass: per-attempt totals, and per item the integer sums the
    # point-biserial needs over the attempts that were given it.
    given = [0] * k  # m_j: attempts given item j
    correct = [0] * k  # c_j: sum of x
    total_when_correct = [0] * k  # sum of t where x == 1
    total_when_given = [0] * k  # sum of t where given
    total_sq_when_given = [0] * k  # sum of t^2 where given
    totals: list[int] = []
    form_lengths: set[int] = set()
    for row_no, row in enumerate(responses):
        if len(row) != k:
            raise ValueError(f"Row {row_no} has {len(row)} cells, expected {k}")
        try:
            plain = _PLAIN_CELLS.issuperset(row)  # the usual case: no per-cell checks
        except TypeError:  # an unhashable cell: _cell says what is wrong
            plain = False
        if plain:
            cells = row
        else:
            cells = [_cell(value, row_no, col) for col, value in enumerate(row)]
        blank_cells = cells.count(None)
        t = k - blank_cells - cells.count(0)  # the 1s, an int even for 1.0 or True
        totals.append(t)
        form_lengths.add(k - blank_cells)
        for j, x in enumerate(cells):
            if x is None:
                continue
            given[j] += 1
            total_when_given[j] += t
            total_sq_when_given[j] += t * t
            if x:
                correct[j] += 1
                total_when_correct[j] += t

    frequencies = _option_frequencies(responses, options, selections, k)

    items = []
    for j in range(k):
        m, c = given[j], correct[j]
        difficulty = _round(c / m, places) if m else None
        discrimination = _round(
            _rest_point_biserial(
                m, c, total_when_correct[j], total_when_given[j], total_sq_when_given[j]
            ),
            places,
        )
        counts: dict[Hashable, int] = {}
        blank: int | None = None
        if frequencies is not None:
            counts, blank = frequencies[j]
        option_rows = (
            tuple(
                OptionFrequency(
                    option_id=option_id,
                    is_correct=option_id in options[j].correct_ids,
                    count=counts[option_id],
                    share=_round(counts[option_id] / m, places) if m else None,
                )
                for option_id in options[j].option_ids
            )
            if options is not None
            else ()
        )
        flags = []
        if difficulty is not None and difficulty > too_easy_above:
            flags.append(ItemFlag.TOO_EASY)
        if difficulty is not None and difficulty < too_hard_below:
            flags.append(ItemFlag.TOO_HARD)
        if discrimination is not None and discrimination < low_discrimination_below:
            flags.append(ItemFlag.LOW_DISCRIMINATION)
        if m and option_rows and _distractor_beats_key(option_rows):
            flags.append(ItemFlag.DISTRACTOR_BEATS_KEY)
        items.append(
            ItemStatistics(
                index=j,
                attempts=m,
                correct=c,
                difficulty=difficulty,
                discrimination=discrimination,
                options=option_rows,
                blank=blank,
                flags=tuple(flags),
            )
        )

    total_sum = sum(totals)
    # n^2 * population variance, exact as an integer.
    spread = n * sum(t * t for t in totals) - total_sum * total_sum
    items_per_attempt = next(iter(form_lengths)) if len(form_lengths) == 1 else None
    return ExamStatistics(
        attempts=n,
        item_count=k,
        items_per_attempt=items_per_attempt,
        mean=_round(total_sum / n, places) if n else None,
        sd_population=_round(math.sqrt(spread) / n, places) if n else None,
        sd_sample=_round(math.sqrt(spread / (n * (n - 1))), places) if n >= 2 else None,
        kr20=_round(_kr20(n, items_per_attempt, given, correct, spread), places),
        items=tuple(items),
    )


def _column_count(
    responses: Sequence[Sequence[object]],
    options: Sequence[ItemOptions] | None,
    item_count: int | None,
) -> int:
    candidates = set()
    if item_count is not None:
        candidates.add(item_count)
    if options is not None:
        candidates.add(len(options))
    if responses:
        candidates.add(len(responses[0]))
    if len(candidates) > 1:
        raise ValueError(f"Inconsistent number of questions: {sorted(candidates)}")
    return candidates.pop() if candidates else 0


_PLAIN_CELLS = frozenset({0, 1, None})  # True and False are 1 and 0 here


def _cell(value: object, row: int, col: int) -> int | None:
    if value is None:
        return None
    if value in (0, 1):  # also True/False
        return 1 if value else 0
    raise ValueError(f"Cell ({row}, {col}) must be 0, 1 or None, got {value!r}")


def _rest_point_biserial(m: int, c: int, s: int, tg: int, t2g: int) -> float | None:
    """Pearson r of x (0/1) with rest = t - x over the m attempts given the item.

    s = sum of t where x = 1, tg = sum of t, t2g = sum of t^2. Using x^2 = x:
    sum(r) = tg - c, sum(r^2) = t2g - 2s + c, sum(x*r) = s - c. Everything is
    an exact integer until the one square root.
    """
    if m == 0:
        return None
    sum_r = tg - c
    sum_r2 = t2g - 2 * s + c
    sum_xr = s - c
    var_x = m * c - c * c  # m^2 * variance, exact
    var_r = m * sum_r2 - sum_r * sum_r
    if var_x == 0 or var_r == 0:
        return None
    r = (m * sum_xr - c * sum_r) / (math.sqrt(var_x) * math.sqrt(var_r))
    return max(-1.0, min(1.0, r))


def _kr20(n: int, k: int | None, given: list[int], correct: list[int], spread: int) -> float | None:
    """k/(k-1) * (1 - mean over attempts of sum(p*q) of their items / var(totals)).

    Exact with fractions. For a complete matrix (given[j] == n for every item)
    the mean of sum(p*q) is the textbook sum(p*q).
    """
    if n == 0 or k is None or k < 2 or spread == 0:
        return None
    # Each of the m_j attempts given item j contributes p_j*q_j = c(m-c)/m^2.
    pq_per_attempt = (
        sum(Fraction(c * (m - c), m) for m, c in zip(given, correct, strict=True) if m) / n
    )
    variance = Fraction(spread, n * n)
    return float(Fraction(k, k - 1) * (1 - pq_per_attempt / variance))


def _option_frequencies(
    responses: Sequence[Sequence[object]],
    options: Sequence[ItemOptions] | None,
    selections: Sequence[Sequence[Collection[Hashable] | None]] | None,
    k: int,
) -> list[tuple[dict[Hashable, int], int]] | None:
    if options is None or selections is None:
        return None
    if len(selections) != len(responses):
        raise ValueError(
            f"{len(selections)} rows of selections for {len(responses)} rows of responses"
        )
    # Count each distinct selection per column first (a few per question over
    # thousands of attempts), then spread the counts over the options.
    tallies: list[dict[Hashable, int]] = [{} for _ in range(k)]
    for row_no, (row, chosen_row) in enumerate(zip(responses, selections, strict=True)):
        if len(chosen_row) != k:
            raise ValueError(f"Selections row {row_no} has {len(chosen_row)} cells, expected {k}")
        for j, (cell, chosen) in enumerate(zip(row, chosen_row, strict=True)):
            if (chosen is None) != (cell is None):
                raise ValueError(f"Selections ({row_no}, {j}) disagree with responses on None")
            if chosen is None:
                continue
            tally = tallies[j]
            key = cast(Hashable, chosen)
            try:
                tally[key] = tally.get(key, 0) + 1
            except TypeError:  # a list or set: count it by its members
                key = frozenset(chosen)
                tally[key] = tally.get(key, 0) + 1
    counts: list[dict[Hashable, int]] = [dict.fromkeys(o.option_ids, 0) for o in options]
    blanks = [0] * k
    for j, tally in enumerate(tallies):
        for selection, times in tally.items():
            members = set(cast(Collection[Hashable], selection))
            if not members:
                blanks[j] += times
            unknown = members - counts[j].keys()
            if unknown:
                raise ValueError(f"Selections in column {j} name unknown options {unknown!r}")
            for option_id in members:
                counts[j][option_id] += times
    return list(zip(counts, blanks, strict=True))


def _distractor_beats_key(option_rows: tuple[OptionFrequency, ...]) -> bool:
    key_counts = [o.count for o in option_rows if o.is_correct]
    wrong_counts = [o.count for o in option_rows if not o.is_correct]
    return bool(wrong_counts) and max(wrong_counts) > min(key_counts)


def _round(value: float | None, places: int | None) -> float | None:
    if value is None or places is None:
        return value
    return round(value, places)
