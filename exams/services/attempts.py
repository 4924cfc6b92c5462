"""Taking an exam: starting, saving answers, submitting, finalising overdue attempts.

Part of exams.services; its contract is in that package's docstring.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from lms.errors import Conflict, DomainError, NotFound
from lms.models import User
from lms.outbox import outbox_enqueue

from .. import attempt_forms, draw, save_sql, scoring, selectors
from ..accommodations import rules as accommodation_rules
from ..accommodations import selectors as accommodation_selectors
from ..models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Choice,
    DrawSnapshot,
    Exam,
    QuestionKind,
)
from ..signals import attempt_passed


class InvalidChoice(DomainError):
    status = 422
    code = "invalid_choice"


class AttemptClosed(Conflict):
    code = "attempt_closed"


class AttemptPaused(Conflict):
    """A rest break is running: answers and the submit wait until it ends."""

    code = "attempt_paused"

    def __init__(self, break_ends_at: datetime | None) -> None:
        super().__init__(
            "You are on a break: resume the attempt to answer or submit.",
            break_ends_at=break_ends_at.isoformat() if break_ends_at else None,
        )


# --- taking an exam -------------------------------------------------------------


def check_may_start(*, person: User, exam: Exam, now: datetime) -> None:
    decision = selectors.retake_decision_for(person=person, exam=exam, now=now)
    if not decision.allowed:
        extra: dict[str, Any] = {}
        if decision.available_at is not None:
            extra["available_at"] = decision.available_at.isoformat()
        raise Conflict(decision.reason, code=decision.code, **extra)
    refusal = selectors.start_refusals(person=person, exams=[exam], now=now).get(exam.pk)
    if refusal is not None:
        raise refusal


def _draw_inputs(exam: Exam) -> draw.DrawInputs:
    """The exam's blueprint, shuffle flags and drawable questions now (2 queries)."""
    blueprint = tuple(
        draw.BlueprintLine(topic_id, count)
        for topic_id, count in exam.blueprint.order_by("position", "pk").values_list(
            "topic_id", "count"
        )
    )
    pool = tuple(
        draw.PoolEntry(question_id, topic_id, version_id)
        for question_id, topic_id, version_id in selectors.active_question_ids(
            topic_ids=[line.topic_id for line in blueprint]
        )
    )
    return draw.DrawInputs(blueprint, pool, exam.shuffle_questions, exam.shuffle_choices)


def _draw_form(
    *, exam: Exam, person: User, seed: int
) -> tuple[list[draw.FormItem], DrawSnapshot, list[int]]:
    """The form drawn for `person` with `seed`, the inputs it was drawn from
    (recorded once per distinct content) and the seen questions it ranked last."""
    inputs = _draw_inputs(exam)
    pool_ids = {entry.question_id for entry in inputs.pool}
    seen = sorted(
        pool_ids.intersection(
            AttemptItem.objects.filter(attempt__person=person).values_list(
                "question_version__question_id", flat=True
            )
        )
    )
    try:
        form = draw.draw_form(
            seed=seed, inputs=inputs, seen=seen, choices_of=selectors.choice_ids_of
        )
    except draw.PoolTooSmall:
        raise Conflict(
            "This exam cannot be taken right now: a topic has too few questions.",
            code="pool_too_small",
        ) from None
    snapshot, _ = DrawSnapshot.objects.get_or_create(
        digest=draw.inputs_digest(inputs), defaults={"data": draw.inputs_to_data(inputs)}
    )
    return form, snapshot, seen


@transaction.atomic
def attempt_start(*, person: User, exam: Exam, now: datetime | None = None) -> tuple[Attempt, bool]:
    now = now or timezone.now()
    if not exam.is_published:
        raise NotFound("No published exam with this slug.", code="exam_not_found")
    attempt_finalise_overdue(now=now, person=person, exam=exam)
    existing = Attempt.objects.filter(
        person=person, exam=exam, status=AttemptStatus.IN_PROGRESS
    ).first()
    if existing is not None:
        return existing, False
    check_may_start(person=person, exam=exam, now=now)
    seed = secrets.randbits(62)
    form, snapshot, seen = _draw_form(exam=exam, person=person, seed=seed)
    # The grant in force today is applied and recorded on the attempt: a later
    # change of the grant does not move this attempt's deadline.
    grant = accommodation_selectors.accommodation_in_force(
        person=person, exam=exam, today=timezone.localdate(now)
    )
    extra = grant.extra_time_percent if grant is not None else 0
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                person=person,
                exam=exam,
                seed=seed,
                draw_snapshot=snapshot,
                draw_seen=seen,
                started_at=now,
                deadline=accommodation_rules.deadline_with_extra_time(
                    started_at=now,
                    duration=timedelta(minutes=exam.time_limit_minutes),
                    extra_time_percent=extra,
                ),
                pass_mark_percent=exam.pass_mark_percent,
                accommodation=grant,
                extra_time_percent=extra,
                breaks_allowed=grant.breaks if grant is not None else 0,
                break_minutes=grant.break_minutes if grant is not None else 0,
            )
            AttemptItem.objects.bulk_create(
                AttemptItem(
                    attempt=attempt,
                    topic_id=item.topic_id,
                    question_version_id=item.version_id,
                    position=position,
                    choice_order=list(item.choice_order),
                )
                for position, item in enumerate(form)
            )
    except IntegrityError:
        # Lost the race to a concurrent start (exams_attempt_one_in_progress).
        existing = Attempt.objects.filter(
            person=person, exam=exam, status=AttemptStatus.IN_PROGRESS
        ).first()
        if existing is None:
            raise
        return existing, False
    return attempt, True


def _is_overdue(attempt: Attempt, now: datetime) -> bool:
    """Past deadline + grace; a running break stops the clock, so never during one."""
    deadline = accommodation_rules.deadline_while_paused(
        deadline=attempt.deadline,
        break_started_at=attempt.break_started_at,
        break_ends_at=attempt.break_ends_at,
        now=now,
    )
    return now > deadline + timedelta(seconds=attempt.exam.grace_seconds)


# --- rest breaks: ending one (starting one is exams.services.breaks) ----------------


def break_close(
    *,
    attempt_id: int,
    started_at: datetime,
    ends_at: datetime,
    deadline: datetime,
    now: datetime,
) -> bool:
    """End the break that started at `started_at`: the deadline moves later by
    the break's length (up to `now`, at most to its planned end). One
    conditional UPDATE: only the call that finds the break still running
    ends it. Whether this call did."""
    taken = accommodation_rules.break_taken(started_at=started_at, ends_at=ends_at, now=now)
    closed = Attempt.objects.filter(
        pk=attempt_id, status=AttemptStatus.IN_PROGRESS, break_started_at=started_at
    ).update(
        break_started_at=None,
        break_ends_at=None,
        deadline=deadline + taken,
        paused_seconds=F("paused_seconds") + round(taken.total_seconds()),
    )
    attempt_forms.forget(attempt_id)
    return bool(closed)


def break_end_if_over(*, attempt: Attempt, now: datetime, early: bool = False) -> Attempt:
    """The attempt with its break ended if the break's time is up (or `early`,
    the learner resumes). No query when there is no break to end."""
    started, ends = attempt.break_started_at, attempt.break_ends_at
    if started is None or ends is None:
        return attempt
    if not early and not accommodation_rules.break_is_over(ends_at=ends, now=now):
        return attempt
    break_close(
        attempt_id=attempt.pk, started_at=started, ends_at=ends, deadline=attempt.deadline, now=now
    )
    attempt.refresh_from_db(
        fields=[
            "status",
            "deadline",
            "break_started_at",
            "break_ends_at",
            "breaks_taken",
            "paused_seconds",
        ]
    )
    return attempt


def _clean_choice_ids(
    choice_order: Sequence[int], kind: str, choice_ids: Sequence[object]
) -> list[int]:
    allowed = list(choice_order)
    wanted = set()
    for value in choice_ids:
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise InvalidChoice(
                "That option does not belong to this question.", choice_id=str(value)[:40]
            )
        wanted.add(value)
    if kind == QuestionKind.SINGLE and len(wanted) > 1:
        raise InvalidChoice("This question takes one answer only.")
    return [cid for cid in allowed if cid in wanted]


def attempt_item_save(
    *,
    person: User,
    attempt_id: int,
    item_id: int,
    choice_ids: Sequence[int] | None = None,
    flagged: bool | None = None,
    now: datetime | None = None,
) -> AttemptItem:
    """Save one item's selection (`choice_ids`, [] clears it) and/or its flag.

    A save must never land after the attempt was submitted (or scored at its
    deadline). The choice is checked against the attempt's form (fixed at
    start; `attempt_forms` keeps it per process), then written by one UPDATE
    that re-checks, in the same statement, that the attempt is still open,
    share-locking its row on PostgreSQL (a submit's UPDATE of the attempt
    waits for it, or it sees the attempt closed) and on SQLite holding the one
    write lock for that statement only. No transaction: one statement in
    autocommit once the form is known (exams.save_sql)."""
    now = now or timezone.now()
    save = partial(
        _item_save,
        person=person,
        attempt_id=attempt_id,
        item_id=item_id,
        now=now,
        choice_ids=choice_ids,
        flagged=flagged,
    )
    try:
        return save()
    except _StaleForm:
        # The form this process held disagreed with the database (an
        # instructor changed the exam's grace period, a break moved the
        # deadline): read it again, once.
        attempt_forms.forget(attempt_id)
    try:
        return save()
    except _StaleForm:  # the database's deadline check, to the microsecond
        raise AttemptClosed(
            "The time for this attempt is over.", closed_because="deadline"
        ) from None


class _StaleForm(Exception):
    pass


def _item_save(
    *,
    person: User,
    attempt_id: int,
    item_id: int,
    choice_ids: Sequence[int] | None,
    flagged: bool | None,
    now: datetime,
) -> AttemptItem:
    form = attempt_forms.form_for(attempt_id=attempt_id, person_id=person.pk)
    if form is None:
        selectors.attempt_get_for_person(person=person, attempt_id=attempt_id)  # NotFound
    item_form = form.items.get(item_id) if form is not None else None
    if form is None or item_form is None:
        raise NotFound("No such question in this attempt.", code="item_not_found")
    changes: dict[str, object] = {}
    if choice_ids is not None:
        changes["selected_choice_ids"] = _clean_choice_ids(
            item_form.choice_order, item_form.kind, choice_ids
        )
        changes["answered_at"] = now
    if flagged is not None:
        changes["flagged"] = bool(flagged)
    saved = None
    if changes and now <= form.deadline + timedelta(seconds=form.grace_seconds):
        saved = save_sql.write_item(
            item_id=item_id,
            attempt_id=attempt_id,
            open_since=now - timedelta(seconds=form.grace_seconds),
            changes=changes,
        )
    if saved is None:
        # Nothing to write, past the deadline, or submitted or finalised before
        # the write: read what is stored, and say why if it is closed.
        row = save_sql.read_item(attempt_id=attempt_id, item_id=item_id, person_id=person.pk)
        if row is None:  # deleted meanwhile
            raise NotFound("No such question in this attempt.", code="item_not_found")
        _check_open(row, now, attempt_id=attempt_id)
        if changes:  # open, yet not written: the form held was stale
            raise _StaleForm
        saved = save_sql.Saved(
            selected_choice_ids=row.selected_choice_ids,
            flagged=row.flagged,
            answered_at=row.answered_at,
        )
    return AttemptItem(
        pk=item_id,
        attempt_id=attempt_id,
        choice_order=list(item_form.choice_order),
        selected_choice_ids=saved.selected_choice_ids,
        flagged=saved.flagged,
        answered_at=saved.answered_at,
    )


def _check_open(row: save_sql.SaveRow, now: datetime, *, attempt_id: int) -> None:
    if row.attempt_status != AttemptStatus.IN_PROGRESS:
        raise AttemptClosed("This attempt has been submitted.", closed_because="submitted")
    if row.break_started_at is not None and row.break_ends_at is not None:
        if not accommodation_rules.break_is_over(ends_at=row.break_ends_at, now=now):
            raise AttemptPaused(row.break_ends_at)
        # The break's time is up: end it (the deadline moves) and save again.
        break_close(
            attempt_id=attempt_id,
            started_at=row.break_started_at,
            ends_at=row.break_ends_at,
            deadline=row.deadline,
            now=now,
        )
        raise _StaleForm
    if now > row.deadline + timedelta(seconds=row.grace_seconds):
        raise AttemptClosed("The time for this attempt is over.", closed_because="deadline")


def attempt_answer(
    *,
    person: User,
    attempt_id: int,
    item_id: int,
    choice_ids: Sequence[int],
    now: datetime | None = None,
) -> AttemptItem:
    return attempt_item_save(
        person=person, attempt_id=attempt_id, item_id=item_id, choice_ids=choice_ids, now=now
    )


def attempt_flag(
    *, person: User, attempt_id: int, item_id: int, flagged: bool, now: datetime | None = None
) -> AttemptItem:
    return attempt_item_save(
        person=person, attempt_id=attempt_id, item_id=item_id, flagged=flagged, now=now
    )


def attempt_score_compute(attempt: Attempt) -> scoring.AttemptScore:
    items = list(
        AttemptItem.objects.filter(attempt=attempt)
        .select_related("topic", "question_version__question")
        .order_by("position")
    )
    keys: dict[int, set[int]] = defaultdict(set)
    for version_id, choice_id in (
        Choice.objects.filter(
            version_id__in=[item.question_version_id for item in items], is_correct=True
        )
        .order_by()
        .values_list("version_id", "id")
    ):
        keys[version_id].add(choice_id)
    return scoring.score_attempt(
        [
            scoring.ItemResponse(
                topic=item.topic.name,
                kind=item.question_version.question.kind,
                correct_choice_ids=frozenset(keys[item.question_version_id]),
                selected_choice_ids=frozenset(item.selected_choice_ids),
                status=item.status,
            )
            for item in items
        ],
        pass_mark=attempt.pass_mark_percent,
    )


def attempt_score_store(attempt: Attempt, result: scoring.AttemptScore) -> None:
    attempt.score_correct = result.correct
    attempt.score_total = result.total
    attempt.score_percent = result.percent
    attempt.passed = result.passed
    attempt.topic_scores = [
        {
            "topic": topic.topic,
            "correct": topic.correct,
            "total": topic.total,
            "score_percent": str(topic.percent),
        }
        for topic in result.topics
    ]
    attempt.save(
        update_fields=["score_correct", "score_total", "score_percent", "passed", "topic_scores"]
    )


ATTEMPT_PASSED_TASK = "exams.services.attempts.attempt_passed_send"


def attempt_passed_send(attempt_id: int) -> None:
    """Announce a passed attempt (receivers are idempotent: it may run twice)."""
    attempt = Attempt.objects.select_related("exam", "person").get(pk=attempt_id)
    attempt_passed.send(sender=Attempt, attempt=attempt)


def _finalise(*, attempt_id: int, status: str, finished_at: datetime) -> tuple[Attempt, bool]:
    """Finish and score the attempt if it is still open; (attempt, whether this call did it)."""
    with transaction.atomic():
        claimed = Attempt.objects.filter(pk=attempt_id, status=AttemptStatus.IN_PROGRESS).update(
            status=status, submitted_at=finished_at
        )
        attempt = Attempt.objects.select_related("exam").get(pk=attempt_id)
        if claimed:
            attempt_score_store(attempt, attempt_score_compute(attempt))
            if attempt.passed:
                # Recorded with the score (lms.outbox): a process that dies
                # after the commit cannot lose the credential it leads to.
                outbox_enqueue(ATTEMPT_PASSED_TASK, attempt_id)
    return attempt, bool(claimed)


@transaction.atomic
def attempt_submit(*, person: User, attempt_id: int, now: datetime | None = None) -> Attempt:
    """Submit once; every later call returns the same stored result."""
    now = now or timezone.now()
    attempt = selectors.attempt_get_for_person(person=person, attempt_id=attempt_id)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return attempt
    attempt = break_end_if_over(attempt=attempt, now=now)
    if attempt.on_break:
        raise AttemptPaused(attempt.break_ends_at)
    if _is_overdue(attempt, now):
        status, finished_at = AttemptStatus.EXPIRED, attempt.deadline
    else:
        status, finished_at = AttemptStatus.SUBMITTED, min(now, attempt.deadline)
    attempt, _ = _finalise(attempt_id=attempt.pk, status=status, finished_at=finished_at)
    return attempt


def attempt_finalise_if_overdue(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Lazy finalisation on access: returns the (possibly just finalised) attempt.

    No transaction (and no query) unless the attempt is overdue or its break's
    time is up (the break is ended first): reads stay cheap.
    """
    now = now or timezone.now()
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return attempt
    attempt = break_end_if_over(attempt=attempt, now=now)
    if attempt.status != AttemptStatus.IN_PROGRESS or not _is_overdue(attempt, now):
        return attempt
    attempt, _ = _finalise(
        attempt_id=attempt.pk, status=AttemptStatus.EXPIRED, finished_at=attempt.deadline
    )
    return attempt


def attempt_finalise_overdue(
    *, now: datetime | None = None, person: User | None = None, exam: Exam | None = None
) -> int:
    """Finalise every open attempt past deadline + grace; returns how many this call did.

    A running break stops the clock: such an attempt is left alone until the
    break's time is up, then the break is ended (the deadline moves by its
    length) before the attempt is judged."""
    now = now or timezone.now()
    candidates = Attempt.objects.filter(
        status=AttemptStatus.IN_PROGRESS, deadline__lt=now
    ).select_related("exam")
    if person is not None:
        candidates = candidates.filter(person=person)
    if exam is not None:
        candidates = candidates.filter(exam=exam)
    done = 0
    for attempt in candidates:
        attempt = break_end_if_over(attempt=attempt, now=now)
        if attempt.status != AttemptStatus.IN_PROGRESS or not _is_overdue(attempt, now):
            continue
        _, claimed = _finalise(
            attempt_id=attempt.pk, status=AttemptStatus.EXPIRED, finished_at=attempt.deadline
        )
        done += claimed
    return done
