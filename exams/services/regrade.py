"""Dropping or crediting a question for everyone and regrading the finished attempts.

Part of exams.services; its contract is in that package's docstring.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from lms.errors import Conflict, DomainError, NotFound
from lms.models import User
from lms.outbox import outbox_enqueue

from .. import scoring, selectors
from ..models import (
    Attempt,
    AttemptItem,
    Choice,
    Exam,
    QuestionVersion,
    RegradeAction,
    RegradeEvent,
)
from .attempts import ATTEMPT_PASSED_TASK, attempt_score_compute, attempt_score_store

# --- drop / credit and regrade -----------------------------------------------------


class RegradeRefused(Conflict):
    code = "regrade_refused"


@dataclass(frozen=True)
class RegradeChange:
    attempt_id: int
    person_id: int
    person: str
    before_percent: Decimal | None
    before_passed: bool
    after_percent: Decimal
    after_passed: bool

    @property
    def pass_changed(self) -> bool:
        return self.before_passed != self.after_passed


@dataclass(frozen=True)
class RegradePlan:
    exam: Exam
    question_version: QuestionVersion
    action: str
    items: int  # attempt items whose status changes (open attempts included)
    changes: tuple[RegradeChange, ...]  # finished attempts, before and after

    @property
    def pass_fail_changes(self) -> tuple[RegradeChange, ...]:
        return tuple(change for change in self.changes if change.pass_changed)


def _plan_regrade(*, exam: Exam, question_version: QuestionVersion, action: str) -> RegradePlan:
    if action not in RegradeAction.values:
        raise DomainError("The action must be dropped, credited or normal.", code="invalid_action")
    targets = AttemptItem.objects.filter(attempt__exam=exam, question_version=question_version)
    if not targets.exists():
        raise NotFound("No attempt of this exam was given this question.", code="item_not_found")
    items_to_change = targets.exclude(status=action).count()
    attempt_ids = list(
        targets.exclude(status=action)
        .filter(attempt__status__in=selectors.FINISHED)
        .values_list("attempt_id", flat=True)
    )
    attempts = {
        a.pk: a for a in Attempt.objects.filter(pk__in=attempt_ids).select_related("person")
    }
    items_by_attempt: dict[int, list[AttemptItem]] = defaultdict(list)
    for item in (
        AttemptItem.objects.filter(attempt_id__in=attempt_ids)
        .select_related("topic", "question_version__question")
        .order_by("attempt_id", "position")
    ):
        items_by_attempt[item.attempt_id].append(item)
    keys: dict[int, set[int]] = defaultdict(set)
    for version_id, choice_id in (
        Choice.objects.filter(
            version_id__in={i.question_version_id for v in items_by_attempt.values() for i in v},
            is_correct=True,
        )
        .order_by()
        .values_list("version_id", "id")
    ):
        keys[version_id].add(choice_id)
    changes = []
    for attempt_id in sorted(attempts):
        attempt = attempts[attempt_id]
        try:
            after = scoring.score_attempt(
                [
                    scoring.ItemResponse(
                        topic=item.topic.name,
                        kind=item.question_version.question.kind,
                        correct_choice_ids=frozenset(keys[item.question_version_id]),
                        selected_choice_ids=frozenset(item.selected_choice_ids),
                        status=action
                        if item.question_version_id == question_version.pk
                        else item.status,
                    )
                    for item in items_by_attempt[attempt_id]
                ],
                pass_mark=attempt.pass_mark_percent,
            )
        except scoring.ScoringError as error:
            raise RegradeRefused(
                f"Attempt {attempt_id} would have no question left to score: {error.message}",
                attempt=attempt_id,
            ) from None
        changes.append(
            RegradeChange(
                attempt_id=attempt_id,
                person_id=attempt.person_id,
                person=attempt.person.legal_name or attempt.person.email,
                before_percent=attempt.score_percent,
                before_passed=bool(attempt.passed),
                after_percent=after.percent,
                after_passed=after.passed,
            )
        )
    return RegradePlan(
        exam=exam,
        question_version=question_version,
        action=action,
        items=items_to_change,
        changes=tuple(changes),
    )


def exam_question_regrade_preview(
    *, exam: Exam, question_version: QuestionVersion, action: str
) -> RegradePlan:
    """Dry run: what dropping/crediting/restoring the question would do; writes nothing."""
    return _plan_regrade(exam=exam, question_version=question_version, action=action)


@transaction.atomic
def exam_question_regrade(
    *,
    exam: Exam,
    question_version: QuestionVersion,
    action: str,
    actor: User | None = None,
    reason: str = "",
) -> RegradeEvent:
    """Drop, credit or restore a question for everyone who took `exam`, and regrade.

    Every item of that question version in the exam's attempts takes the new
    status (open attempts are scored with it when they finish); finished
    attempts are scored again and the before/after of each is kept on a
    `RegradeEvent`. `attempt_passed` is sent for each attempt that now passes
    and did not before (receivers are idempotent). 409 `regrade_refused` when
    nothing would change or an attempt would be left with nothing to score.
    """
    # Lock the exam's row: two regrades of one exam run one after the other.
    exam = Exam.objects.select_for_update().get(pk=exam.pk)
    plan = _plan_regrade(exam=exam, question_version=question_version, action=action)
    if plan.items == 0:
        raise RegradeRefused(
            f"Nothing to change: the question is already {RegradeAction(action).label.lower()}."
        )
    AttemptItem.objects.filter(attempt__exam=exam, question_version=question_version).exclude(
        status=action
    ).update(status=action)
    newly_passed = []
    for change in plan.changes:
        attempt = Attempt.objects.get(pk=change.attempt_id)
        attempt_score_store(attempt, attempt_score_compute(attempt))
        if attempt.passed and not change.before_passed:
            newly_passed.append(attempt.pk)
    for attempt_id in newly_passed:
        outbox_enqueue(ATTEMPT_PASSED_TASK, attempt_id)
    return RegradeEvent.objects.create(
        exam=exam,
        question_version=question_version,
        action=action,
        actor=actor,
        reason=reason.strip()[:2000],
        items_changed=plan.items,
        changes=[
            {
                "attempt": change.attempt_id,
                "person": change.person_id,
                "before": {
                    "score_percent": str(change.before_percent),
                    "passed": change.before_passed,
                },
                "after": {
                    "score_percent": str(change.after_percent),
                    "passed": change.after_passed,
                },
            }
            for change in plan.changes
        ],
    )
