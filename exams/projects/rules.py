"""Pure rules for grading projects against a rubric (no Django).

Contract:
- `review_outcome(total, threshold)`: "passed" when total >= threshold;
  "failed" when total is below half the threshold (total * 2 < threshold);
  "revise" (revise and resubmit) in between. A threshold of 0 always passes.
- `default_margin(threshold)`: the borderline margin a brief gets unless it
  sets its own: ceil(10 % of the threshold) points, computed on integers
  (7 → 1, 10 → 1, 70 → 7; never 8 from 0.1 * 70 = 7.000…01).
  `margin_for(threshold, margin)`: the brief's own margin, or the default
  when it has none (None).
- `needs_second_review(total, threshold, margin)`: a first review whose total
  is within `margin` points of the threshold (|total - threshold| <= margin)
  goes to a second grader; margin 0 means never.
- `graders_disagree(first, second, threshold, margin)`: the first and second
  reviews disagree when their outcomes differ or their totals are more than
  `margin` points apart. A disagreement goes to a third grader (staff).
- `decide(totals, threshold, margin)`: the decision after the reviews given in
  round order (one, two or three totals): `Decision(final, score, outcome,
  next_round)`. One review: final unless it needs a second review. Two that
  agree: final, on the mean of both totals (half points kept; both share the
  outcome, so the mean has it too). Two that disagree: not final, round 3
  next. Three: the third review's total and outcome decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

PASSED = "passed"
REVISE = "revise"
FAILED = "failed"

FIRST_ROUND = 1
SECOND_ROUND = 2
THIRD_ROUND = 3
ROUNDS = (FIRST_ROUND, SECOND_ROUND, THIRD_ROUND)


def review_outcome(total: Decimal | int, threshold: int) -> str:
    if total >= threshold:
        return PASSED
    if total * 2 < threshold:
        return FAILED
    return REVISE


def default_margin(threshold: int) -> int:
    return -(-threshold // 10)  # ceil(threshold / 10) without floating point


def margin_for(threshold: int, margin: int | None) -> int:
    return default_margin(threshold) if margin is None else margin


def needs_second_review(total: int, threshold: int, margin: int) -> bool:
    return margin > 0 and abs(total - threshold) <= margin


def graders_disagree(first: int, second: int, threshold: int, margin: int) -> bool:
    if review_outcome(first, threshold) != review_outcome(second, threshold):
        return True
    return abs(first - second) > margin


def final_score(totals: Sequence[int]) -> Decimal:
    if not totals:
        raise ValueError("a decision needs at least one review")
    return (Decimal(sum(totals)) / len(totals)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Decision:
    final: bool
    score: Decimal | None
    outcome: str | None
    next_round: int | None


def _final(totals: Sequence[int], threshold: int) -> Decision:
    score = final_score(totals)
    return Decision(True, score, review_outcome(score, threshold), None)


def decide(totals: Sequence[int], threshold: int, margin: int) -> Decision:
    if not totals or len(totals) > len(ROUNDS):
        raise ValueError("a decision takes one to three reviews")
    if len(totals) == 1:
        if needs_second_review(totals[0], threshold, margin):
            return Decision(False, None, None, SECOND_ROUND)
        return _final(totals, threshold)
    if len(totals) == 2:
        if graders_disagree(totals[0], totals[1], threshold, margin):
            return Decision(False, None, None, THIRD_ROUND)
        return _final(totals, threshold)
    return _final(totals[2:], threshold)
