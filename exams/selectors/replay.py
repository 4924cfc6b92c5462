"""Replaying an attempt's draw for programme staff (callers check the role).

Contract:
- `attempt_replay(attempt_id=)` redraws the attempt's form with `exams.draw`
  from what was recorded at its start (the seed, the draw inputs snapshot and
  the questions the person had been given before), never from today's pool:
  questions edited, added or retired since leave the replay as it was. The
  stored items are read only to compare with the replay.
- 4 queries for any size of form: the attempt with its snapshot, its stored
  items, the versions named and their options. Unknown id: 404
  `attempt_not_found`.
- `exam_attempts(exam=)`: the exam's attempts for the staff list.
- An attempt without a recorded snapshot (started before snapshots were kept)
  is not replayed: `replayable` is False and `reason` says why; its stored
  form is shown alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from lms.errors import NotFound

from .. import draw
from ..models import Attempt, AttemptItem, Choice, Exam, QuestionVersion

NOT_RECORDED = (
    "This attempt started before the inputs of each draw were recorded: the question "
    "pool, the blueprint and the shuffle settings at its start are not known, so its "
    "draw cannot be replayed. The stored form is shown as it was given."
)
UNREADABLE = "The recorded inputs of this draw cannot be read ({error}); it cannot be replayed."
POOL_TOO_SMALL = (
    "The recorded pool has too few questions for the recorded blueprint (topic {topic}: "
    "draws {needed}, {available} drawable); the draw cannot be replayed."
)


@dataclass(frozen=True)
class ReplaySide:
    """One item as stored or as replayed."""

    question_id: int
    version_id: int
    version_number: int | None  # None: a version that no longer exists
    choice_ids: tuple[int, ...]
    # The options' authored numbers (1 = first written), in the order shown.
    option_numbers: tuple[int | None, ...]

    @property
    def version_label(self) -> str:
        return f"v{self.version_number}" if self.version_number else f"version id {self.version_id}"

    @property
    def option_label(self) -> str:
        return " ".join(str(n) if n else "?" for n in self.option_numbers) or "—"


@dataclass(frozen=True)
class ReplayRow:
    position: int  # 1-based
    question: str
    stored: ReplaySide | None
    replayed: ReplaySide | None

    @property
    def same(self) -> bool:
        return (
            self.stored is not None
            and self.replayed is not None
            and (self.stored.question_id, self.stored.version_id, self.stored.choice_ids)
            == (self.replayed.question_id, self.replayed.version_id, self.replayed.choice_ids)
        )


@dataclass(frozen=True)
class ReplayDifference:
    kind: str  # exams.draw.DifferenceKind
    question_id: int
    stored_position: int | None
    replayed_position: int | None
    text: str


@dataclass(frozen=True)
class Replay:
    attempt: Attempt
    replayable: bool
    reason: str
    rows: list[ReplayRow]
    differences: list[ReplayDifference] = field(default_factory=list)
    inputs_recorded_at: datetime | None = None
    pool_size: int = 0

    @property
    def identical(self) -> bool:
        return self.replayable and not self.differences

    @property
    def verdict(self) -> str:
        if not self.replayable:
            return "Cannot replay"
        if not self.differences:
            return "Identical"
        n = len(self.differences)
        return f"{n} difference{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class _Version:
    number: int
    question_id: int
    title: str


def exam_attempts(*, exam: Exam) -> QuerySet[Attempt]:
    """The exam's attempts, newest first, with the person (1 query per page)."""
    return Attempt.objects.filter(exam=exam).select_related("person").order_by("-started_at", "-pk")


def attempt_replay(*, attempt_id: int) -> Replay:
    attempt = (
        Attempt.objects.select_related("exam", "person", "draw_snapshot")
        .filter(pk=attempt_id)
        .first()
    )
    if attempt is None:
        raise NotFound("No such attempt.", code="attempt_not_found")
    stored = [
        draw.FormItem(topic_id, question_id, version_id, tuple(order))
        for topic_id, question_id, version_id, order in AttemptItem.objects.filter(attempt=attempt)
        .order_by("position")
        .values_list(
            "topic_id", "question_version__question_id", "question_version_id", "choice_order"
        )
    ]
    options = _Options(stored_versions={item.version_id for item in stored})
    replayed: list[draw.FormItem] = []
    reason = ""
    inputs: draw.DrawInputs | None = None
    snapshot = attempt.draw_snapshot
    if snapshot is None or attempt.draw_seen is None:
        reason = NOT_RECORDED
    else:
        try:
            inputs = draw.inputs_from_data(snapshot.data)
            replayed = draw.draw_form(
                seed=attempt.seed, inputs=inputs, seen=attempt.draw_seen, choices_of=options
            )
        except (ValueError, KeyError, TypeError) as error:
            reason = UNREADABLE.format(error=error)
        except draw.PoolTooSmall as error:
            reason = POOL_TOO_SMALL.format(
                topic=error.topic_id, needed=error.needed, available=error.available
            )
    named = _Named(
        versions=_versions({item.version_id for item in [*stored, *replayed]}),
        options=options.load(),
    )
    replayable = not reason
    rows = []
    for i in range(max(len(stored), len(replayed))):
        first = stored[i] if i < len(stored) else replayed[i]
        rows.append(
            ReplayRow(
                position=i + 1,
                question=named.question(first),
                stored=named.side(stored[i]) if i < len(stored) else None,
                replayed=named.side(replayed[i]) if i < len(replayed) else None,
            )
        )
    differences = (
        [named.difference(d) for d in draw.compare_forms(stored, replayed)] if replayable else []
    )
    return Replay(
        attempt=attempt,
        replayable=replayable,
        reason=reason,
        rows=rows,
        differences=differences,
        inputs_recorded_at=snapshot.created_at if snapshot is not None else None,
        pool_size=len(inputs.pool) if inputs is not None else 0,
    )


class _Options:
    """`choices_of` for the draw that also loads the stored versions' options:
    one query for both (the table numbers every option shown)."""

    def __init__(self, *, stored_versions: Iterable[int]) -> None:
        self.stored_versions = set(stored_versions)
        self.orders: dict[int, list[int]] | None = None

    def __call__(self, version_ids: Sequence[int]) -> Mapping[int, Sequence[int]]:
        self._fetch(self.stored_versions | set(version_ids))
        assert self.orders is not None
        return self.orders

    def load(self) -> dict[int, int]:
        """Authored number (1-based) of every option of the versions loaded."""
        if self.orders is None:
            self._fetch(self.stored_versions)
        assert self.orders is not None
        return {cid: i + 1 for order in self.orders.values() for i, cid in enumerate(order)}

    def _fetch(self, version_ids: set[int]) -> None:
        orders: dict[int, list[int]] = {v: [] for v in version_ids}
        for version_id, choice_id in (
            Choice.objects.filter(version_id__in=version_ids)
            .order_by("version_id", "position")
            .values_list("version_id", "id")
        ):
            orders[version_id].append(choice_id)
        self.orders = orders


def _versions(version_ids: set[int]) -> dict[int, _Version]:
    return {
        pk: _Version(number, question_id, title or _shorten(stem))
        for pk, number, question_id, title, stem in QuestionVersion.objects.filter(
            pk__in=version_ids
        ).values_list("pk", "number", "question_id", "question__title", "stem")
    }


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class _Named:
    """Names for the table: version numbers, options' authored numbers."""

    versions: dict[int, _Version]
    options: dict[int, int]

    def question(self, item: draw.FormItem) -> str:
        version = self.versions.get(item.version_id)
        return version.title if version else f"Question {item.question_id}"

    def side(self, item: draw.FormItem) -> ReplaySide:
        version = self.versions.get(item.version_id)
        return ReplaySide(
            question_id=item.question_id,
            version_id=item.version_id,
            version_number=version.number if version else None,
            choice_ids=item.choice_order,
            option_numbers=tuple(self.options.get(c) for c in item.choice_order),
        )

    def difference(self, difference: draw.Difference) -> ReplayDifference:
        q = f"Question {difference.question_id}"
        i, j = difference.stored_position, difference.replayed_position
        s = self.side(difference.stored) if difference.stored else None
        r = self.side(difference.replayed) if difference.replayed else None
        if difference.kind == "missing" and r is not None:
            text = (
                f"{q} ({r.version_label}) is drawn by the replay at position {j} "
                "but is not in the stored form."
            )
        elif difference.kind == "extra" and s is not None:
            text = (
                f"{q} ({s.version_label}) is in the stored form at position {i} "
                "but the replay does not draw it."
            )
        elif difference.kind == "version" and s is not None and r is not None:
            text = f"{q}: {s.version_label} stored, {r.version_label} replayed."
        elif difference.kind == "option_order" and s is not None and r is not None:
            text = f"{q}: options in the order {s.option_label} stored, {r.option_label} replayed."
        else:
            text = f"{q}: at position {i} stored, {j} replayed."
        return ReplayDifference(difference.kind, difference.question_id, i, j, text)
