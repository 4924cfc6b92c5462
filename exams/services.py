"""Exam workflows: authoring questions, publishing exams, taking attempts.

Contract:
- Every function is keyword-only and atomic; `now` may be passed (tests,
  jobs) and defaults to the server clock. The client's clock plays no part.
- Questions: `question_create` / `question_revise` validate 2-8 options
  (single answer: exactly one right; multiple: at least one) and raise 422
  `invalid_question`. A revision of a version already given in an attempt
  makes a new version; attempts keep the version they were given.
- `exam_publish` refuses (409 `pool_too_small`, with `topics`) when a topic's
  pool has fewer active questions than the blueprint draws, or the blueprint
  is empty (409 `empty_blueprint`).
- `attempt_start` returns `(attempt, created)`. An open attempt is returned
  as is (created=False); otherwise the retake rule decides (409
  `retake_too_soon` with `available_at`, `attempts_exhausted`,
  `already_certified`). One in-progress attempt per person and exam is the
  database constraint `exams_attempt_one_in_progress`: a concurrent start
  that loses the race returns the winner's attempt.
- `attempt_item_save` (and `attempt_answer`, `attempt_flag`) stores one
  item's selection/flag; refused with 409 `attempt_closed` once the attempt
  is finished or `deadline + grace` has passed, 422 `invalid_choice` for
  options that are not the item's or several options on a single-answer item.
  The attempt row is locked (PostgreSQL) so a save and a submit never
  interleave: an answer is either scored or refused, never lost silently.
- `attempt_submit` is idempotent: a conditional UPDATE (`WHERE status =
  'in_progress'`) decides the one call that scores; the others return the
  stored result. After `deadline + grace` the submit finalises the attempt as
  expired with the answers saved by then. `attempt_passed` is sent on commit,
  once per passing attempt.
- `attempt_finalise_overdue` finalises (expired, scored) every attempt past
  `deadline + grace`; idempotent, safe to run from several workers at once.
- `bank_import_gift` / `bank_import_csv` return an `ImportReport`; a file with
  any bad line (format or question rules) imports nothing and the report
  lists every bad line with its number. `import_text_from_upload` refuses
  huge (413 `import_too_large`) and binary/non-UTF-8 files (422
  `invalid_import_file`) before parsing.
- `exam_question_regrade_preview` (dry run, writes nothing) and
  `exam_question_regrade` drop, credit or restore one question version for
  everyone who took an exam, rescore the finished attempts and keep the
  before/after of each on a `RegradeEvent`.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from lms.errors import Conflict, DomainError, NotFound, PermissionDenied
from lms.permissions import is_instructor

from . import attempt_forms, csv_io, gift, save_sql, scoring, selectors
from .models import (
    MAX_CHOICES,
    MIN_CHOICES,
    Attempt,
    AttemptItem,
    AttemptStatus,
    BlueprintRule,
    Choice,
    Difficulty,
    Exam,
    Question,
    QuestionKind,
    QuestionVersion,
    RegradeAction,
    RegradeEvent,
    Topic,
)
from .signals import attempt_passed


class InvalidQuestion(DomainError):
    status = 422
    code = "invalid_question"


class InvalidChoice(DomainError):
    status = 422
    code = "invalid_choice"


class AttemptClosed(Conflict):
    code = "attempt_closed"


class PublishRefused(Conflict):
    code = "pool_too_small"


# --- authoring ----------------------------------------------------------------


@dataclass(frozen=True)
class ChoiceSpec:
    text: str
    is_correct: bool = False


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
        Choice(version=version, text=spec.text.strip(), is_correct=spec.is_correct, position=i)
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
    """Change a question's wording/options: in place if never used, else as a new version."""
    kind = kind or question.kind
    check_stem(stem)
    check_choices(kind=kind, choices=choices)
    question = Question.objects.select_for_update().get(pk=question.pk)
    current = question.current_version
    if kind != question.kind:
        question.kind = kind
        question.save(update_fields=["kind"])
    if current is not None and not AttemptItem.objects.filter(question_version=current).exists():
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


# --- taking an exam -------------------------------------------------------------


def check_may_start(*, person, exam: Exam, now: datetime) -> None:
    decision = selectors.retake_decision_for(person=person, exam=exam, now=now)
    if decision.allowed:
        return
    extra = {}
    if decision.available_at is not None:
        extra["available_at"] = decision.available_at.isoformat()
    raise Conflict(decision.reason, code=decision.code, **extra)


def _draw_form(*, exam: Exam, person, seed: int) -> list[tuple[int, int, list[int]]]:
    """(topic id, version id, choice order) per item, from the blueprint and the seed.

    Unseen questions first (random among them), then seen ones if the pool
    runs short; question order and option order shuffled per the exam flags.
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    blueprint = list(exam.blueprint.order_by("position", "pk"))
    pool: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for question_id, topic_id, version_id in selectors.active_question_ids(
        topic_ids=[rule.topic_id for rule in blueprint]
    ):
        pool[topic_id].append((question_id, version_id))
    seen = set(
        AttemptItem.objects.filter(attempt__person=person).values_list(
            "question_version__question_id", flat=True
        )
    )
    picked: list[tuple[int, int]] = []
    for rule in blueprint:
        candidates = pool[rule.topic_id]
        if len(candidates) < rule.count:
            raise Conflict(
                "This exam cannot be taken right now: a topic has too few questions.",
                code="pool_too_small",
            )
        ranked = sorted(candidates, key=lambda qv: (qv[0] in seen, rng.random()))
        picked.extend((rule.topic_id, version_id) for _, version_id in ranked[: rule.count])
    if exam.shuffle_questions:
        rng.shuffle(picked)
    orders: dict[int, list[int]] = defaultdict(list)
    for version_id, choice_id in (
        Choice.objects.filter(version_id__in=[v for _, v in picked])
        .order_by("version_id", "position")
        .values_list("version_id", "id")
    ):
        orders[version_id].append(choice_id)
    form = []
    for topic_id, version_id in picked:
        order = orders[version_id]
        if exam.shuffle_choices:
            rng.shuffle(order)
        form.append((topic_id, version_id, order))
    return form


@transaction.atomic
def attempt_start(*, person, exam: Exam, now: datetime | None = None) -> tuple[Attempt, bool]:
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
    form = _draw_form(exam=exam, person=person, seed=seed)
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                person=person,
                exam=exam,
                seed=seed,
                started_at=now,
                deadline=now + timedelta(minutes=exam.time_limit_minutes),
                pass_mark_percent=exam.pass_mark_percent,
            )
            AttemptItem.objects.bulk_create(
                AttemptItem(
                    attempt=attempt,
                    topic_id=topic_id,
                    question_version_id=version_id,
                    position=position,
                    choice_order=order,
                )
                for position, (topic_id, version_id, order) in enumerate(form)
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
    return now > attempt.deadline + timedelta(seconds=attempt.exam.grace_seconds)


def _clean_choice_ids(choice_order: Sequence[int], kind: str, choice_ids: Sequence) -> list[int]:
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
    person,
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
    args = {"person": person, "attempt_id": attempt_id, "item_id": item_id, "now": now}
    try:
        return _item_save(**args, choice_ids=choice_ids, flagged=flagged)
    except _StaleForm:
        # The form this process held disagreed with the database (an
        # instructor changed the exam's grace period): read it again, once.
        attempt_forms.forget(attempt_id)
    try:
        return _item_save(**args, choice_ids=choice_ids, flagged=flagged)
    except _StaleForm:  # the database's deadline check, to the microsecond
        raise AttemptClosed(
            "The time for this attempt is over.", closed_because="deadline"
        ) from None


class _StaleForm(Exception):
    pass


def _item_save(*, person, attempt_id, item_id, choice_ids, flagged, now) -> AttemptItem:
    form = attempt_forms.form_for(attempt_id=attempt_id, person_id=person.pk)
    if form is None:
        selectors.attempt_get_for_person(person=person, attempt_id=attempt_id)  # NotFound
    item_form = form.items.get(item_id) if form is not None else None
    if item_form is None:
        raise NotFound("No such question in this attempt.", code="item_not_found")
    changes = {}
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
        _check_open(row, now)
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


def _check_open(row: save_sql.SaveRow, now: datetime) -> None:
    if row.attempt_status != AttemptStatus.IN_PROGRESS:
        raise AttemptClosed("This attempt has been submitted.", closed_because="submitted")
    if now > row.deadline + timedelta(seconds=row.grace_seconds):
        raise AttemptClosed("The time for this attempt is over.", closed_because="deadline")


def attempt_answer(
    *, person, attempt_id: int, item_id: int, choice_ids: Sequence[int], now=None
) -> AttemptItem:
    return attempt_item_save(
        person=person, attempt_id=attempt_id, item_id=item_id, choice_ids=choice_ids, now=now
    )


def attempt_flag(*, person, attempt_id: int, item_id: int, flagged: bool, now=None) -> AttemptItem:
    return attempt_item_save(
        person=person, attempt_id=attempt_id, item_id=item_id, flagged=flagged, now=now
    )


def _score(attempt: Attempt) -> scoring.AttemptScore:
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


def _store_score(attempt: Attempt, result: scoring.AttemptScore) -> None:
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


def _send_passed(attempt_id: int) -> None:
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
            _store_score(attempt, _score(attempt))
            if attempt.passed:
                transaction.on_commit(lambda: _send_passed(attempt_id))
    return attempt, bool(claimed)


@transaction.atomic
def attempt_submit(*, person, attempt_id: int, now: datetime | None = None) -> Attempt:
    """Submit once; every later call returns the same stored result."""
    now = now or timezone.now()
    attempt = selectors.attempt_get_for_person(person=person, attempt_id=attempt_id)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return attempt
    if _is_overdue(attempt, now):
        status, finished_at = AttemptStatus.EXPIRED, attempt.deadline
    else:
        status, finished_at = AttemptStatus.SUBMITTED, min(now, attempt.deadline)
    attempt, _ = _finalise(attempt_id=attempt.pk, status=status, finished_at=finished_at)
    return attempt


def attempt_finalise_if_overdue(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Lazy finalisation on access: returns the (possibly just finalised) attempt.

    No transaction (and no query) unless the attempt is overdue: reads stay cheap.
    """
    now = now or timezone.now()
    if attempt.status != AttemptStatus.IN_PROGRESS or not _is_overdue(attempt, now):
        return attempt
    attempt, _ = _finalise(
        attempt_id=attempt.pk, status=AttemptStatus.EXPIRED, finished_at=attempt.deadline
    )
    return attempt


def attempt_finalise_overdue(
    *, now: datetime | None = None, person=None, exam: Exam | None = None
) -> int:
    """Finalise every open attempt past deadline + grace; returns how many this call did."""
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
        if not _is_overdue(attempt, now):
            continue
        _, claimed = _finalise(
            attempt_id=attempt.pk, status=AttemptStatus.EXPIRED, finished_at=attempt.deadline
        )
        done += claimed
    return done


# --- authoring guards -------------------------------------------------------------


def check_exam_author(user) -> None:
    """Instructors and programme staff author banks and exams and see item analysis."""
    if not is_instructor(user):
        raise PermissionDenied("Only instructors and programme staff can do this.")


# --- import ------------------------------------------------------------------------

MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_QUESTIONS = 5000


class ImportRefused(DomainError):
    status = 422
    code = "invalid_import_file"


class ImportTooLarge(DomainError):
    status = 413
    code = "import_too_large"


def import_text_from_bytes(data: bytes, *, max_bytes: int = MAX_IMPORT_BYTES) -> str:
    """The uploaded file as text, or a clear refusal (too large, binary, not UTF-8)."""
    if len(data) > max_bytes:
        raise ImportTooLarge(
            f"The file is larger than {max_bytes // 1024} KiB; split the bank into smaller files."
        )
    if not data.strip():
        raise ImportRefused("The file is empty.")
    if b"\x00" in data:
        raise ImportRefused("This is a binary file, not a GIFT or CSV text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportRefused(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read); "
            "save it as UTF-8 and try again."
        ) from None
    return text


def import_text_from_upload(upload, *, max_bytes: int = MAX_IMPORT_BYTES) -> str:
    """Read at most `max_bytes` + 1 bytes of an uploaded file (never the whole of a huge one)."""
    if upload is None:
        raise ImportRefused("Choose a file to import.")
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ImportTooLarge(
            f"The file is larger than {max_bytes // 1024} KiB; split the bank into smaller files."
        )
    return import_text_from_bytes(upload.read(max_bytes + 1), max_bytes=max_bytes)


@dataclass(frozen=True)
class ImportLineError:
    line: int
    message: str


@dataclass(frozen=True)
class ImportReport:
    format: str
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    topics_created: tuple[str, ...] = ()
    errors: tuple[ImportLineError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def summary(self) -> str:
        if self.errors:
            return f"Nothing was imported: {len(self.errors)} line(s) have errors."
        return (
            f"{self.created} question(s) created, {self.revised} revised, "
            f"{self.unchanged} unchanged; {len(self.topics_created)} new topic(s)."
        )


@dataclass(frozen=True)
class _Incoming:
    line: int
    topic: str
    kind: str
    stem: str
    choices: tuple[tuple[str, bool], ...]
    explanation: str
    title: str = ""
    question_id: int | None = None


def _validate_incoming(items: Sequence[_Incoming]) -> list[ImportLineError]:
    errors = []
    if len(items) > MAX_IMPORT_QUESTIONS:
        errors.append(
            ImportLineError(1, f"More than {MAX_IMPORT_QUESTIONS} questions in one file.")
        )
    for item in items:
        try:
            if len(item.topic) > 200:
                raise InvalidQuestion("The topic name is longer than 200 characters.")
            if len(item.title) > 200:
                raise InvalidQuestion("The title is longer than 200 characters.")
            check_stem(item.stem)
            check_choices(
                kind=item.kind, choices=[ChoiceSpec(text, right) for text, right in item.choices]
            )
        except InvalidQuestion as error:
            errors.append(ImportLineError(item.line, error.message))
    return errors


def _bank_import(*, bank, fmt: str, items: Sequence[_Incoming], errors: Sequence) -> ImportReport:
    """All or nothing: any error (format or rules) and nothing is written."""
    line_errors = [ImportLineError(e.line, e.message) for e in errors]
    line_errors += _validate_incoming(items)
    if line_errors:
        return ImportReport(format=fmt, errors=tuple(sorted(line_errors, key=lambda e: e.line)))
    existing = selectors.bank_questions_for_export(bank=bank)
    by_id = {q.question_id: q for q in existing}
    by_text = {(q.topic, q.stem): q for q in existing}
    topics = {topic.name: topic for topic in Topic.objects.filter(bank=bank)}
    next_position = max((t.position for t in topics.values()), default=-1) + 1
    created = revised = unchanged = 0
    new_topics = []
    for item in items:
        topic = topics.get(item.topic)
        if topic is None:
            topic = Topic.objects.create(bank=bank, name=item.topic, position=next_position)
            next_position += 1
            topics[item.topic] = topic
            new_topics.append(item.topic)
        known = by_id.get(item.question_id) if item.question_id else None
        if known is None:
            same_text = by_text.get((item.topic, item.stem))
            if same_text is not None and (
                same_text.kind,
                same_text.choices,
                same_text.explanation,
            ) == (item.kind, item.choices, item.explanation):
                unchanged += 1  # importing the same file twice does not duplicate it
                continue
            question_create(
                topic=topic,
                kind=item.kind,
                stem=item.stem,
                choices=[ChoiceSpec(text, right) for text, right in item.choices],
                explanation=item.explanation,
                title=item.title,
            )
            created += 1
            continue
        same = (known.topic, known.kind, known.stem, known.choices, known.explanation) == (
            item.topic,
            item.kind,
            item.stem,
            item.choices,
            item.explanation,
        )
        if same:
            unchanged += 1
            continue
        question = Question.objects.get(pk=known.question_id)
        if question.topic_id != topic.pk:
            question.topic = topic
            question.save(update_fields=["topic"])
        question_revise(
            question=question,
            stem=item.stem,
            choices=[ChoiceSpec(text, right) for text, right in item.choices],
            explanation=item.explanation,
            kind=item.kind,
        )
        revised += 1
    return ImportReport(
        format=fmt,
        created=created,
        revised=revised,
        unchanged=unchanged,
        topics_created=tuple(new_topics),
    )


@transaction.atomic
def bank_import_gift(*, bank, text: str) -> ImportReport:
    """Import GIFT text into `bank` (topics from `$CATEGORY`); nothing if any line is bad.

    GIFT carries no question ids: every question is new, except one identical
    (topic, text, options, explanation) to a question already in the bank.
    """
    parsed = gift.parse_gift(text)
    if not parsed.questions and not parsed.errors:
        return ImportReport(format="gift", errors=(ImportLineError(1, "No questions found."),))
    items = [
        _Incoming(
            line=q.line,
            topic=q.topic,
            kind=q.kind,
            stem=q.stem,
            choices=q.choices,
            explanation=q.explanation,
            title=q.title,
        )
        for q in parsed.questions
    ]
    return _bank_import(bank=bank, fmt="gift", items=items, errors=parsed.errors)


@transaction.atomic
def bank_import_csv(*, bank, text: str) -> ImportReport:
    """Import CSV rows into `bank`; nothing if any line is bad.

    A row whose `question_id` is a question of this bank revises it (a new
    version if it was used in an attempt; unchanged if the text and options are
    the same); other rows create questions.
    """
    parsed = csv_io.parse_csv(text, bank_slug=bank.slug)
    items = [
        _Incoming(
            line=q.line,
            topic=q.topic,
            kind=q.kind,
            stem=q.stem,
            choices=q.choices,
            explanation=q.explanation,
            question_id=q.question_id,
        )
        for q in parsed.questions
    ]
    return _bank_import(bank=bank, fmt="csv", items=items, errors=parsed.errors)


# --- drop / credit and regrade -----------------------------------------------------


class RegradeRefused(Conflict):
    code = "regrade_refused"


@dataclass(frozen=True)
class RegradeChange:
    attempt_id: int
    person_id: int
    person: str
    before_percent: Decimal
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
    actor=None,
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
        _store_score(attempt, _score(attempt))
        if attempt.passed and not change.before_passed:
            newly_passed.append(attempt.pk)
    for attempt_id in newly_passed:
        transaction.on_commit(lambda attempt_id=attempt_id: _send_passed(attempt_id))
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
