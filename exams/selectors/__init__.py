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
- Authoring reads (for instructors only; callers check the role):
  `bank_questions_for_export` / `bank_export` are 2 queries for any bank size,
  `exam_item_analysis` is 3 queries for any number of attempts and questions.
- The staff replay of an attempt's draw (`attempt_replay`, 4 queries for any
  size) is in `replay`, re-exported here.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, cast

from django.db.models import Count, Q, QuerySet, Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from lms.errors import DomainError, NotFound
from lms.models import User
from lms.pagination import PageParams, paginate
from lms.timezones import format_moment, zone_of

from .. import csv_io, gift, moodle_xml, rules
from .. import item_analysis as ia
from ..accommodations import selectors as accommodation_selectors
from ..accommodations.selectors import LearnerAccommodation
from ..models import (
    Attempt,
    AttemptItem,
    AttemptStatus,
    Choice,
    Exam,
    ItemStatus,
    Question,
    QuestionBank,
    QuestionVersion,
    RegradeEvent,
)

CertifiedCheck = Callable[..., bool]
_certified_check: CertifiedCheck | None = None


def register_certified_check(check: CertifiedCheck) -> CertifiedCheck:
    """Say how to tell that a person already holds what an exam leads to.

    Exams know nothing about certificates: the certificates app registers its
    `(person=, exam=) -> bool` in its `ready()`, so a current holder is not
    offered a retake (`already_certified`). The last registration wins.
    """
    global _certified_check
    _certified_check = check
    return check


StartRefusals = Callable[..., dict[int, DomainError]]
_start_refusals: list[StartRefusals] = []


def register_start_refusals(provider: StartRefusals) -> StartRefusals:
    """Let a higher app close exams to a person: `provider(person=, exams=, now=)`
    returns `{exam id: DomainError}` for those of `exams` the person may not
    start now (the certificates app: a renewal exam opens only inside the
    holder's renewal window). It is asked for a whole exam list at once, in a
    fixed number of queries, and for the one exam at start, so the list never
    offers a start that the start refuses. Apps register in their `ready()`."""
    if provider not in _start_refusals:
        _start_refusals.append(provider)
    return provider


def start_refusals(*, person: User, exams: list[Exam], now: datetime) -> dict[int, DomainError]:
    """Why each of `exams` may not be started by `person` now, from the
    registered providers (the first refusal per exam)."""
    refusals: dict[int, DomainError] = {}
    for provider in _start_refusals:
        for exam_id, error in provider(person=person, exams=exams, now=now).items():
            refusals.setdefault(exam_id, error)
    return refusals


def is_certified(*, person: User, exam: Exam) -> bool:
    """True when the registered check says `person` holds what `exam` leads to."""
    return _certified_check is not None and bool(_certified_check(person=person, exam=exam))


def _finished_times(*, person: User, exam: Exam) -> list[datetime]:
    # A finished attempt always has its submission time.
    return cast(
        "list[datetime]",
        list(
            Attempt.objects.filter(person=person, exam=exam)
            .exclude(status=AttemptStatus.IN_PROGRESS)
            .values_list("submitted_at", flat=True)
        ),
    )


def _decide(
    *,
    exam: Exam,
    finished: list[datetime],
    now: datetime,
    certified: bool,
    person: User | None = None,
) -> rules.RetakeDecision:
    """The retake rule for `exam`; the reason names moments in `person`'s time
    zone (the active zone without a person)."""
    zone = zone_of(person) if person is not None else None
    return rules.retake_available_at(
        stamp=partial(format_moment, zone=zone),
        finished_attempts=finished,
        now=now,
        certified=certified,
        first_wait=timedelta(hours=exam.retake_first_wait_hours),
        later_wait=timedelta(days=exam.retake_later_wait_days),
        max_attempts=exam.max_attempts_in_window,
        window=timedelta(days=exam.attempt_window_days),
    )


def retake_decision_from(
    *,
    exam: Exam,
    finished: list[datetime],
    now: datetime,
    certified: bool,
    person: User | None = None,
) -> rules.RetakeDecision:
    """The retake rule on finished attempts' times the caller has already read."""
    return _decide(exam=exam, finished=finished, now=now, certified=certified, person=person)


def retake_decision_for(*, person: User, exam: Exam, now: datetime) -> rules.RetakeDecision:
    """May `person` start a new attempt of `exam` at `now`? (ignores an open attempt)"""
    return _decide(
        exam=exam,
        finished=_finished_times(person=person, exam=exam),
        now=now,
        certified=is_certified(person=person, exam=exam),
        person=person,
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
    # Extra time and rest breaks a new attempt would get (None: none).
    accommodation: LearnerAccommodation | None = None

    @property
    def slug(self) -> str:
        return self.exam.slug

    @property
    def title(self) -> str:
        return self.exam.title


EXAM_ORDER = ("title", "id")


def _published_exams() -> QuerySet[Exam]:
    return Exam.objects.filter(is_published=True).annotate(question_count=Sum("blueprint__count"))


def exam_list_for_learner(*, person: User, now: datetime) -> list[ExamCard]:
    """Published exams with the learner's availability and accommodations
    (4 queries + certified checks)."""
    return _exam_cards(person, list(_published_exams().order_by(*EXAM_ORDER)), now)


def exam_page_for_learner(
    *, person: User, now: datetime, page: PageParams
) -> tuple[list[ExamCard], bool]:
    """One page of `exam_list_for_learner` (the exam id is the cursor), and whether more follow."""
    exams, has_more = paginate(_published_exams(), page, order=EXAM_ORDER)
    return _exam_cards(person, exams, now), has_more


def exam_card_for_learner(*, person: User, slug: str, now: datetime) -> ExamCard:
    """One published exam as `exam_list_for_learner` shows it (404 `exam_not_found`)."""
    exam = _published_exams().filter(slug=slug).first()
    if exam is None:
        raise NotFound("No published exam with this slug.", code="exam_not_found")
    return _exam_cards(person, [exam], now)[0]


def _exam_cards(person: User, exams: list[Exam], now: datetime) -> list[ExamCard]:
    finished: dict[int, list[datetime]] = defaultdict(list)
    open_attempts: dict[int, tuple[int, datetime]] = {}
    for exam_id, pk, status, submitted_at, deadline in Attempt.objects.filter(
        person=person, exam__in=exams
    ).values_list("exam_id", "pk", "status", "submitted_at", "deadline"):
        if status == AttemptStatus.IN_PROGRESS:
            open_attempts[exam_id] = (pk, deadline)
        else:
            finished[exam_id].append(cast(datetime, submitted_at))  # set once finished
    grants = accommodation_selectors.accommodations_in_force_by_exam(
        person=person, exams=exams, today=timezone.localdate(now)
    )
    refusals = start_refusals(person=person, exams=exams, now=now)
    cards = []
    for exam in exams:
        decision = _decide(
            exam=exam,
            finished=finished[exam.pk],
            now=now,
            certified=is_certified(person=person, exam=exam),
            person=person,
        )
        allowed, reason = decision.allowed, decision.reason
        code: str | None = decision.code
        refusal = refusals.get(exam.pk)
        if allowed and refusal is not None:
            allowed, code, reason = False, refusal.code, refusal.message
        open_attempt = open_attempts.get(exam.pk)
        cards.append(
            ExamCard(
                exam=exam,
                # annotated by _published_exams
                question_count=getattr(exam, "question_count", 0) or 0,
                can_start=allowed or open_attempt is not None,
                next_attempt_available_at=decision.available_at,
                code=code,
                reason=reason,
                in_progress_attempt_id=open_attempt[0] if open_attempt else None,
                in_progress_deadline=open_attempt[1] if open_attempt else None,
                attempts_taken=len(finished[exam.pk]),
                accommodation=accommodation_selectors.learner_view(grants.get(exam.pk), exam),
            )
        )
    return cards


def attempt_get_for_person(*, person: User, attempt_id: int) -> Attempt:
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


def attempt_result_for(attempt: Attempt) -> dict[str, Any] | None:
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


def attempt_history_for(*, person: User, exam: Exam | None = None) -> list[Attempt]:
    """The person's attempts, newest first, with their exam (1 query)."""
    attempts = Attempt.objects.filter(person=person).select_related("exam")
    if exam is not None:
        attempts = attempts.filter(exam=exam)
    return list(attempts.order_by("-started_at", "-pk"))


def topic_pool_shortfalls(*, exam: Exam) -> list[dict[str, Any]]:
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


def active_question_ids(*, topic_ids: Iterable[int]) -> list[tuple[int, int, int]]:
    """(question id, topic id, current version id) of every drawable question."""
    return list(
        Question.objects.filter(
            topic_id__in=topic_ids, is_active=True, current_version__isnull=False
        )
        .order_by("pk")
        .values_list("pk", "topic_id", "current_version_id")
    )


def choice_ids_of(version_ids: Iterable[int]) -> dict[int, list[int]]:
    """Each version's choice ids in authored order (1 query)."""
    orders: dict[int, list[int]] = defaultdict(list)
    for version_id, choice_id in (
        Choice.objects.filter(version_id__in=list(version_ids))
        .order_by("version_id", "position")
        .values_list("version_id", "id")
    ):
        orders[version_id].append(choice_id)
    return dict(orders)


# --- authoring reads: export, item analysis, regrade history -------------------


@dataclass(frozen=True)
class BankQuestion:
    """A question of a bank as exported: its current version's text and options."""

    question_id: int
    version: int
    topic: str
    title: str
    kind: str
    difficulty: str
    is_active: bool
    stem: str
    explanation: str
    choices: tuple[tuple[str, bool], ...]
    # Per-option feedback in the order of `choices`.
    feedback: tuple[str, ...] = ()

    def option_feedback(self) -> tuple[str, ...]:
        return self.feedback or ("",) * len(self.choices)


def bank_get(*, slug: str) -> QuestionBank:
    bank = QuestionBank.objects.filter(slug=slug).first()
    if bank is None:
        raise NotFound("No question bank with this slug.", code="bank_not_found")
    return bank


def bank_questions_for_export(*, bank: QuestionBank) -> list[BankQuestion]:
    """Every question of the bank (retired ones too) in topic order; 2 queries."""
    questions = list(
        Question.objects.filter(topic__bank=bank, current_version__isnull=False)
        .select_related("topic", "current_version")
        .order_by("topic__position", "topic__name", "pk")
    )
    options: dict[int, list[tuple[str, bool]]] = defaultdict(list)
    notes: dict[int, list[str]] = defaultdict(list)
    for version_id, text, is_correct, feedback in (
        Choice.objects.filter(version_id__in=[q.current_version_id for q in questions])
        .order_by("version_id", "position")
        .values_list("version_id", "text", "is_correct", "feedback")
    ):
        options[version_id].append((text, is_correct))
        notes[version_id].append(feedback)
    return [
        BankQuestion(
            question_id=q.pk,
            version=version.number,
            topic=q.topic.name,
            title=q.title,
            kind=q.kind,
            difficulty=q.difficulty,
            is_active=q.is_active,
            stem=version.stem,
            explanation=version.explanation,
            choices=tuple(options[version.pk]),
            feedback=tuple(notes[version.pk]) if any(notes[version.pk]) else (),
        )
        for q in questions
        if (version := q.current_version) is not None  # all: filtered above
    ]


EXPORT_FORMATS = {
    "gift": ("text/plain; charset=utf-8", "txt"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "moodlexml": ("application/xml; charset=utf-8", "xml"),
}


def bank_export(*, bank: QuestionBank, format: str) -> tuple[str, str, str]:  # noqa: A002
    """(text, content type, file name) of the bank as GIFT, CSV or Moodle XML; 2 queries."""
    if format not in EXPORT_FORMATS:
        raise DomainError(
            "The format must be gift, csv or moodlexml.", code="invalid_format", status=422
        )
    questions = bank_questions_for_export(bank=bank)
    if format in ("gift", "moodlexml"):
        records = [
            gift.GiftQuestion(
                topic=q.topic,
                title=q.title,
                kind=q.kind,
                stem=q.stem,
                choices=q.choices,
                explanation=q.explanation,
                feedback=q.feedback,
            )
            for q in questions
        ]
        header = f"Question bank {bank.title} ({bank.slug})"
        if format == "gift":
            text = gift.to_gift(records, header=header)
        else:
            text = moodle_xml.to_moodle_xml(records, comment=header)
    else:
        text = csv_io.to_csv(
            [
                csv_io.CsvQuestion(
                    topic=q.topic,
                    kind=q.kind,
                    stem=q.stem,
                    choices=q.choices,
                    explanation=q.explanation,
                    question_id=q.question_id,
                    version=q.version,
                    feedback=q.feedback,
                )
                for q in questions
            ],
            bank_slug=bank.slug,
        )
    content_type, extension = EXPORT_FORMATS[format]
    return text, content_type, f"{bank.slug}.{extension}"


@dataclass(frozen=True)
class AnalysedChoice:
    id: int
    text: str
    is_correct: bool


@dataclass(frozen=True)
class AnalysedQuestion:
    """One column of the analysis: a question version as given in the exam."""

    version_id: int
    question_id: int
    version: int
    topic: str
    stem: str
    kind: str
    status: str  # normal | dropped | credited | mixed
    choices: tuple[AnalysedChoice, ...]


@dataclass(frozen=True)
class ItemAnalysisRow:
    question: AnalysedQuestion
    stats: ia.ItemStatistics

    @property
    def option_rows(self) -> list[tuple[AnalysedChoice, ia.OptionFrequency]]:
        return [
            (choice, freq)
            for choice, freq in zip(self.question.choices, self.stats.options, strict=True)
        ]


@dataclass(frozen=True)
class ItemAnalysisReport:
    exam: Exam
    statistics: ia.ExamStatistics
    rows: tuple[ItemAnalysisRow, ...]


FINISHED = (AttemptStatus.SUBMITTED, AttemptStatus.EXPIRED)


def exam_item_analysis(*, exam: Exam) -> ItemAnalysisReport:
    """Item analysis of the exam's finished attempts from the stored items (3 queries).

    Columns are question versions (the options differ between versions). A
    dropped item is left out (not given, as scoring leaves it out); a credited
    one counts as correct, as `scoring.score_attempt` counts it.
    """
    # The selection comes as its JSON text: the same few selections repeat over
    # thousands of attempts, so each distinct (version, text) is decoded once
    # (decoding every row was ~70 % of the time at 10,000 x 60).
    items = list(
        AttemptItem.objects.filter(attempt__exam=exam, attempt__status__in=FINISHED)
        .annotate(selected_json=Cast("selected_choice_ids", TextField()))
        .order_by("attempt_id", "position")
        .values_list("attempt_id", "question_version_id", "status", "selected_json")
    )
    version_ids = sorted({version_id for _, version_id, _, _ in items})
    versions = {
        v.pk: v
        for v in QuestionVersion.objects.filter(pk__in=version_ids).select_related(
            "question__topic"
        )
    }
    choices: dict[int, list[AnalysedChoice]] = defaultdict(list)
    for version_id, choice_id, text, is_correct in (
        Choice.objects.filter(version_id__in=version_ids)
        .order_by("version_id", "position")
        .values_list("version_id", "id", "text", "is_correct")
    ):
        choices[version_id].append(AnalysedChoice(id=choice_id, text=text, is_correct=is_correct))

    statuses: dict[int, set[str]] = defaultdict(set)
    for _, version_id, status, _ in items:
        statuses[version_id].add(status)
    ordered = sorted(
        version_ids,
        key=lambda vid: (
            versions[vid].question.topic.position,
            versions[vid].question.topic.name,
            versions[vid].question_id,
            versions[vid].number,
        ),
    )
    column = {vid: j for j, vid in enumerate(ordered)}
    keys = {vid: frozenset(c.id for c in choices[vid] if c.is_correct) for vid in ordered}
    valid = {vid: frozenset(c.id for c in choices[vid]) for vid in ordered}

    responses: list[list[int | None]] = []
    selections: list[list[frozenset[int] | None]] = []
    last_attempt = None
    decoded: dict[tuple[int, str], tuple[int, frozenset[int]]] = {}
    dropped, credited, width = str(ItemStatus.DROPPED), str(ItemStatus.CREDITED), len(ordered)
    response_row: list[int | None] = []
    selection_row: list[frozenset[int] | None] = []
    for attempt_id, version_id, status, selected in items:
        if attempt_id != last_attempt:
            response_row = [None] * width
            selection_row = [None] * width
            responses.append(response_row)
            selections.append(selection_row)
            last_attempt = attempt_id
        if status == dropped:
            continue
        j = column[version_id]
        key = (version_id, selected)
        found = decoded.get(key)
        if found is None:
            chosen = frozenset(json.loads(selected)) & valid[version_id]
            found = decoded[key] = (int(chosen == keys[version_id]), chosen)
        response_row[j] = 1 if status == credited else found[0]
        selection_row[j] = found[1]

    statistics = ia.analyse_items(
        responses,
        options=[
            ia.ItemOptions(option_ids=tuple(c.id for c in choices[vid]), correct_ids=keys[vid])
            for vid in ordered
        ],
        selections=selections,
        item_count=len(ordered),
    )
    rows = []
    for vid, stats in zip(ordered, statistics.items, strict=True):
        version = versions[vid]
        status_set = statuses[vid]
        rows.append(
            ItemAnalysisRow(
                question=AnalysedQuestion(
                    version_id=vid,
                    question_id=version.question_id,
                    version=version.number,
                    topic=version.question.topic.name,
                    stem=version.stem,
                    kind=version.question.kind,
                    status=status_set.pop() if len(status_set) == 1 else "mixed",
                    choices=tuple(choices[vid]),
                ),
                stats=stats,
            )
        )
    return ItemAnalysisReport(exam=exam, statistics=statistics, rows=tuple(rows))


def item_analysis_csv(report: ItemAnalysisReport) -> str:
    """One row per option (and one per question for its own figures), for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    s = report.statistics
    writer.writerow(["exam", report.exam.slug, "attempts", s.attempts, "mean", s.mean])
    writer.writerow(["sd_population", s.sd_population, "sd_sample", s.sd_sample, "kr20", s.kr20])
    writer.writerow([])
    writer.writerow(
        [
            "question_id",
            "version",
            "topic",
            "stem",
            "status",
            "attempts",
            "difficulty",
            "discrimination",
            "flags",
            "option",
            "is_correct",
            "chosen",
            "share",
        ]
    )

    def safe(value: str) -> str:
        return "'" + value if value.startswith(("=", "+", "-", "@")) else value

    for row in report.rows:
        q, st = row.question, row.stats
        head = [
            q.question_id,
            q.version,
            safe(q.topic),
            safe(q.stem),
            q.status,
            st.attempts,
            st.difficulty,
            st.discrimination,
            " ".join(st.flags),
        ]
        writer.writerow([*head, "(blank)", "", st.blank, ""])
        for choice, freq in row.option_rows:
            writer.writerow([*head, safe(choice.text), choice.is_correct, freq.count, freq.share])
    return out.getvalue()


def exam_get_any(*, slug: str) -> Exam:
    """Any exam (published or not), for authors."""
    exam = Exam.objects.filter(slug=slug).first()
    if exam is None:
        raise NotFound("No exam with this slug.", code="exam_not_found")
    return exam


def regrade_events_for(*, exam: Exam) -> list[RegradeEvent]:
    return list(
        RegradeEvent.objects.filter(exam=exam)
        .select_related("actor", "question_version__question")
        .order_by("-created_at", "-pk")
    )


# The staff replay of an attempt's draw lives in its own module.
from .replay import (  # noqa: E402, F401
    Replay,
    ReplayDifference,
    ReplayRow,
    attempt_replay,
    exam_attempts,
)
