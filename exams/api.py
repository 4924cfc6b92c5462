"""Exams JSON API (a ninja Router mounted by cms.api at /api/v1/).

Public contract (clients depend on it: keep paths and fields):

- GET  /exams                              published exams with the caller's next attempt time
                                           and `accommodation` (extra time, rest breaks, or
                                           null), paginated (lms.pagination; the exam id is
                                           the cursor)
- GET  /exams/{slug}                       one of them, the same shape
- POST /exams/{slug}/attempts              201 new attempt, 200 the one in progress;
                                           409 `retake_too_soon` (+ `available_at`),
                                           `attempts_exhausted`, `already_certified`
- GET  /attempts/{id}                      the same shape, plus `result` once scored; with
                                           the accommodation applied at the start
                                           (`extra_time_percent`, `breaks_allowed`,
                                           `breaks_taken`, `break_minutes`) and the running
                                           break (`on_break`, `break_ends_at`)
- PUT  /attempts/{id}/items/{item_id}      `{"choice_ids": [...], "flagged": bool}` (either
                                           may be left out); 409 `attempt_closed` (with
                                           `closed_because`: `submitted` | `deadline`),
                                           409 `attempt_paused` (with `break_ends_at`)
                                           during a rest break, 422 `invalid_choice`
- POST /attempts/{id}/submit               `{status, score_percent, passed, topics}`;
                                           a second call answers the same body; 409
                                           `attempt_paused` during a rest break (so do saves)
- POST /attempts/{id}/break                `{"minutes": n}` optional (default: the longest
                                           granted) -> the attempt, `on_break` true, `items`
                                           hidden until it ends; 409 `no_breaks_left`,
                                           `break_in_progress`, `break_too_long`,
                                           `attempt_closed`
- POST /attempts/{id}/resume               ends the break now (the deadline moves later by
                                           its length) -> the attempt; without a break, the
                                           attempt as it is

- GET  /exams/{slug}/item-analysis         instructors and staff (403 otherwise): per question
                                           difficulty, discrimination, options chosen, flags;
                                           attempts, mean, sd, KR-20
- GET  /question-banks/{slug}/export?format=gift|csv|moodlexml   instructors and staff; a
                                           file download, 422 `invalid_format`
- POST /question-banks/{slug}/import       instructors and staff; multipart `file`, `format`
                                           (gift, csv, moodlexml), optional `topic` (for
                                           questions before any category) → 200 `{imported,
                                           unchanged, topics}`, or 422 `import_invalid` with
                                           `errors: [{line, message}]` and nothing imported;
                                           413 `import_too_large`, 415, 422 `invalid_import_file`
                                           (not UTF-8, binary)

- GET  /staff/attempts/{id}/replay         programme staff (403 `permission_denied` otherwise):
                                           the attempt's draw replayed from its seed and the
                                           inputs recorded at its start, compared with the
                                           stored form: `verdict`, `differences`, a row per
                                           position (stored and replayed); 404
                                           `attempt_not_found`

Nobody but programme staff (the replay) sees another person's attempt (404
`attempt_not_found`). No response carries which option is right or an
explanation before the attempt is scored, and not after either (certification
exam). An overdue attempt is finalised on access. Errors are lms.api's `{detail, code}`.
"""

from datetime import date, datetime

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictInt, model_validator

from lms import permissions
from lms.api_auth import BearerTokenAuth, CsrfSessionAuth
from lms.errors import DomainError
from lms.pagination import PageParams, list_page, page_of

from . import selectors, services
from .models import MAX_CHOICES

MAX_ID = 2**63 - 1  # beyond this the database's integer column overflows
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"

router = Router(tags=["exams"])


class ErrorOut(Schema):
    detail: str
    code: str


class LearnerAccommodationOut(Schema):
    extra_time_percent: int
    time_limit_minutes: int
    minutes_with_extra_time: float
    breaks: int
    break_minutes: int
    ends_on: date
    summary: str


class ExamOut(Schema):
    id: int
    slug: str
    title: str
    question_count: int
    time_limit_minutes: int
    pass_mark_percent: float
    next_attempt_available_at: datetime | None
    can_start: bool
    reason: str
    # Why a start would be refused now: retake_too_soon, attempts_exhausted,
    # already_certified, renewal_not_open (a renewal exam, for holders inside
    # their renewal window only); None when can_start.
    code: str | None
    in_progress_attempt_id: int | None
    accommodation: LearnerAccommodationOut | None


class ChoiceOut(Schema):
    id: int
    text: str


class ItemOut(Schema):
    id: int
    position: int
    prompt: str
    kind: str
    choices: list[ChoiceOut]
    selected_choice_ids: list[int]
    flagged: bool


class TopicScoreOut(Schema):
    topic: str
    score_percent: float
    correct: int
    total: int


class ResultOut(Schema):
    status: str
    score_percent: float
    passed: bool
    correct: int
    total: int
    pass_mark_percent: float
    topics: list[TopicScoreOut]


class AttemptOut(Schema):
    id: int
    exam: str
    exam_title: str
    status: str
    started_at: datetime
    deadline: datetime
    submitted_at: datetime | None
    server_time: datetime
    extra_time_percent: int
    breaks_allowed: int
    breaks_taken: int
    break_minutes: int
    on_break: bool
    break_ends_at: datetime | None
    items: list[ItemOut] = Field(description="Empty during a rest break.")
    result: ResultOut | None


class BreakIn(Schema):
    model_config = ConfigDict(extra="forbid")

    minutes: StrictInt | None = Field(None, ge=1, le=24 * 60)


class ItemSaveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    choice_ids: list[StrictInt] | None = Field(None, max_length=MAX_CHOICES)
    flagged: StrictBool | None = None

    @model_validator(mode="after")
    def _something_to_save(self):
        if self.choice_ids is None and self.flagged is None:
            raise ValueError("send choice_ids, flagged or both")
        return self


class ItemSavedOut(Schema):
    id: int
    selected_choice_ids: list[int]
    flagged: bool
    answered_at: datetime | None


Slug = Path(..., min_length=1, max_length=80, pattern=SLUG_PATTERN)
AttemptId = Path(..., ge=1, le=MAX_ID)
ItemId = Path(..., ge=1, le=MAX_ID)


def _attempt_payload(attempt) -> dict:
    return {
        "id": attempt.pk,
        "exam": attempt.exam.slug,
        "exam_title": attempt.exam.title,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "submitted_at": attempt.submitted_at,
        "server_time": timezone.now(),
        "extra_time_percent": attempt.extra_time_percent,
        "breaks_allowed": attempt.breaks_allowed,
        "breaks_taken": attempt.breaks_taken,
        "break_minutes": attempt.break_minutes,
        "on_break": attempt.on_break,
        "break_ends_at": attempt.break_ends_at,
        # The questions stay hidden while the clock stands still.
        "items": [] if attempt.on_break else selectors.attempt_form_for(attempt=attempt),
        "result": selectors.attempt_result_for(attempt),
    }


def _card_payload(card: selectors.ExamCard) -> dict:
    grant = card.accommodation
    return {
        "id": card.exam.pk,
        "slug": card.slug,
        "title": card.title,
        "question_count": card.question_count,
        "time_limit_minutes": card.exam.time_limit_minutes,
        "pass_mark_percent": card.exam.pass_mark_percent,
        "next_attempt_available_at": card.next_attempt_available_at,
        "can_start": card.can_start,
        "reason": card.reason,
        "code": card.code,
        "in_progress_attempt_id": card.in_progress_attempt_id,
        "accommodation": None
        if grant is None
        else {
            "extra_time_percent": grant.extra_time_percent,
            "time_limit_minutes": grant.time_limit_minutes,
            "minutes_with_extra_time": float(grant.minutes_with_extra_time),
            "breaks": grant.breaks,
            "break_minutes": grant.break_minutes,
            "ends_on": grant.ends_on,
            "summary": grant.summary,
        },
    }


@router.get(
    "/exams",
    response={200: page_of(ExamOut), 400: ErrorOut},
    summary="Published exams and your next attempt",
)
def exam_list(request, page: Query[PageParams]):
    """By title, paginated (the exam's `id` is the cursor)."""
    cards, has_more = selectors.exam_page_for_learner(
        person=request.auth, now=timezone.now(), page=page
    )
    return list_page([_card_payload(card) for card in cards], has_more)


@router.get(
    "/exams/{slug}",
    response={200: ExamOut, 404: ErrorOut},
    summary="One published exam: your next attempt and your accommodation",
)
def exam_detail(request, slug: str = Slug):
    card = selectors.exam_card_for_learner(person=request.auth, slug=slug, now=timezone.now())
    return _card_payload(card)


@router.post(
    "/exams/{slug}/attempts",
    response={200: AttemptOut, 201: AttemptOut, 404: ErrorOut, 409: ErrorOut},
    summary="Start an attempt (or get the one in progress)",
)
def attempt_start(request, slug: str = Slug):
    exam = selectors.exam_get_published(slug=slug)
    attempt, created = services.attempt_start(person=request.auth, exam=exam)
    return Status(201 if created else 200, _attempt_payload(attempt))


@router.get(
    "/attempts/{attempt_id}",
    response={200: AttemptOut, 404: ErrorOut},
    summary="One of your attempts (with its result once scored)",
)
def attempt_get(request, attempt_id: int = AttemptId):
    attempt = selectors.attempt_get_for_person(person=request.auth, attempt_id=attempt_id)
    attempt = services.attempt_finalise_if_overdue(attempt=attempt)
    return _attempt_payload(attempt)


@router.put(
    "/attempts/{attempt_id}/items/{item_id}",
    response={200: ItemSavedOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Save your answer and/or flag for one question",
)
def attempt_item_save(
    request, payload: ItemSaveIn, attempt_id: int = AttemptId, item_id: int = ItemId
):
    item = services.attempt_item_save(
        person=request.auth,
        attempt_id=attempt_id,
        item_id=item_id,
        choice_ids=payload.choice_ids,
        flagged=payload.flagged,
    )
    return {
        "id": item.pk,
        "selected_choice_ids": item.selected_choice_ids,
        "flagged": item.flagged,
        "answered_at": item.answered_at,
    }


@router.post(
    "/attempts/{attempt_id}/break",
    response={200: AttemptOut, 404: ErrorOut, 409: ErrorOut},
    summary="Start a rest break (the clock stands still until you resume)",
)
def attempt_break_start(request, payload: BreakIn | None = None, attempt_id: int = AttemptId):
    attempt = services.attempt_break_start(
        person=request.auth,
        attempt_id=attempt_id,
        minutes=payload.minutes if payload is not None else None,
    )
    return _attempt_payload(attempt)


@router.post(
    "/attempts/{attempt_id}/resume",
    response={200: AttemptOut, 404: ErrorOut},
    summary="End your rest break now",
)
def attempt_break_end(request, attempt_id: int = AttemptId):
    attempt = services.attempt_break_end(person=request.auth, attempt_id=attempt_id)
    return _attempt_payload(attempt)


@router.post(
    "/attempts/{attempt_id}/submit",
    response={200: ResultOut, 404: ErrorOut, 409: ErrorOut},
    summary="Submit the attempt (idempotent: a second call returns the same result)",
)
def attempt_submit(request, attempt_id: int = AttemptId):
    attempt = services.attempt_submit(person=request.auth, attempt_id=attempt_id)
    return selectors.attempt_result_for(attempt)


# --- authoring (instructors and programme staff) ------------------------------------


class OptionStatOut(Schema):
    id: int
    text: str
    is_correct: bool
    count: int
    share: float | None


class QuestionStatOut(Schema):
    question_id: int
    version: int
    topic: str
    stem: str
    status: str
    attempts: int
    difficulty: float | None
    discrimination: float | None
    blank: int | None
    flags: list[str]
    options: list[OptionStatOut]


class ItemAnalysisOut(Schema):
    exam: str
    attempts: int
    mean: float | None
    sd_population: float | None
    sd_sample: float | None
    kr20: float | None
    questions: list[QuestionStatOut]


@router.get(
    "/exams/{slug}/item-analysis",
    response={200: ItemAnalysisOut, 403: ErrorOut, 404: ErrorOut},
    summary="Item analysis of an exam (instructors and staff)",
)
def exam_item_analysis(request, slug: str = Slug):
    services.check_exam_author(request.auth)
    report = selectors.exam_item_analysis(exam=selectors.exam_get_any(slug=slug))
    s = report.statistics
    return {
        "exam": report.exam.slug,
        "attempts": s.attempts,
        "mean": s.mean,
        "sd_population": s.sd_population,
        "sd_sample": s.sd_sample,
        "kr20": s.kr20,
        "questions": [
            {
                "question_id": row.question.question_id,
                "version": row.question.version,
                "topic": row.question.topic,
                "stem": row.question.stem,
                "status": row.question.status,
                "attempts": row.stats.attempts,
                "difficulty": row.stats.difficulty,
                "discrimination": row.stats.discrimination,
                "blank": row.stats.blank,
                "flags": [str(flag) for flag in row.stats.flags],
                "options": [
                    {
                        "id": choice.id,
                        "text": choice.text,
                        "is_correct": choice.is_correct,
                        "count": freq.count,
                        "share": freq.share,
                    }
                    for choice, freq in row.option_rows
                ],
            }
            for row in report.rows
        ],
    }


@router.get(
    "/question-banks/{slug}/export",
    response={200: None, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Export a question bank as GIFT, CSV or Moodle XML (instructors and staff)",
)
def bank_export(request, slug: str = Slug, format: str = "gift"):  # noqa: A002 - public name
    services.check_exam_author(request.auth)
    bank = selectors.bank_get(slug=slug)
    text, content_type, filename = selectors.bank_export(bank=bank, format=format)
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- question bank import ---------------------------------------------------------------

# Room for the multipart boundary, headers and the small fields around the file.
IMPORT_FORM_OVERHEAD = 16 * 1024


class ImportSizeGuard:
    """The import's first "auth" step: a body over the import limit is refused
    (413) before anything, the session's CSRF check included, parses it."""

    def __call__(self, request):
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > services.MAX_IMPORT_BYTES + IMPORT_FORM_OVERHEAD:
            raise services.ImportTooLarge(
                f"The file is larger than {services.MAX_IMPORT_BYTES // 1024} KiB; "
                "split the bank into smaller files."
            )


class ImportLineOut(Schema):
    line: int
    message: str


class ImportOut(Schema):
    imported: int = Field(description="Questions created or revised.")
    unchanged: int = Field(description="Questions already in the bank as they are in the file.")
    topics: list[str] = Field(description="Topics the import created.")


class ImportInvalidOut(Schema):
    detail: str
    code: str
    errors: list[ImportLineOut] = []


@router.post(
    "/question-banks/{slug}/import",
    auth=[ImportSizeGuard(), BearerTokenAuth(), CsrfSessionAuth()],
    response={
        200: ImportOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ImportInvalidOut,
    },
    summary="Import questions from GIFT, CSV or Moodle XML (instructors and staff)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "format": {"type": "string", "enum": list(services.IMPORT_FORMATS)},
                            "topic": {"type": "string", "maxLength": 200},
                        },
                    }
                }
            },
        }
    },
)
def bank_import(request, slug: str = Slug):
    """All or nothing: a file with any bad question imports nothing and lists every
    bad one by line."""
    services.check_exam_author(request.auth)
    if request.content_type != "multipart/form-data":
        raise DomainError(
            "Send the file as multipart/form-data.", code="unsupported_media_type", status=415
        )
    bank = selectors.bank_get(slug=slug)
    try:
        upload = request.FILES.get("file")
        fmt = request.POST.get("format", "gift")
        topic = request.POST.get("topic", "").strip()
    except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError) as error:
        raise DomainError("The multipart body could not be read.", code="bad_request") from error
    if fmt not in services.IMPORT_FORMATS:
        raise DomainError(
            f"The format must be one of {', '.join(services.IMPORT_FORMATS)}.",
            code="validation_error",
            status=422,
        )
    if len(topic) > 200:
        raise DomainError(
            "The topic is longer than 200 characters.", code="validation_error", status=422
        )
    text = services.import_text_from_upload(upload)
    report = services.bank_import_file(bank=bank, fmt=fmt, text=text, default_topic=topic)
    if not report.ok:
        return Status(
            422,
            {
                "detail": report.summary,
                "code": "import_invalid",
                "errors": [{"line": e.line, "message": e.message} for e in report.errors],
            },
        )
    return {
        "imported": report.created + report.revised,
        "unchanged": report.unchanged,
        "topics": list(report.topics_created),
    }


# --- programme staff: replaying an attempt's draw ------------------------------------


class ReplaySideOut(Schema):
    question_id: int
    version_id: int
    version_number: int | None
    choice_ids: list[int] = Field(description="The options' ids in the order shown.")
    option_numbers: list[int | None] = Field(
        description="The options' authored numbers (1 = first written) in the order shown."
    )


class ReplayRowOut(Schema):
    position: int
    question: str
    stored: ReplaySideOut | None
    replayed: ReplaySideOut | None
    same: bool


class ReplayDifferenceOut(Schema):
    kind: str = Field(description="missing, extra, version, position or option_order")
    question_id: int
    stored_position: int | None
    replayed_position: int | None
    text: str


class ReplayOut(Schema):
    attempt_id: int
    exam: str
    person_id: int
    started_at: datetime
    seed: int
    replayable: bool
    reason: str
    verdict: str
    identical: bool
    inputs_recorded_at: datetime | None
    pool_size: int
    differences: list[ReplayDifferenceOut]
    rows: list[ReplayRowOut]


@router.get(
    "/staff/attempts/{attempt_id}/replay",
    response={200: ReplayOut, 403: ErrorOut, 404: ErrorOut},
    summary="Replay an attempt's draw and compare it with the stored form (programme staff)",
)
def attempt_replay(request, attempt_id: int = AttemptId):
    """Redraws the form from the seed and the inputs recorded at the attempt's start."""
    permissions.check_can(request.auth, "attempt.replay")
    replay = selectors.attempt_replay(attempt_id=attempt_id)
    attempt = replay.attempt
    return {
        "attempt_id": attempt.pk,
        "exam": attempt.exam.slug,
        "person_id": attempt.person_id,
        "started_at": attempt.started_at,
        "seed": attempt.seed,
        "replayable": replay.replayable,
        "reason": replay.reason,
        "verdict": replay.verdict,
        "identical": replay.identical,
        "inputs_recorded_at": replay.inputs_recorded_at,
        "pool_size": replay.pool_size,
        "differences": replay.differences,
        "rows": [
            {
                "position": row.position,
                "question": row.question,
                "stored": row.stored,
                "replayed": row.replayed,
                "same": row.same,
            }
            for row in replay.rows
        ],
    }
