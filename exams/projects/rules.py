"""Pure rules for grading projects against a rubric (no Django).

Contract:
- `review_outcome(total, threshold)`: "passed" when total >= threshold;
  "failed" when total is below half the threshold (total * 2 < threshold);
  "revise" (revise and resubmit) in between. A threshold of 0 always passes.
- `needs_second_review(total, threshold, margin)`: a first review whose total
  is within `margin` points of the threshold (|total - threshold| <= margin)
  goes to a second grader; margin 0 means never.
- `final_score(totals)`: the decision is taken on the mean of the reviews'
  totals (one review: its total; two: their mean, half points kept), and the
  outcome of that mean is final: a second review never escalates again.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

PASSED = "passed"
REVISE = "revise"
FAILED = "failed"


def review_outcome(total: Decimal | int, threshold: int) -> str:
    if total >= threshold:
        return PASSED
    if total * 2 < threshold:
        return FAILED
    return REVISE


def needs_second_review(total: int, threshold: int, margin: int) -> bool:
    return margin > 0 and abs(total - threshold) <= margin


def final_score(totals: Sequence[int]) -> Decimal:
    if not totals:
        raise ValueError("a decision needs at least one review")
    return (Decimal(sum(totals)) / len(totals)).quantize(Decimal("0.01"))
