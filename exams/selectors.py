"""Reads for the exam pages and API.

Contract:
- Nothing here writes. Overdue attempts are finalised by the caller first
  (`services.attempt_finalise_if_overdue`), so a selector may show them as
  still in progress only if nobody asked the service.
- Query counts do not grow with the number of questions or exams:
  `attempt_form_for` is 2 queries for any size of form (items with their
  versions, then the shown choices); `exam_list_for_learner` is 3 plus one
  call of the certification check per exam.
- Nothing returned before an attempt is scored carries correctness: the form
  has choice ids and texts only, never `is_correct` or explanations.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils.module_loading import import_string

from lms.errors import NotFound

from . import rules
from .models import Attempt, AttemptItem, AttemptStatus, Choice, Exam, Question

DEFAULT_CERTIFIED_CHECK = "exams.selectors.never_certified"


def never_certified(*, person, exam) -> bool:
    """Default certification check: exams know nothing about certificates.

    The certificates app points `settings.EXAMS_CERTIFIED_CHECK` at its own
    callable `(person=, exam=) -> bool` so a holder is not offered a retake.
    """
    return False


def is_certified(*, person, exam) -> bool:
    check = import_string(getattr(settings, "EXAMS_CERTIFIED_CHECK", DEFAULT_CERTIFIED_CHECK))
    return bool(check(person=person, exam=exam))


def _finished_times(*, person, exam) -> list[datetime]:
    return list(
        Attempt.objects.filter(person=person, exam=exam)
        .exclude(status=AttemptStatus.IN_PROGRESS)
        .values_list("submitted_at", flat=True)
    )


def _decide(*, exam: Exam, finished: list[datetime], now: datetime, certified: bool):
    return rules.retake_available_at(
        finished_attempts=finished,
        now=now,
        certified=certified,
        first_wait=timedelta(hours=exam.retake_first_wait_hours),
        later_wait=timedelta(days=exam.retake_later_wait_days),
        max_attempts=exam.max_attempts_in_window,
        window=timedelta(days=exam.attempt_window_days),
    )


def retake_decision_for(*, person, exam: Exam, now: datetime) -> rules.RetakeDecision:
    """May `person` start a new attempt of `exam` at `now`? (ignores an open attempt)"""
    return _decide(
        exam=exam,
        finished=_finished_times(person=person, exam=exam),
        now=now,
        certified=is_certified(person=person, exam=exam),
    )


def exam_get_published(*, slug: str) -> Exam:
    exam = Exam.objects.filter(slug=slug, is_published=True).first()
    if exam is None:
        raise NotFound("No published exam with this slug.", code="exam_not_found")
    return exam


@dataclass(frozen=True)
class ExamCard:
    exam: Exam
    question_count: int
    can_start: bool
    next_attempt_available_at: datetime | None
    code: str | None
    reason: str
    in_progress_attempt_id: int | None
    in_progress_deadline: datetime | None
    attempts_taken: int

    @property
    def slug(self) -> str:
        return self.exam.slug

    @property
    def title(self) -> str:
        return self.exam.title


def exam_list_for_learner(*, person, now: datetime) -> list[ExamCard]:
    """Published exams with the learner's availability (3 queries + certified checks)."""
    exams = list(
        Exam.objects.filter(is_published=True)
        .annotate(question_count=Sum("blueprint__count"))
        .order_by("title", "pk")
    )
    finished: dict[int, list[datetime]] = defaultdict(list)
    open_attempts: dict[int, tuple[int, datetime]] = {}
    for exam_id, pk, status, submitted_at, deadline in Attempt.objects.filter(
        person=person, exam__in=exams
    ).values_list("exam_id", "pk", "status", "submitted_at", "deadline"):
        if status == AttemptStatus.IN_PROGRESS:
            open_attempts[exam_id] = (pk, deadline)
        else:
            finished[exam_id].append(submitted_at)
    cards = []
    for exam in exams:
        decision = _decide(
            exam=exam,
            finished=finished[exam.pk],
            now=now,
            certified=is_certified(person=person, exam=exam),
        )
        open_attempt = open_attempts.get(exam.pk)
        cards.append(
            ExamCard(
                exam=exam,
                question_count=exam.question_count or 0,
                can_start=decision.allowed or open_attempt is not None,
                next_attempt_available_at=decision.available_at,
                code=decision.code,
                reason=decision.reason,
                in_progress_attempt_id=open_attempt[0] if open_attempt else None,
                in_progress_deadline=open_attempt[1] if open_attempt else None,
                attempts_taken=len(finished[exam.pk]),
            )
        )
    return cards


def attempt_get_for_person(*, person, attempt_id: int) -> Attempt:
    """The person's own attempt (with its exam); anyone else's is NotFound."""
    attempt = (
        Attempt.objects.select_related("exam").filter(pk=attempt_id, person_id=person.pk).first()
    )
    if attempt is None:
        raise NotFound("No such attempt.", code="attempt_not_found")
    return attempt


@dataclass(frozen=True)
class ChoiceView:
    id: int
    text: str


@dataclass(frozen=True)
class ItemView:
    id: int
    position: int
    prompt: str
    kind: str
    choices: list[ChoiceView]
    selected_choice_ids: list[int]
    flagged: bool

    @property
    def answered(self) -> bool:
        return bool(self.selected_choice_ids)

    @property
    def number(self) -> int:
        return self.position + 1


def attempt_form_for(*, attempt: Attempt) -> list[ItemView]:
    """The attempt's questions as the learner sees them, in the stored order (2 queries)."""
    items = list(
        AttemptItem.objects.filter(attempt=attempt)
        .select_related("question_version__question")
        .only(
            "id",
            "position",
            "choice_order",
            "selected_choice_ids",
            "flagged",
            "question_version__stem",
            "question_version__question__kind",
        )
        .order_by("position")
    )
    texts = dict(
        Choice.objects.filter(version_id__in=[item.question_version_id for item in items])
        .order_by()
        .values_list("id", "text")
    )
    return [
        ItemView(
            id=item.pk,
            position=item.position,
            prompt=item.question_version.stem,
            kind=item.question_version.question.kind,
            choices=[ChoiceView(id=cid, text=texts.get(cid, "")) for cid in item.choice_order],
            selected_choice_ids=list(item.selected_choice_ids),
            flagged=item.flagged,
        )
        for item in items
    ]


def attempt_result_for(attempt: Attempt) -> dict | None:
    """Score, pass/fail and per-topic breakdown once scored; None before."""
    if attempt.status == AttemptStatus.IN_PROGRESS or attempt.score_percent is None:
        return None
    return {
        "status": attempt.status,
        "score_percent": attempt.score_percent,
        "passed": bool(attempt.passed),
        "correct": attempt.score_correct,
        "total": attempt.score_total,
        "pass_mark_percent": attempt.pass_mark_percent,
        "topics": [
            {
                "topic": row["topic"],
                "score_percent": Decimal(row["score_percent"]),
                "correct": row["correct"],
                "total": row["total"],
            }
            for row in attempt.topic_scores
        ],
    }


def attempt_history_for(*, person, exam: Exam | None = None) -> list[Attempt]:
    """The person's attempts, newest first, with their exam (1 query)."""
    attempts = Attempt.objects.filter(person=person).select_related("exam")
    if exam is not None:
        attempts = attempts.filter(exam=exam)
    return list(attempts.order_by("-started_at", "-pk"))


def topic_pool_shortfalls(*, exam: Exam) -> list[dict]:
    """Blueprint rules whose topic has fewer drawable questions than the rule draws."""
    rules_ = list(
        exam.blueprint.select_related("topic").annotate(
            available=Count(
                "topic__questions",
                filter=Q(
                    topic__questions__is_active=True,
                    topic__questions__current_version__isnull=False,
                ),
            )
        )
    )
    return [
        {"topic": rule.topic.name, "needed": rule.count, "available": rule.available}
        for rule in rules_
        if rule.available < rule.count
    ]


def active_question_ids(*, topic_ids) -> list[tuple[int, int, int]]:
    """(question id, topic id, current version id) of every drawable question."""
    return list(
        Question.objects.filter(
            topic_id__in=topic_ids, is_active=True, current_version__isnull=False
        )
        .order_by("pk")
        .values_list("pk", "topic_id", "current_version_id")
    )
