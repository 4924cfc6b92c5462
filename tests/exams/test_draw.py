"""The pure draw (exams.draw): the same inputs give the same form; differences are named."""

import pytest

from exams import draw

BLUEPRINT = (draw.BlueprintLine(topic_id=1, count=2), draw.BlueprintLine(topic_id=2, count=1))
POOL = tuple(
    draw.PoolEntry(question_id=q, topic_id=1 if q <= 4 else 2, version_id=100 + q)
    for q in range(1, 8)
)
INPUTS = draw.DrawInputs(BLUEPRINT, POOL, shuffle_questions=True, shuffle_choices=True)


def choices_of(version_ids):
    # Version 10x has options 10x0, 10x1, 10x2, 10x3 in authored order.
    return {v: [v * 10 + i for i in range(4)] for v in version_ids}


def test_the_same_inputs_give_the_same_form():
    forms = [
        draw.draw_form(seed=42, inputs=INPUTS, seen=(), choices_of=choices_of) for _ in range(3)
    ]
    assert forms[0] == forms[1] == forms[2]
    assert [item.topic_id for item in forms[0]].count(1) == 2
    assert len({item.question_id for item in forms[0]}) == 3
    for item in forms[0]:
        assert sorted(item.choice_order) == choices_of([item.version_id])[item.version_id]


def test_another_seed_gives_another_form_somewhere():
    forms = {
        tuple(draw.draw_form(seed=seed, inputs=INPUTS, seen=(), choices_of=choices_of))
        for seed in range(20)
    }
    assert len(forms) > 1


def test_without_shuffles_the_blueprint_order_and_authored_options_stay():
    inputs = draw.DrawInputs(BLUEPRINT, POOL, shuffle_questions=False, shuffle_choices=False)
    form = draw.draw_form(seed=7, inputs=inputs, seen=(), choices_of=choices_of)
    assert [item.topic_id for item in form] == [1, 1, 2]
    assert all(list(i.choice_order) == choices_of([i.version_id])[i.version_id] for i in form)


def test_seen_questions_are_drawn_last():
    seen = {1, 2, 3}  # three of topic 1's four questions
    for seed in range(20):
        form = draw.draw_form(seed=seed, inputs=INPUTS, seen=seen, choices_of=choices_of)
        topic_1 = {item.question_id for item in form if item.topic_id == 1}
        assert 4 in topic_1  # the only unseen one is always taken


def test_a_topic_with_too_few_questions_is_refused():
    inputs = draw.DrawInputs(
        (draw.BlueprintLine(topic_id=2, count=4),),
        POOL,
        shuffle_questions=True,
        shuffle_choices=True,
    )
    with pytest.raises(draw.PoolTooSmall) as refused:
        draw.draw_form(seed=1, inputs=inputs, seen=(), choices_of=choices_of)
    assert (refused.value.topic_id, refused.value.needed, refused.value.available) == (2, 4, 3)


def test_inputs_survive_their_stored_form_and_name_themselves():
    data = draw.inputs_to_data(INPUTS)
    assert draw.inputs_from_data(data) == INPUTS
    assert draw.inputs_digest(INPUTS) == draw.inputs_digest(draw.inputs_from_data(data))
    other = draw.DrawInputs(BLUEPRINT, POOL[:-1], shuffle_questions=True, shuffle_choices=True)
    assert draw.inputs_digest(other) != draw.inputs_digest(INPUTS)
    with pytest.raises(ValueError, match="format"):
        draw.inputs_from_data({**data, "format": 99})


def item(question_id, version_id=None, order=(1, 2, 3)):
    return draw.FormItem(1, question_id, version_id or 100 + question_id, tuple(order))


def kinds(differences):
    return [(d.kind, d.question_id, d.stored_position, d.replayed_position) for d in differences]


def test_identical_forms_have_no_differences():
    form = [item(1), item(2), item(3)]
    assert draw.compare_forms(form, list(form)) == []


def test_each_kind_of_difference_is_named():
    replayed = [item(1), item(2), item(3), item(4)]
    assert kinds(draw.compare_forms([item(1, order=(3, 2, 1)), *replayed[1:]], replayed)) == [
        ("option_order", 1, 1, 1)
    ]
    assert kinds(draw.compare_forms([item(2), item(1), item(3), item(4)], replayed)) == [
        ("position", 2, 1, 2),
        ("position", 1, 2, 1),
    ]
    assert kinds(draw.compare_forms([item(1), item(2), item(3), item(9)], replayed)) == [
        ("extra", 9, 4, None),
        ("missing", 4, None, 4),
    ]
    # Another version has other options: the version is named, not the order.
    assert kinds(draw.compare_forms([item(1, 555, (7, 8, 9)), *replayed[1:]], replayed)) == [
        ("version", 1, 1, 1)
    ]
