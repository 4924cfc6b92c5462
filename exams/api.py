"""Exams JSON API (a ninja Router mounted by lms.api at /api/v1/).

Public contract (issue 4; keep paths and fields):

- GET  /exams                              published exams with the caller's next attempt time
- POST /exams/{slug}/attempts              201 new attempt, 200 the one in progress;
                                           409 `retake_too_soon` (+ `available_at`),
                                           `attempts_exhausted`, `already_certified`
- GET  /attempts/{id}                      the same shape, plus `result` once scored
- PUT  /attempts/{id}/items/{item_id}      `{"choice_ids": [...], "flagged": bool}` (either
                                           may be left out); 409 `attempt_closed` (with
                                           `closed_because`: `submitted` | `deadline`),
                                           422 `invalid_choice`
- POST /attempts/{id}/submit               `{status, score_percent, passed, topics}`;
                                           a second call answers the same body

Nobody sees another person's attempt (404 `attempt_not_found`). No response
carries which option is right or an explanation before the attempt is scored,
and not after either (certification exam). An overdue attempt is finalised on
access. Errors are lms.api's `{detail, code}`.
"""

from datetime import datetime

from django.utils import timezone
from ninja import Field, Path, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictInt, model_validator

from . import selectors, services
from .models import MAX_CHOICES

MAX_ID = 2**63 - 1  # beyond this the database's integer column overflows
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"

router = Router(tags=["exams"])


class ErrorOut(Schema):
    detail: str
    code: str


class ExamOut(Schema):
    slug: str
    title: str
    question_count: int
    time_limit_minutes: int
    pass_mark_percent: float
    next_attempt_available_at: datetime | None
    can_start: bool
    reason: str
    code: str | None
    in_progress_attempt_id: int | None


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
    items: list[ItemOut]
    result: ResultOut | None


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
        "items": selectors.attempt_form_for(attempt=attempt),
        "result": selectors.attempt_result_for(attempt),
    }


@router.get("/exams", response=list[ExamOut], summary="Published exams and your next attempt")
def exam_list(request):
    cards = selectors.exam_list_for_learner(person=request.auth, now=timezone.now())
    return [
        {
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
        }
        for card in cards
    ]


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
    "/attempts/{attempt_id}/submit",
    response={200: ResultOut, 404: ErrorOut},
    summary="Submit the attempt (idempotent: a second call returns the same result)",
)
def attempt_submit(request, attempt_id: int = AttemptId):
    attempt = services.attempt_submit(person=request.auth, attempt_id=attempt_id)
    return selectors.attempt_result_for(attempt)
