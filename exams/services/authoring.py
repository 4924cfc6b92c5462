"""Authoring: questions and their versions, blueprints, publishing.

Part of exams.services; its contract is in that package's docstring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from lms.errors import Conflict, DomainError, PermissionDenied
from lms.permissions import is_instructor
from lms.types import AnyUser

from .. import selectors
from ..models import (
    MAX_CHOICES,
    MIN_CHOICES,
    AttemptItem,
    BlueprintRule,
    Choice,
    Difficulty,
    Exam,
    Question,
    QuestionKind,
    QuestionVersion,
    Topic,
)


class InvalidQuestion(DomainError):
    status = 422
    code = "invalid_question"


class PublishRefused(Conflict):
    code = "pool_too_small"


# --- authoring ----------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceSpec:
    text: str
    is_correct: bool = False
    feedback: str = ""


def check_choices(*, kind: str, choices: Sequence[ChoiceSpec]) -> None:
    """One condition per line; each failure names what to fix."""
    if kind not in QuestionKind.values:
        raise InvalidQuestion(f"Unknown question kind {kind!r}.")
    if not (MIN_CHOICES <= len(choices) <= MAX_CHOICES):
        raise InvalidQuestion(
            f"A question needs {MIN_CHOICES} to {MAX_CHOICES} options, got {len(choices)}."
        )
    if any(not choice.text.strip() for choice in choices):
        raise InvalidQuestion("Every option needs a text.")
    if len({choice.text.strip() for choice in choices}) != len(choices):
        raise InvalidQuestion("Two options have the same text.")
    correct = sum(1 for choice in choices if choice.is_correct)
    if kind == QuestionKind.SINGLE and correct != 1:
        raise InvalidQuestion(
            f"A single-answer question needs exactly one right option, got {correct}."
        )
    if kind == QuestionKind.MULTIPLE and correct < 1:
        raise InvalidQuestion("A multiple-answer question needs at least one right option.")


def check_stem(stem: str) -> None:
    if not stem.strip():
        raise InvalidQuestion("The question text cannot be empty.")


def _write_choices(version: QuestionVersion, choices: Sequence[ChoiceSpec]) -> None:
    Choice.objects.bulk_create(
        Choice(
            version=version,
            text=spec.text.strip(),
            is_correct=spec.is_correct,
            position=i,
            feedback=spec.feedback.strip(),
        )
        for i, spec in enumerate(choices)
    )


@transaction.atomic
def question_create(
    *,
    topic: Topic,
    kind: str,
    stem: str,
    choices: Sequence[ChoiceSpec],
    explanation: str = "",
    difficulty: str = Difficulty.MEDIUM,
    title: str = "",
    is_active: bool = True,
) -> Question:
    check_stem(stem)
    check_choices(kind=kind, choices=choices)
    if difficulty not in Difficulty.values:
        raise InvalidQuestion(f"Unknown difficulty {difficulty!r}.")
    question = Question.objects.create(
        topic=topic, kind=kind, difficulty=difficulty, title=title, is_active=is_active
    )
    version = QuestionVersion.objects.create(
        question=question, number=1, stem=stem.strip(), explanation=explanation.strip()
    )
    _write_choices(version, choices)
    question.current_version = version
    question.save(update_fields=["current_version"])
    return question


@transaction.atomic
def question_revise(
    *,
    question: Question,
    stem: str,
    choices: Sequence[ChoiceSpec],
    explanation: str = "",
    kind: str | None = None,
) -> QuestionVersion:
    """Change a question's wording/options: in place while no attempt can hold
    the current version, else as a new version.

    In place only if no attempt used it and no published exam can draw it now
    (the question is retired, or no published blueprint names its topic): a
    start drawing it this moment would otherwise keep option ids that the
    edit replaces. A drawable question gets a new version, which later starts
    draw; attempts keep the version they were given."""
    kind = kind or question.kind
    check_stem(stem)
    check_choices(kind=kind, choices=choices)
    question = Question.objects.select_for_update().get(pk=question.pk)
    current = question.current_version
    if kind != question.kind:
        question.kind = kind
        question.save(update_fields=["kind"])
    drawable = (
        question.is_active
        and BlueprintRule.objects.filter(
            topic_id=question.topic_id, exam__is_published=True
        ).exists()
    )
    if (
        current is not None
        and not drawable
        and not AttemptItem.objects.filter(question_version=current).exists()
    ):
        current.stem = stem.strip()
        current.explanation = explanation.strip()
        current.save(update_fields=["stem", "explanation"])
        current.choices.all().delete()
        _write_choices(current, choices)
        return current
    number = (current.number if current else 0) + 1
    last = question.versions.order_by("-number").values_list("number", flat=True).first()
    number = max(number, (last or 0) + 1)
    version = QuestionVersion.objects.create(
        question=question, number=number, stem=stem.strip(), explanation=explanation.strip()
    )
    _write_choices(version, choices)
    question.current_version = version
    question.save(update_fields=["current_version"])
    return version


@transaction.atomic
def question_set_active(*, question: Question, active: bool) -> Question:
    """Retire (never drawn again) or re-activate a question; attempts keep it."""
    question.is_active = active
    question.save(update_fields=["is_active"])
    return question


@transaction.atomic
def blueprint_set(*, exam: Exam, counts: Iterable[tuple[Topic, int]]) -> list[BlueprintRule]:
    """Replace the exam's blueprint with `counts` (topic, number to draw) in order."""
    counts = list(counts)
    if any(count < 1 for _, count in counts):
        raise DomainError("Each topic must draw at least one question.", code="invalid_blueprint")
    exam.blueprint.all().delete()
    return BlueprintRule.objects.bulk_create(
        BlueprintRule(exam=exam, topic=topic, count=count, position=i)
        for i, (topic, count) in enumerate(counts)
    )


@transaction.atomic
def exam_publish(*, exam: Exam, now: datetime | None = None) -> Exam:
    if not exam.blueprint.exists():
        raise Conflict("The blueprint draws no questions yet.", code="empty_blueprint")
    shortfalls = selectors.topic_pool_shortfalls(exam=exam)
    if shortfalls:
        detail = "; ".join(
            f"{row['topic']}: draws {row['needed']}, {row['available']} active"
            for row in shortfalls
        )
        raise PublishRefused(
            f"Not enough active questions to publish: {detail}.", topics=shortfalls
        )
    exam.is_published = True
    exam.published_at = exam.published_at or now or timezone.now()
    exam.save(update_fields=["is_published", "published_at"])
    return exam


@transaction.atomic
def exam_unpublish(*, exam: Exam) -> Exam:
    """New attempts stop; open ones can still be finished."""
    exam.is_published = False
    exam.save(update_fields=["is_published"])
    return exam


@transaction.atomic
def question_update(
    *,
    question: Question,
    topic: Topic,
    kind: str,
    stem: str,
    choices: Sequence[ChoiceSpec],
    explanation: str = "",
    difficulty: str = Difficulty.MEDIUM,
    title: str = "",
    is_active: bool = True,
) -> Question:
    """The admin's save: details in place, wording/options through `question_revise`.

    A question whose text, kind and options did not change keeps its version.
    """
    check_stem(stem)
    check_choices(kind=kind, choices=choices)
    if difficulty not in Difficulty.values:
        raise InvalidQuestion(f"Unknown difficulty {difficulty!r}.")
    question = Question.objects.select_related("current_version").get(pk=question.pk)
    current = question.current_version
    wanted = (
        kind,
        stem.strip(),
        explanation.strip(),
        [(c.text.strip(), c.is_correct) for c in choices],
    )
    stored = (
        question.kind,
        current.stem if current else None,
        current.explanation if current else None,
        [(c.text, c.is_correct) for c in current.choices.order_by("position")] if current else None,
    )
    if wanted != stored:
        question_revise(
            question=question, stem=stem, choices=choices, explanation=explanation, kind=kind
        )
        question.refresh_from_db()
    question.topic = topic
    question.title = title.strip()
    question.difficulty = difficulty
    question.save(update_fields=["topic", "title", "difficulty"])
    if question.is_active != is_active:
        question_set_active(question=question, active=is_active)
    return question


# --- authoring guards -------------------------------------------------------------


def check_exam_author(user: AnyUser) -> None:
    """Instructors and programme staff author banks and exams and see item analysis."""
    if not is_instructor(user):
        raise PermissionDenied("Only instructors and programme staff can do this.")
