"""The draw of an attempt's form, and its comparison with a stored form: pure.

Contract:
- No Django import, no database, no clock. `draw_form()` is a function of the
  seed, the draw inputs (blueprint, shuffle flags, question pool), the
  questions the person had already been given (`seen`) and the options of
  the drawn versions: the same arguments give the same form, every time.
  `attempt_start` draws with it and the staff replay redraws with it.
- The pool lists every drawable question once, (question, topic, version
  given to new attempts), in question-id order: the order is part of the
  input (each candidate takes one number from the generator in that order).
- Each blueprint line, in order, takes `count` questions of its topic:
  unseen ones first (random among them), then seen ones if the topic runs
  short; fewer candidates than `count` raises `PoolTooSmall`. The picked
  questions are then shuffled if `shuffle_questions`, and each item's options
  (choice ids in their authored order, from `choices_of`) if
  `shuffle_choices`, item by item in form order.
- `inputs_to_data` / `inputs_from_data` give the JSON form the inputs are
  stored in; `inputs_digest` names identical inputs identically.
- `compare_forms(stored, replayed)` lists the differences by question:
  `missing` (the replay draws it, the stored form lacks it), `extra` (stored,
  not drawn by the replay), `version`, `position`, `option_order` (only when
  the version is the same: another version has other options).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

DATA_FORMAT = 1


@dataclass(frozen=True, slots=True)
class BlueprintLine:
    topic_id: int
    count: int


@dataclass(frozen=True, slots=True)
class PoolEntry:
    question_id: int
    topic_id: int
    version_id: int


@dataclass(frozen=True, slots=True)
class DrawInputs:
    blueprint: tuple[BlueprintLine, ...]
    pool: tuple[PoolEntry, ...]
    shuffle_questions: bool
    shuffle_choices: bool


@dataclass(frozen=True, slots=True)
class FormItem:
    """One item of a form; its position is its index in the form."""

    topic_id: int
    question_id: int
    version_id: int
    choice_order: tuple[int, ...]


class PoolTooSmall(Exception):
    def __init__(self, topic_id: int, needed: int, available: int) -> None:
        super().__init__(f"topic {topic_id}: draws {needed}, {available} drawable")
        self.topic_id = topic_id
        self.needed = needed
        self.available = available


ChoicesOf = Callable[[Sequence[int]], Mapping[int, Sequence[int]]]


def draw_form(
    *, seed: int, inputs: DrawInputs, seen: Collection[int], choices_of: ChoicesOf
) -> list[FormItem]:
    """The form drawn from `inputs` with `seed` (see the module's contract).

    `seen`: question ids the person was given before; `choices_of(version_ids)`
    returns each version's choice ids in authored order (called once)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    seen_ids = frozenset(seen)
    by_topic: dict[int, list[PoolEntry]] = {}
    for entry in inputs.pool:
        by_topic.setdefault(entry.topic_id, []).append(entry)
    picked: list[PoolEntry] = []
    for line in inputs.blueprint:
        candidates = by_topic.get(line.topic_id, [])
        if len(candidates) < line.count:
            raise PoolTooSmall(line.topic_id, line.count, len(candidates))
        ranked = sorted(candidates, key=lambda e: (e.question_id in seen_ids, rng.random()))
        picked.extend(ranked[: line.count])
    if inputs.shuffle_questions:
        rng.shuffle(picked)
    options = choices_of([entry.version_id for entry in picked])
    form = []
    for entry in picked:
        order = list(options.get(entry.version_id, ()))
        if inputs.shuffle_choices:
            rng.shuffle(order)
        form.append(FormItem(entry.topic_id, entry.question_id, entry.version_id, tuple(order)))
    return form


# --- the stored form of the inputs ------------------------------------------------


def inputs_to_data(inputs: DrawInputs) -> dict[str, Any]:
    return {
        "format": DATA_FORMAT,
        "blueprint": [[line.topic_id, line.count] for line in inputs.blueprint],
        "pool": [[e.question_id, e.topic_id, e.version_id] for e in inputs.pool],
        "shuffle_questions": inputs.shuffle_questions,
        "shuffle_choices": inputs.shuffle_choices,
    }


def inputs_from_data(data: Mapping[str, Any]) -> DrawInputs:
    if data.get("format") != DATA_FORMAT:
        raise ValueError(f"Unknown draw input format {data.get('format')!r}.")
    return DrawInputs(
        blueprint=tuple(BlueprintLine(int(t), int(c)) for t, c in data["blueprint"]),
        pool=tuple(PoolEntry(int(q), int(t), int(v)) for q, t, v in data["pool"]),
        shuffle_questions=bool(data["shuffle_questions"]),
        shuffle_choices=bool(data["shuffle_choices"]),
    )


def inputs_digest(inputs: DrawInputs) -> str:
    text = json.dumps(inputs_to_data(inputs), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- comparing a stored form with a replay -------------------------------------------

DifferenceKind = Literal["missing", "extra", "version", "position", "option_order"]


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference for one question; positions are 1-based, None where absent."""

    kind: DifferenceKind
    question_id: int
    stored_position: int | None
    replayed_position: int | None
    stored: FormItem | None
    replayed: FormItem | None


def compare_forms(stored: Sequence[FormItem], replayed: Sequence[FormItem]) -> list[Difference]:
    """Differences between two forms (positions are indexes), by question, in form order."""
    stored_at = {item.question_id: (i + 1, item) for i, item in enumerate(stored)}
    replayed_at = {item.question_id: (i + 1, item) for i, item in enumerate(replayed)}
    differences: list[Difference] = []
    for question_id, (i, item) in stored_at.items():
        if question_id not in replayed_at:
            differences.append(Difference("extra", question_id, i, None, item, None))
            continue
        j, other = replayed_at[question_id]
        if item.version_id != other.version_id:
            differences.append(Difference("version", question_id, i, j, item, other))
        elif item.choice_order != other.choice_order:
            differences.append(Difference("option_order", question_id, i, j, item, other))
        if i != j:
            differences.append(Difference("position", question_id, i, j, item, other))
    for question_id, (j, other) in replayed_at.items():
        if question_id not in stored_at:
            differences.append(Difference("missing", question_id, None, j, None, other))
    return differences
