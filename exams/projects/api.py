"""Projects JSON API (a ninja Router mounted by cms.api at /api/v1/).

Public contract (clients depend on it: keep paths and fields):

- GET  /projects                          published briefs with their rubric and the
                                          caller's latest submission, paginated
                                          (lms.pagination; the project id is the cursor)
- POST /projects/{slug}/submissions       multipart: `files` (repeatable), `repository_url`,
                                          `notes` → 201 `{id, status}`; 413 `file_too_large`,
                                          415 `unsupported_file_type`, 422 `unsafe_archive`,
                                          `invalid_repository_url`, `empty_submission`,
                                          `too_many_files`, `notes_too_long`; 409
                                          `submission_open`, `already_passed`; 415
                                          `unsupported_media_type` for any other
                                          content type
- GET  /submissions/{id}                  status, files, and per-criterion feedback once
                                          decided (the learner, its graders, staff); while
                                          open, a grader sees only their own review (both
                                          first reviews once both are in; staff both when
                                          they disagree)
- GET  /review-queue                      instructors: open work, oldest first, paginated
- POST /submissions/{id}/claim            instructors: 200 `{id, status, claimed_until}`;
                                          409 `already_claimed`, `already_decided`,
                                          `own_submission`, `already_reviewed`
- POST /submissions/{id}/reviews          instructors: `{"scores": {criterion_id: level_id},
                                          "comment": "...", "criterion_comments": {...}}` →
                                          201 the outcome; optional `"round": 1|2|3` (409
                                          `wrong_round` when the work is at another one);
                                          409 `not_claimed`, `already_decided`,
                                          `already_reviewed`, `round_taken`; 403
                                          `third_grader_staff_only`; 422 `invalid_level`,
                                          `incomplete_scores`
- GET  /grader-agreement                  programme staff (403 `staff_only` otherwise): each
                                          grader's agreement with the other grader over their
                                          last GRADER_AGREEMENT_WINDOW double-graded submissions

Everyone else gets 404. Blind briefs never show graders the learner's name or
e-mail. lms.api's body guard skips multipart bodies, so the upload endpoint
refuses a Content-Length over the brief's limit (plus form overhead) or the
global cap before Django parses the body.
"""

from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict, StringConstraints

from lms.api_auth import BearerTokenAuth, CsrfSessionAuth
from lms.errors import DomainError
from lms.pagination import PageParams, list_page, page_of

from ..models import ProjectBrief, Submission
from . import selectors as project_selectors
from . import services as project_services
from . import uploads

MAX_ID = 2**63 - 1
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
# Room for the multipart boundaries, headers, notes and link around the files.
FORM_OVERHEAD_BYTES = 64 * 1024

router = Router(tags=["projects"])

Slug = Path(..., min_length=1, max_length=80, pattern=SLUG_PATTERN)
SubmissionId = Path(..., ge=1, le=MAX_ID)


class ErrorOut(Schema):
    detail: str
    code: str


class LevelOut(Schema):
    id: int
    title: str
    description: str
    points: int


class CriterionOut(Schema):
    id: int
    title: str
    description: str
    levels: list[LevelOut]


class SubmissionRefOut(Schema):
    id: int
    status: str


class ProjectOut(Schema):
    id: int
    slug: str
    title: str
    summary: str
    instructions: str
    pass_threshold: int
    max_points: int
    allowed_file_types: list[str]
    max_upload_bytes: int
    blind_grading: bool
    criteria: list[CriterionOut]
    latest_submission: SubmissionRefOut | None
    can_submit: bool


class FileOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    download_url: str


class CriterionFeedbackOut(Schema):
    criterion: str
    level: str
    level_description: str
    points: int
    max_points: int
    comment: str


class ReviewOut(Schema):
    round: int
    is_second: bool
    total: int
    outcome: str
    comment: str
    criteria: list[CriterionFeedbackOut]


class LearnerOut(Schema):
    id: int
    name: str
    email: str


class SubmissionOut(Schema):
    id: int
    project: str
    project_title: str
    status: str
    repository_url: str
    notes: str
    created_at: datetime
    decided_at: datetime | None
    score: float | None
    files: list[FileOut]
    reviews: list[ReviewOut]
    learner: LearnerOut | None


class QueueItemOut(Schema):
    id: int
    project: str
    project_title: str
    status: str
    created_at: datetime
    needs_second_review: bool
    needs_third_review: bool
    claimed_by_me: bool
    claimed_until: datetime | None
    learner: LearnerOut | None


class ClaimOut(Schema):
    id: int
    status: str
    claimed_until: datetime


# Keys are criterion ids (digits of a 64-bit id); comments fit Review.comment's limit.
CriterionKey = Annotated[str, StringConstraints(min_length=1, max_length=20)]
CriterionComment = Annotated[str, StringConstraints(max_length=project_services.COMMENT_MAX)]


class ReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")

    scores: dict[CriterionKey, int] = Field(..., max_length=200)
    comment: str = Field("", max_length=project_services.COMMENT_MAX)
    criterion_comments: dict[CriterionKey, CriterionComment] = Field(
        default_factory=dict, max_length=200
    )
    round: int | None = Field(None, ge=1, le=3)


class ReviewResultOut(Schema):
    submission_id: int
    review_id: int
    total: int
    outcome: str
    round: int
    is_second: bool
    status: str
    decided: bool
    score: float | None
    needs_second_review: bool
    needs_third_review: bool


class AgreementOut(Schema):
    submissions: int
    agreement_percent: float | None
    kappa: float | None


class CriterionAgreementOut(Schema):
    criterion_id: int
    criterion: str
    project: str
    submissions: int
    agreement_percent: float | None
    kappa: float | None


class GraderAgreementOut(Schema):
    grader_id: int
    grader: str
    outcomes: AgreementOut
    criteria: list[CriterionAgreementOut]


class GraderAgreementReportOut(Schema):
    window: int
    graders: list[GraderAgreementOut]


def _brief_payload(card: project_selectors.BriefCard) -> dict:
    brief = card.brief
    return {
        "id": brief.pk,
        "slug": brief.slug,
        "title": brief.title,
        "summary": brief.summary,
        "instructions": brief.instructions,
        "pass_threshold": brief.pass_threshold,
        "max_points": card.max_points,
        "allowed_file_types": list(brief.allowed_file_types),
        "max_upload_bytes": brief.max_upload_bytes,
        "blind_grading": brief.blind_grading,
        "criteria": [
            {
                "id": c.pk,
                "title": c.title,
                "description": c.description,
                "levels": [
                    {
                        "id": lv.pk,
                        "title": lv.title,
                        "description": lv.description,
                        "points": lv.points,
                    }
                    for lv in c.levels.all()
                ],
            }
            for c in brief.criteria.all()
        ],
        "latest_submission": (
            {"id": card.latest.pk, "status": card.latest.status} if card.latest else None
        ),
        "can_submit": card.can_submit,
    }


def learner_for(viewer, submission: Submission) -> dict | None:
    """The learner as graders may see them: nothing on blind briefs, nothing for oneself."""
    if submission.person_id == viewer.pk or submission.brief.blind_grading:
        return None
    person = submission.person
    return {"id": person.pk, "name": person.legal_name or person.email, "email": person.email}


def _submission_payload(viewer, submission: Submission) -> dict:
    return {
        "id": submission.pk,
        "project": submission.brief.slug,
        "project_title": submission.brief.title,
        "status": submission.status,
        "repository_url": submission.repository_url,
        "notes": submission.notes,
        "created_at": submission.created_at,
        "decided_at": submission.decided_at,
        "score": float(submission.score) if submission.score is not None else None,
        "files": [
            {
                "id": f.pk,
                "name": f.original_name,
                "size": f.size,
                "content_type": f.content_type,
                "download_url": reverse("exams:project_file", args=[f.pk]),
            }
            for f in submission.files.all()
        ],
        "reviews": [
            {
                "round": fb.round,
                "is_second": fb.is_second,
                "total": fb.total,
                "outcome": fb.outcome,
                "comment": fb.comment,
                "criteria": [vars(row) for row in fb.criteria],
            }
            for fb in project_selectors.feedback_visible_to(viewer, submission)
        ],
        "learner": learner_for(viewer, submission),
    }


@router.get(
    "/projects",
    response={200: page_of(ProjectOut), 400: ErrorOut},
    summary="Published projects and your status",
)
def project_list(request, page: Query[PageParams]):
    """By title, paginated (the project's `id` is the cursor)."""
    cards, has_more = project_selectors.brief_page_for(person=request.auth, page=page)
    return list_page([_brief_payload(card) for card in cards], has_more)


def _check_declared_length(request, limit: int) -> None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    try:
        declared = int(raw)
    except ValueError:
        raise DomainError("Send a Content-Length header.", code="bad_request") from None
    if declared > min(limit + FORM_OVERHEAD_BYTES, uploads.GLOBAL_MAX_UPLOAD_BYTES):
        raise uploads.FileTooLarge(
            f"The upload is larger than this project accepts ({limit} bytes).", limit=limit
        )


def _reading_form(read):
    """Run `read` (which parses the multipart body); parser refusals become 4xx, not 500."""
    try:
        return read()
    except RequestDataTooBig as error:
        raise DomainError(
            "The form fields are too large.", code="payload_too_large", status=413
        ) from error
    except TooManyFilesSent as error:
        raise project_services.SubmissionRefused(
            f"Upload at most {project_services.MAX_FILES} files.", code="too_many_files"
        ) from error
    except (TooManyFieldsSent, MultiPartParserError) as error:
        raise DomainError("The multipart body could not be read.", code="bad_request") from error


class UploadSizeGuard:
    """First "auth" step of the upload endpoint: refuse an oversized body before anything
    (the session auth's CSRF check included) parses and spools it. Never authenticates."""

    def __call__(self, request):
        match = getattr(request, "resolver_match", None)
        slug = match.kwargs.get("slug") if match else None
        limit = (
            ProjectBrief.objects.filter(slug=slug, is_published=True)
            .values_list("max_upload_bytes", flat=True)
            .first()
        )
        _check_declared_length(request, limit or uploads.GLOBAL_MAX_UPLOAD_BYTES)
        return None


class ParsingSafeAuth:
    """An auth whose form parsing (CSRF reads request.POST) answers 4xx on bad bodies."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, request):
        return _reading_form(lambda: self.inner(request))


@router.post(
    "/projects/{slug}/submissions",
    auth=[UploadSizeGuard(), BearerTokenAuth(), ParsingSafeAuth(CsrfSessionAuth())],
    response={
        201: SubmissionRefOut,
        400: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        422: ErrorOut,
    },
    summary="Submit your project (multipart: files, repository_url, notes)",
    # The view reads the form itself (after the size guard), so ninja cannot
    # describe the body; this does, for the docs and for API fuzzers.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                                "maxItems": project_services.MAX_FILES,
                            },
                            "repository_url": {"type": "string", "maxLength": 500},
                            "notes": {"type": "string", "maxLength": project_services.NOTES_MAX},
                        },
                    }
                }
            },
        }
    },
)
def submission_create(request, slug: str = Slug):
    brief = project_selectors.brief_get_published(slug=slug)
    if request.content_type != "multipart/form-data":
        raise DomainError(
            "Send the submission as multipart/form-data.",
            code="unsupported_media_type",
            status=415,
        )
    _check_declared_length(request, brief.max_upload_bytes)
    files = _reading_form(lambda: request.FILES.getlist("files"))
    repository_url = request.POST.get("repository_url", "")
    notes = request.POST.get("notes", "")
    submission = project_services.submission_create(
        person=request.auth,
        brief=brief,
        files=files,
        repository_url=repository_url,
        notes=notes,
    )
    return Status(201, {"id": submission.pk, "status": submission.status})


@router.get(
    "/submissions/{submission_id}",
    response={200: SubmissionOut, 404: ErrorOut},
    summary="A submission: status, files and feedback",
)
def submission_get(request, submission_id: int = SubmissionId):
    submission = project_selectors.submission_get_for_viewer(
        user=request.auth, submission_id=submission_id
    )
    return _submission_payload(request.auth, submission)


@router.get(
    "/review-queue",
    response={200: page_of(QueueItemOut), 400: ErrorOut, 404: ErrorOut},
    summary="Open submissions to grade, oldest first (instructors)",
)
def review_queue(request, page: Query[PageParams]):
    """Paginated (the submission `id` is the cursor)."""
    project_services.check_grader(request.auth)
    now = timezone.now()
    submissions, has_more = project_selectors.review_queue_page_for(
        grader=request.auth, now=now, page=page
    )
    return list_page(
        [
            {
                "id": s.pk,
                "project": s.brief.slug,
                "project_title": s.brief.title,
                "status": s.status,
                "created_at": s.created_at,
                "needs_second_review": s.needs_second_review,
                "needs_third_review": s.needs_third_review,
                "claimed_by_me": s.claimed_by_id == request.auth.pk
                and project_selectors.claim_is_live(s, now),
                "claimed_until": s.claim_expires_at if s.claimed_by_id == request.auth.pk else None,
                "learner": learner_for(request.auth, s),
            }
            for s in submissions
        ],
        has_more,
    )


@router.post(
    "/submissions/{submission_id}/claim",
    response={200: ClaimOut, 404: ErrorOut, 409: ErrorOut},
    summary="Claim a submission for grading (8-hour lock)",
)
def submission_claim(request, submission_id: int = SubmissionId):
    submission = project_services.submission_claim(grader=request.auth, submission_id=submission_id)
    return {
        "id": submission.pk,
        "status": submission.status,
        "claimed_until": submission.claim_expires_at,
    }


@router.post(
    "/submissions/{submission_id}/reviews",
    response={201: ReviewResultOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Grade a claimed submission against the rubric",
)
def submission_review(request, payload: ReviewIn, submission_id: int = SubmissionId):
    review = project_services.submission_review(
        grader=request.auth,
        submission_id=submission_id,
        scores=payload.scores,
        comment=payload.comment,
        criterion_comments=payload.criterion_comments,
        expected_round=payload.round,
    )
    submission = review.submission
    return Status(
        201,
        {
            "submission_id": submission.pk,
            "review_id": review.pk,
            "total": review.total,
            "outcome": review.outcome,
            "round": review.round,
            "is_second": review.is_second,
            "status": submission.status,
            "decided": not submission.is_open,
            "score": float(submission.score) if submission.score is not None else None,
            "needs_second_review": submission.needs_second_review,
            "needs_third_review": submission.needs_third_review,
        },
    )


def _figures(summary) -> dict:
    return {
        "submissions": summary.n,
        "agreement_percent": summary.percent,
        "kappa": summary.kappa,
    }


@router.get(
    "/grader-agreement",
    response={200: GraderAgreementReportOut, 403: ErrorOut},
    summary="Each grader's agreement with the other grader (programme staff)",
)
def grader_agreement(request):
    """Outcomes: exact agreement in percent (and kappa); criteria: Cohen's kappa of the
    levels chosen. `kappa` is null where it is undefined (one category only)."""
    project_services.check_programme_staff(request.auth)
    window = settings.GRADER_AGREEMENT_WINDOW
    report = project_selectors.grader_agreement_report(window=window)
    return {
        "window": window,
        "graders": [
            {
                "grader_id": row.grader_id,
                "grader": row.grader,
                "outcomes": _figures(row.outcomes),
                "criteria": [
                    {
                        "criterion_id": c.criterion_id,
                        "criterion": c.criterion,
                        "project": c.project,
                        **_figures(c.figures),
                    }
                    for c in row.criteria
                ],
            }
            for row in report
        ],
    }
