"""Pure scoring of one exam attempt.

Contract:
- No Django import, no database: the caller passes one frozen `ItemResponse`
  per question the attempt was given (in form order) and gets a frozen
  `AttemptScore` back. The same input always gives the same score, so a
  regrade is just calling `score_attempt()` again with the new item statuses.
- Single-answer item: correct iff the selected set is exactly its one correct
  choice (blank or any other choice is wrong).
- Multiple-answer item: all-or-nothing, correct iff the selected set equals the
  set of correct choices exactly; no partial credit, a missing or an extra
  choice makes it wrong.
- Item status: `dropped` items count neither in the numerator nor in the
  denominator (nor in their topic); `credited` items count as correct for
  everyone, whatever was selected.
- `percent` is a `Decimal` rounded half-up to 2 places, for display. `passed`
  compares the exact ratio with the pass mark (correct * 100 >= pass_mark *
  total), so 79.996 % never passes by rounding and exactly 80 % passes at 80.
- Topics are listed in the order they first appear; a topic whose items are all
  dropped is left out (it has no score).
- An attempt with no scorable item (empty, or every item dropped) raises
  `ScoringError` with code `no_scorable_items`; a malformed item (unknown kind
  or status, a single-answer item without exactly one correct choice, a
  multiple-answer item without any) raises `ScoringError` with `invalid_item`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

DEFAULT_PASS_MARK = Decimal(80)
_CENT = Decimal("0.01")


class ScoringError(ValueError):
    """The input cannot be scored; `code` is stable for the API and logs."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ItemKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"


class ItemStatus(StrEnum):
    NORMAL = "normal"
    DROPPED = "dropped"
    CREDITED = "credited"


@dataclass(frozen=True, slots=True)
class ItemResponse:
    """One question of an attempt: its key and the learner's selection."""

    topic: str
    kind: ItemKind | str  # a plain string is accepted and stored as the enum
    correct_choice_ids: frozenset[Hashable]
    selected_choice_ids: frozenset[Hashable]
    status: ItemStatus | str = ItemStatus.NORMAL  # likewise

    def __post_init__(self) -> None:
        # Accept plain strings and any collection of ids from callers, store
        # the canonical forms so equality and hashing behave.
        try:
            kind = ItemKind(self.kind)
            status = ItemStatus(self.status)
        except ValueError as exc:
            raise ScoringError(str(exc), code="invalid_item") from exc
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "correct_choice_ids", frozenset(self.correct_choice_ids))
        object.__setattr__(self, "selected_choice_ids", frozenset(self.selected_choice_ids))
        if kind is ItemKind.SINGLE and len(self.correct_choice_ids) != 1:
            raise ScoringError(
                "A single-answer item needs exactly one correct choice, "
                f"got {len(self.correct_choice_ids)}.",
                code="invalid_item",
            )
        if kind is ItemKind.MULTIPLE and not self.correct_choice_ids:
            raise ScoringError(
                "A multiple-answer item needs at least one correct choice.", code="invalid_item"
            )


@dataclass(frozen=True, slots=True)
class TopicScore:
    topic: str
    correct: int
    total: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class AttemptScore:
    correct: int
    total: int
    percent: Decimal
    passed: bool
    pass_mark: Decimal
    topics: tuple[TopicScore, ...]
    # Per input item, in input order: True/False, or None for a dropped item.
    # This is the attempt's row of the item-analysis response matrix.
    item_results: tuple[bool | None, ...]


def is_item_correct(item: ItemResponse) -> bool | None:
    """True/False for a counted item, None for a dropped one."""
    if item.status is ItemStatus.DROPPED:
        return None
    if item.status is ItemStatus.CREDITED:
        return True
    # Single and multiple share one rule: the selection must equal the key
    # exactly (for a single-answer item the key has exactly one choice).
    return item.selected_choice_ids == item.correct_choice_ids


def score_attempt(
    items: Sequence[ItemResponse], *, pass_mark: Decimal | int | str = DEFAULT_PASS_MARK
) -> AttemptScore:
    """Score one attempt; see the module docstring for the rules."""
    mark = Decimal(pass_mark)
    if not (0 <= mark <= 100):
        raise ScoringError(f"The pass mark must be 0-100 %, got {mark}.", code="invalid_pass_mark")

    results = tuple(is_item_correct(item) for item in items)
    by_topic: dict[str, list[int]] = {}
    for item, result in zip(items, results, strict=True):
        if result is None:
            continue
        tally = by_topic.setdefault(item.topic, [0, 0])
        tally[0] += result
        tally[1] += 1

    correct = sum(tally[0] for tally in by_topic.values())
    total = sum(tally[1] for tally in by_topic.values())
    if total == 0:
        raise ScoringError(
            "This attempt has no question to score (no items, or all dropped).",
            code="no_scorable_items",
        )
    return AttemptScore(
        correct=correct,
        total=total,
        percent=_percent(correct, total),
        passed=correct * 100 >= mark * total,
        pass_mark=mark,
        topics=tuple(
            TopicScore(topic=topic, correct=c, total=t, percent=_percent(c, t))
            for topic, (c, t) in by_topic.items()
        ),
        item_results=results,
    )


def _percent(correct: int, total: int) -> Decimal:
    return (Decimal(correct * 100) / Decimal(total)).quantize(_CENT, rounding=ROUND_HALF_UP)
