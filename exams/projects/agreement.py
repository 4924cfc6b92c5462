"""Agreement between two graders on the same items (pure: no Django).

Contract (worked cases: tests/testdata/grader-agreement.json):
- The input is a sequence of pairs (first grader's category, second grader's
  category), one per item graded by both; categories are any hashable values
  (outcomes, rubric level ids).
- `percent_agreement(pairs)`: the share of pairs whose categories are equal,
  in percent rounded to one decimal; None for no pairs.
- `cohen_kappa(pairs)`: (p_o - p_e) / (1 - p_e), where p_o is the observed
  agreement and p_e the agreement expected by chance from each grader's own
  category frequencies; rounded to three decimals. 1 is perfect agreement,
  0 chance level, below 0 worse than chance. None ("n/a") when it is
  undefined: no pairs, or p_e = 1 (both graders used one and the same
  category for every item, so chance explains everything). Exact fractions,
  so no rounding error and no division by zero.
- `summary(pairs)`: both figures with the number of pairs behind them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from fractions import Fraction

Pair = tuple[Hashable, Hashable]


def _round(value: Fraction, places: int) -> float:
    return round(float(value), places)


def percent_agreement(pairs: Sequence[Pair]) -> float | None:
    if not pairs:
        return None
    same = sum(1 for first, second in pairs if first == second)
    return _round(Fraction(same * 100, len(pairs)), 1)


def cohen_kappa(pairs: Sequence[Pair]) -> float | None:
    n = len(pairs)
    if n == 0:
        return None
    observed = Fraction(sum(1 for first, second in pairs if first == second), n)
    firsts = Counter(first for first, _ in pairs)
    seconds = Counter(second for _, second in pairs)
    expected = sum(
        (Fraction(count, n) * Fraction(seconds[category], n) for category, count in firsts.items()),
        Fraction(0),
    )
    if expected == 1:
        return None
    return _round((observed - expected) / (1 - expected), 3)


@dataclass(frozen=True)
class AgreementSummary:
    n: int
    percent: float | None
    kappa: float | None


def summary(pairs: Sequence[Pair]) -> AgreementSummary:
    return AgreementSummary(len(pairs), percent_agreement(pairs), cohen_kappa(pairs))
