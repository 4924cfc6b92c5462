"""Item analysis (exams.item_analysis.analyse_items) against the worked case and edges."""

import dataclasses
import math
import random
import statistics

import pytest

from exams.item_analysis import ItemFlag, ItemOptions, analyse_items
from exams.scoring import ItemResponse, ItemStatus, score_attempt
from tests.exams import load_testdata

CASE = load_testdata("item-analysis.json")
EXPECTED = CASE["expected"]
RESULT = analyse_items(CASE["responses"])
FLAG_NAMES = {
    "too_easy_over_0.95": ItemFlag.TOO_EASY,
    "too_hard_under_0.2": ItemFlag.TOO_HARD,
    "discrimination_under_0.1": ItemFlag.LOW_DISCRIMINATION,
}


# --- the shared worked case -----------------------------------------------------


@pytest.mark.parametrize("index", range(len(EXPECTED["difficulty"])))
def test_worked_case_item(index):
    item = RESULT.items[index]

    assert item.index == index
    assert item.difficulty == EXPECTED["difficulty"][index]
    assert item.discrimination == EXPECTED["discrimination_rest_point_biserial"][index]
    expected_flags = {
        flag for name, flag in FLAG_NAMES.items() if index in CASE["flags_expected"][name]
    }
    assert set(item.flags) == expected_flags


def test_worked_case_exam_figures():
    assert RESULT.attempts == len(CASE["responses"])
    assert RESULT.item_count == RESULT.items_per_attempt == 6
    assert RESULT.mean == EXPECTED["mean_score"]
    assert RESULT.sd_population == EXPECTED["sd_score_population"]
    assert RESULT.kr20 == EXPECTED["kr20"]
    assert RESULT.sd_sample == round(statistics.stdev(sum(r) for r in CASE["responses"]), 4)


@pytest.mark.parametrize(("name", "flag"), FLAG_NAMES.items())
def test_worked_case_flags(name, flag):
    assert list(RESULT.flagged(flag)) == CASE["flags_expected"][name]


def test_worked_case_unrounded_matches_the_statistics_module():
    rows = CASE["responses"]
    full = analyse_items(rows, places=None)
    totals = [sum(r) for r in rows]

    for j, item in enumerate(full.items):
        column = [r[j] for r in rows]
        rest = [t - x for t, x in zip(totals, column, strict=True)]
        assert item.discrimination == pytest.approx(statistics.correlation(column, rest), abs=1e-12)
    assert full.sd_population == pytest.approx(statistics.pstdev(totals), abs=1e-12)
    assert full.sd_sample == pytest.approx(statistics.stdev(totals), abs=1e-12)


# --- degenerate matrices --------------------------------------------------------


def test_zero_attempts():
    result = analyse_items([], item_count=3)

    assert (result.attempts, result.item_count) == (0, 3)
    assert (result.mean, result.sd_population, result.sd_sample, result.kr20) == (None,) * 4
    assert result.items_per_attempt is None
    for item in result.items:
        assert (item.attempts, item.correct, item.difficulty, item.discrimination) == (
            0,
            0,
            None,
            None,
        )
        assert item.flags == ()


def test_zero_attempts_and_zero_questions():
    result = analyse_items([])

    assert (result.attempts, result.item_count, result.items) == (0, 0, ())


def test_one_attempt():
    result = analyse_items([[1, 0, 1]])

    assert [i.difficulty for i in result.items] == [1.0, 0.0, 1.0]
    assert [i.discrimination for i in result.items] == [None, None, None]
    assert (result.mean, result.sd_population, result.sd_sample, result.kr20) == (
        2.0,
        0.0,
        None,
        None,
    )


def test_all_correct_and_all_wrong_columns():
    rows = [[1, 0, 1, 1], [1, 0, 0, 1], [1, 0, 1, 0], [1, 0, 0, 0]]

    result = analyse_items(rows)

    easy, hard = result.items[0], result.items[1]
    assert (easy.difficulty, easy.discrimination, easy.flags) == (1.0, None, (ItemFlag.TOO_EASY,))
    assert (hard.difficulty, hard.discrimination, hard.flags) == (0.0, None, (ItemFlag.TOO_HARD,))
    assert result.items[2].discrimination is not None


def test_rest_score_without_variance_gives_no_discrimination():
    # Item 0 varies, but the rest of the test is 1 for everyone.
    result = analyse_items([[1, 1], [0, 1], [1, 1]])

    assert result.items[0].discrimination is None
    assert ItemFlag.LOW_DISCRIMINATION not in result.items[0].flags


def test_kr20_undefined_for_a_single_question_or_equal_totals():
    assert analyse_items([[1], [0], [1]]).kr20 is None
    assert analyse_items([[1, 0], [0, 1], [1, 0]]).kr20 is None  # every total is 1


def test_kr20_can_be_negative_and_is_not_clipped():
    result = analyse_items([[1, 0], [0, 1], [1, 0], [0, 1], [1, 1]])

    assert result.kr20 is not None and result.kr20 < 0


@pytest.mark.parametrize(
    ("column", "flag_expected"),
    [
        ([1] * 19 + [0], False),  # 0.95 is not "over 0.95"
        ([1] * 20, True),
        ([1] * 4 + [0] * 16, False),  # 0.2 is not "under 0.2"
        ([1] * 3 + [0] * 17, True),
    ],
    ids=["0.95", "1.0", "0.2", "0.15"],
)
def test_difficulty_flag_boundaries_are_strict(column, flag_expected):
    flags = analyse_items([[x] for x in column]).items[0].flags

    assert bool({ItemFlag.TOO_EASY, ItemFlag.TOO_HARD} & set(flags)) is flag_expected


def test_thresholds_and_places_are_parameters():
    result = analyse_items(
        CASE["responses"],
        too_easy_above=0.85,
        too_hard_below=0.25,
        low_discrimination_below=0.4,
        places=2,
    )

    assert result.flagged(ItemFlag.TOO_EASY) == (0,)
    assert result.flagged(ItemFlag.TOO_HARD) == (4,)
    assert result.flagged("low_discrimination") == (3, 4)
    assert result.items[0].discrimination == 0.61


# --- option frequencies ---------------------------------------------------------


SINGLE = ItemOptions(option_ids=("a", "b", "c"), correct_ids=frozenset({"a"}))
MULTI = ItemOptions(option_ids=("w", "x", "y", "z"), correct_ids=frozenset({"w", "x"}))


def test_option_counts_shares_and_blanks():
    selections = [
        [{"a"}, {"w", "x"}],
        [{"b"}, {"w"}],
        [set(), {"w", "x", "z"}],
        [{"a"}, set()],
    ]
    responses = [[1, 1], [0, 0], [0, 0], [1, 0]]

    result = analyse_items(responses, options=[SINGLE, MULTI], selections=selections)

    first, second = result.items
    assert [(o.option_id, o.is_correct, o.count, o.share) for o in first.options] == [
        ("a", True, 2, 0.5),
        ("b", False, 1, 0.25),
        ("c", False, 0, 0.0),
    ]
    assert first.blank == 1
    assert [(o.option_id, o.count) for o in second.options] == [
        ("w", 3),
        ("x", 2),
        ("y", 0),
        ("z", 1),
    ]
    assert second.blank == 1
    assert ItemFlag.DISTRACTOR_BEATS_KEY not in first.flags + second.flags


def test_distractor_chosen_more_than_the_key_is_flagged():
    selections = [[{"b"}], [{"b"}], [{"a"}], [{"c"}]]

    result = analyse_items([[0], [0], [1], [0]], options=[SINGLE], selections=selections)

    assert ItemFlag.DISTRACTOR_BEATS_KEY in result.items[0].flags


def test_distractor_tied_with_the_key_is_not_flagged():
    selections = [[{"b"}], [{"a"}]]

    result = analyse_items([[0], [1]], options=[SINGLE], selections=selections)

    assert ItemFlag.DISTRACTOR_BEATS_KEY not in result.items[0].flags


def test_multiple_answer_distractor_is_compared_with_the_least_chosen_key():
    # w chosen 3 times, x once, z twice: z beats x.
    selections = [[{"w", "z"}], [{"w", "z"}], [{"w", "x"}]]

    result = analyse_items([[0], [0], [1]], options=[MULTI], selections=selections)

    assert ItemFlag.DISTRACTOR_BEATS_KEY in result.items[0].flags


def test_items_without_attempts_have_no_option_shares():
    result = analyse_items([], options=[SINGLE], selections=[])

    assert [(o.count, o.share) for o in result.items[0].options] == [(0, None)] * 3
    assert result.items[0].blank == 0


# --- random forms: questions not given to an attempt ----------------------------


def test_none_cells_use_only_the_attempts_given_the_question():
    rows = [[1, None, 0], [None, 1, 1], [0, 1, None], [1, 0, None], [1, None, 1]]

    result = analyse_items(rows, places=None)

    assert [i.attempts for i in result.items] == [4, 3, 3]
    assert [i.correct for i in result.items] == [3, 2, 2]
    assert result.items[0].difficulty == 0.75
    assert result.items_per_attempt == 2
    totals = [1, 2, 1, 1, 2]
    given0 = [(1, 1), (0, 1), (1, 1), (1, 2)]  # (x, total) for attempts given item 0
    expected_r = statistics.correlation([x for x, _ in given0], [t - x for x, t in given0])
    assert result.items[0].discrimination == pytest.approx(expected_r, abs=1e-12)
    assert result.mean == pytest.approx(statistics.mean(totals))
    # KR-20 with random forms: mean over attempts of their own items' p*q.
    p = [0.75, 2 / 3, 2 / 3]
    pq = [x * (1 - x) for x in p]
    mean_pq = (pq[0] * 4 + pq[1] * 3 + pq[2] * 3) / 5  # item j weighs by attempts given it
    expected_kr20 = 2 * (1 - mean_pq / statistics.pvariance(totals))
    assert result.kr20 == pytest.approx(expected_kr20, abs=1e-12)


def test_forms_of_different_lengths_have_no_kr20():
    result = analyse_items([[1, 1, None], [1, 0, 1], [0, 0, 0]])

    assert result.items_per_attempt is None
    assert result.kr20 is None
    assert result.mean is not None


# --- malformed input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        (([[1, 0], [1]],), {}, "Row 1 has 1 cells"),
        (([[1, 2]],), {}, r"Cell \(0, 1\)"),
        (([[1, 0.5]],), {}, r"Cell \(0, 1\)"),
        (([[1, [1]]],), {}, r"Cell \(0, 1\)"),
        (([[1, "1"]],), {}, r"Cell \(0, 1\)"),
        (([[1]],), {"options": [SINGLE], "selections": [[["q", "a"]]]}, "unknown options"),
        (([[1, 0]],), {"item_count": 3}, "Inconsistent number"),
        (([[1]],), {"options": [SINGLE]}, "go together"),
        (([[1]],), {"options": [SINGLE], "selections": []}, "rows of selections"),
        (([[1]],), {"options": [SINGLE], "selections": [[{"q"}]]}, "unknown options"),
        (([[1]],), {"options": [SINGLE], "selections": [[None]]}, "disagree"),
        (([[1]],), {"options": [SINGLE], "selections": [[{"a"}, {"a"}]]}, "2 cells"),
    ],
)
def test_malformed_input_is_refused(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        analyse_items(*args, **kwargs)


@pytest.mark.parametrize(
    ("option_ids", "correct_ids"),
    [(("a", "a"), {"a"}), (("a", "b"), set()), (("a", "b"), {"c"})],
    ids=["duplicate option", "no key", "key not an option"],
)
def test_malformed_options_are_refused(option_ids, correct_ids):
    with pytest.raises(ValueError):
        ItemOptions(option_ids=option_ids, correct_ids=frozenset(correct_ids))


def test_result_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RESULT.kr20 = 1.0


# --- properties on random matrices ----------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_property_random_matrices_match_textbook_formulas(seed):
    rng = random.Random(seed)
    n, k = rng.randint(2, 40), rng.randint(2, 12)
    ability = [rng.random() for _ in range(n)]
    rows = [[int(rng.random() < (a + rng.random()) / 2) for _ in range(k)] for a in ability]
    totals = [sum(r) for r in rows]

    result = analyse_items(rows, places=None)

    for j, item in enumerate(result.items):
        column = [r[j] for r in rows]
        rest = [t - x for t, x in zip(totals, column, strict=True)]
        assert item.difficulty == sum(column) / n
        if len(set(column)) > 1 and len(set(rest)) > 1:
            assert item.discrimination == pytest.approx(
                statistics.correlation(column, rest), abs=1e-9
            )
            assert -1.0 <= item.discrimination <= 1.0
        else:
            assert item.discrimination is None
    variance = statistics.pvariance(totals)
    if variance:
        p = [sum(r[j] for r in rows) / n for j in range(k)]
        textbook = k / (k - 1) * (1 - sum(x * (1 - x) for x in p) / variance)
        assert result.kr20 == pytest.approx(textbook, abs=1e-9)
    else:
        assert result.kr20 is None
    assert result.mean == pytest.approx(statistics.mean(totals))
    assert result.sd_population == pytest.approx(statistics.pstdev(totals), abs=1e-9)
    assert result.sd_sample == pytest.approx(statistics.stdev(totals), abs=1e-9)
    assert not any(math.isnan(v) for v in (result.mean, result.sd_population))


def test_matrix_rows_come_straight_from_score_attempt():
    # The 0/1 row of an attempt is its item_results (dropped items excluded by
    # the caller); a credited item is a 1 for everyone, hence "too easy".
    def attempt(right):
        return [
            ItemResponse("t", "single", {"a"}, {"a" if ok else "b"}, status)
            for ok, status in zip(
                right, [ItemStatus.NORMAL, ItemStatus.NORMAL, ItemStatus.CREDITED], strict=True
            )
        ]

    rows = [
        list(score_attempt(attempt(r)).item_results)
        for r in ([1, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 1])
    ]

    result = analyse_items(rows)

    assert rows[0] == [True, True, True]
    assert result.items[2].flags == (ItemFlag.TOO_EASY,)
    assert result.items[0].difficulty == 0.75


def test_booleans_and_whole_floats_read_as_zero_and_one():
    """Rows of plain 0/1/None skip the per-cell checks; True, False, 1.0 and
    0.0 give exactly what 1 and 0 give, totals included."""
    as_ints = [[int(x) for x in row] for row in CASE["responses"]]
    for other in (
        [[bool(x) for x in row] for row in as_ints],
        [[float(x) for x in row] for row in as_ints],
    ):
        assert analyse_items(other) == analyse_items(as_ints)
