"""Scoring rules (exams.scoring.score_attempt): exhaustive, parametrized, no database."""

import dataclasses
import itertools
from decimal import Decimal

import pytest

from exams.scoring import (
    AttemptScore,
    ItemKind,
    ItemResponse,
    ItemStatus,
    ScoringError,
    TopicScore,
    is_item_correct,
    score_attempt,
)

SINGLE_KEY = frozenset({"b"})
MULTI_KEY = frozenset({"a", "c"})


def single(selected=(), *, topic="webhooks", key=SINGLE_KEY, status=ItemStatus.NORMAL):
    return ItemResponse(
        topic=topic,
        kind=ItemKind.SINGLE,
        correct_choice_ids=key,
        selected_choice_ids=frozenset(selected),
        status=status,
    )


def multiple(selected=(), *, topic="payouts", key=MULTI_KEY, status=ItemStatus.NORMAL):
    return ItemResponse(
        topic=topic,
        kind=ItemKind.MULTIPLE,
        correct_choice_ids=key,
        selected_choice_ids=frozenset(selected),
        status=status,
    )


# --- one item -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ({"b"}, True),
        ({"a"}, False),
        (set(), False),  # blank
        ({"a", "b"}, False),  # several options on a single-answer item are never right
        ({"zz"}, False),  # an id that is not an option
    ],
    ids=["right", "wrong", "blank", "right plus wrong", "unknown id"],
)
def test_single_answer(selected, expected):
    assert is_item_correct(single(selected)) is expected


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ({"a", "c"}, True),
        ({"a"}, False),  # missing one right option: no partial credit
        ({"a", "b", "c"}, False),  # an extra wrong option
        ({"b"}, False),
        (set(), False),
        ({"a", "b", "c", "d"}, False),  # everything ticked
    ],
    ids=["exact", "missing one", "extra one", "only wrong", "blank", "all ticked"],
)
def test_multiple_answer_is_all_or_nothing(selected, expected):
    assert is_item_correct(multiple(selected)) is expected


@pytest.mark.parametrize(
    ("make", "selected", "status", "expected"),
    [
        (make, selected, status, expected)
        for make, key in ((single, SINGLE_KEY), (multiple, MULTI_KEY))
        for selected, right in ((key, True), ({"d"}, False), (set(), False))
        for status, expected in (
            (ItemStatus.NORMAL, right),
            (ItemStatus.CREDITED, True),
            (ItemStatus.DROPPED, None),
        )
    ],
)
def test_every_kind_status_and_selection(make, selected, status, expected):
    assert is_item_correct(make(selected, status=status)) is expected


# --- whole attempt --------------------------------------------------------------


def test_score_with_topics_in_first_appearance_order():
    items = [
        single({"b"}, topic="webhooks"),
        multiple({"a", "c"}, topic="payouts"),
        single({"a"}, topic="webhooks"),
        multiple({"a"}, topic="payouts"),
        single({"b"}, topic="disputes"),
    ]

    score = score_attempt(items)

    assert score == AttemptScore(
        correct=3,
        total=5,
        percent=Decimal("60.00"),
        passed=False,
        pass_mark=Decimal(80),
        topics=(
            TopicScore("webhooks", 1, 2, Decimal("50.00")),
            TopicScore("payouts", 1, 2, Decimal("50.00")),
            TopicScore("disputes", 1, 1, Decimal("100.00")),
        ),
        item_results=(True, True, False, False, True),
    )


def test_dropped_items_leave_numerator_and_denominator_and_empty_topics_disappear():
    items = [
        single({"b"}),
        single({"a"}),
        single({"b"}, status=ItemStatus.DROPPED),  # right, but dropped: not counted
        single({"a"}, status=ItemStatus.DROPPED),  # wrong, but dropped: not counted
        multiple({"a", "c"}, topic="only dropped", status=ItemStatus.DROPPED),
    ]

    score = score_attempt(items)

    assert (score.correct, score.total, score.percent) == (1, 2, Decimal("50.00"))
    assert [t.topic for t in score.topics] == ["webhooks"]
    assert score.item_results == (True, False, None, None, None)


def test_credited_items_count_as_correct_for_everyone():
    items = [single({"a"}, status=ItemStatus.CREDITED), multiple(status=ItemStatus.CREDITED)]

    score = score_attempt(items)

    assert (score.correct, score.total, score.passed) == (2, 2, True)


@pytest.mark.parametrize(
    ("correct", "total", "pass_mark", "passed"),
    [
        (8, 10, 80, True),  # exactly at the pass mark passes
        (7, 10, 80, False),
        (48, 60, 80, True),
        (47, 60, 80, False),  # 78.33 %
        (10, 10, 100, True),
        (9, 10, 100, False),
        (0, 10, 0, True),
        (7, 10, "70", True),
        (2, 3, Decimal("66.67"), False),  # displays 66.67 but the exact 66.666... is below
        (2, 3, Decimal("66.66"), True),
    ],
)
def test_pass_mark_boundary_uses_the_exact_ratio(correct, total, pass_mark, passed):
    items = [single({"b"})] * correct + [single({"a"})] * (total - correct)

    score = score_attempt(items, pass_mark=pass_mark)

    assert score.passed is passed
    assert score.pass_mark == Decimal(pass_mark)


@pytest.mark.parametrize(
    ("correct", "total", "percent"),
    [
        (1, 3, "33.33"),
        (2, 3, "66.67"),
        (1, 8, "12.50"),
        (1, 32, "3.13"),  # 3.125: half-up, not banker's rounding
        (0, 5, "0.00"),
        (5, 5, "100.00"),
    ],
)
def test_percent_is_decimal_rounded_half_up_to_two_places(correct, total, percent):
    items = [single({"b"})] * correct + [single({"a"})] * (total - correct)

    assert score_attempt(items).percent == Decimal(percent)


def test_pass_mark_change_via_regrade_is_just_a_new_call():
    items = [single({"b"})] * 8 + [single({"a"}), single({"a"})]
    assert not score_attempt(items, pass_mark=85).passed

    regraded = [*items[:8], items[8], dataclasses.replace(items[9], status=ItemStatus.CREDITED)]
    assert score_attempt(regraded, pass_mark=85).passed


# --- refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    "items",
    [[], [single({"b"}, status=ItemStatus.DROPPED), multiple(status=ItemStatus.DROPPED)]],
    ids=["empty", "all dropped"],
)
def test_nothing_to_score_is_a_scoring_error(items):
    with pytest.raises(ScoringError) as info:
        score_attempt(items)

    assert info.value.code == "no_scorable_items"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "single", "correct_choice_ids": frozenset({"a", "b"})},
        {"kind": "single", "correct_choice_ids": frozenset()},
        {"kind": "multiple", "correct_choice_ids": frozenset()},
        {"kind": "essay", "correct_choice_ids": frozenset({"a"})},
        {"kind": "single", "correct_choice_ids": frozenset({"a"}), "status": "ignored"},
    ],
    ids=["single two keys", "single no key", "multiple no key", "unknown kind", "unknown status"],
)
def test_malformed_items_are_refused(kwargs):
    with pytest.raises(ScoringError) as info:
        ItemResponse(topic="t", selected_choice_ids=frozenset(), **kwargs)

    assert info.value.code == "invalid_item"


@pytest.mark.parametrize("pass_mark", [-1, 101, "100.01"])
def test_pass_mark_outside_0_100_is_refused(pass_mark):
    with pytest.raises(ScoringError) as info:
        score_attempt([single({"b"})], pass_mark=pass_mark)

    assert info.value.code == "invalid_pass_mark"


# --- value objects --------------------------------------------------------------


def test_items_accept_plain_strings_and_lists_and_are_frozen():
    item = ItemResponse(
        topic="t", kind="multiple", correct_choice_ids=[1, 2], selected_choice_ids=[2, 1]
    )

    assert item.kind is ItemKind.MULTIPLE
    assert item.status is ItemStatus.NORMAL
    assert item.correct_choice_ids == frozenset({1, 2})
    assert is_item_correct(item)
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.topic = "other"


@pytest.mark.parametrize("n", range(1, 7))
def test_property_counts_add_up_over_all_status_mixes(n):
    statuses = list(ItemStatus)
    for combo in itertools.product(statuses, repeat=n):
        items = [single({"b"} if i % 2 else {"a"}, status=s) for i, s in enumerate(combo)]
        counted = [s for s in combo if s is not ItemStatus.DROPPED]
        if not counted:
            with pytest.raises(ScoringError):
                score_attempt(items)
            continue

        score = score_attempt(items)

        assert score.total == len(counted)
        assert score.correct == sum(
            1
            for i, s in enumerate(combo)
            if s is ItemStatus.CREDITED or (s is ItemStatus.NORMAL and i % 2)
        )
        assert sum(t.total for t in score.topics) == score.total
        assert sum(t.correct for t in score.topics) == score.correct
        assert Decimal(0) <= score.percent <= Decimal(100)
