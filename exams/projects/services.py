"""Project workflows: submitting work, claiming it from the queue, grading it.

Contract:
- `submission_create(person=, brief=, files=, repository_url=, notes=)`
  checks everything before storing anything: files and/or a repository link
  (422 `empty_submission`), at most MAX_FILES files (422 `too_many_files`),
  total size within the brief's limit (413 `file_too_large`), each file's
  extension on the brief's allow-list and its content matching (415
  `unsupported_file_type`), zip archives safe (422 `unsafe_archive`), the
  link http(s) (422 `invalid_repository_url`), notes at most NOTES_MAX
  characters (422 `notes_too_long`). One open (submitted or in review)
  submission per person and brief: 409 `submission_open`, held by the
  constraint `exams_submission_one_open` under concurrency; after a pass
  409 `already_passed`. A submission after "revise" records the one it
  revises (`previous`). Files are written under random names in the private
  storage; if the database refuses the rows, the written files are removed.
- `submission_claim(grader=, submission_id=)`: instructors only (others 404).
  One conditional UPDATE takes a free claim (none, lapsed after
  CLAIM_DURATION = 8 hours, or the caller's own, which it renews), so of
  many graders claiming at once exactly one wins; the others get 409
  `already_claimed`. Decided work: 409 `already_decided`; own work: 409
  `own_submission`; work the caller already reviewed (the first two graders
  of a disagreement included): 409 `already_reviewed`; work waiting for a
  third review claimed by an instructor who is not programme staff: 403
  `third_grader_staff_only`.
- `submission_review(grader=, submission_id=, scores=, comment=,
  criterion_comments=, expected_round=)`: the caller must hold a live claim
  (409 `not_claimed`) on undecided work (409 `already_decided`); when the
  caller says which round it grades and the work is at another one: 409
  `wrong_round`. `scores` maps every criterion id of the brief to one of that
  criterion's level ids (422 `invalid_level` for a level of another criterion
  or an unknown id, 422 `incomplete_scores` for missing or extra criteria;
  409 `empty_rubric` when the brief has no criteria). The review's round is
  the next one (1, 2, 3); the decision follows exams.projects.rules.decide
  with the brief's margin (its own, or 10 % of the threshold rounded up): a
  borderline first review waits for a second grader; a second review that
  agrees decides on the mean of both totals; one that disagrees (another
  outcome, or totals further apart than the margin) waits for a third
  grader, who must be programme staff (403 `third_grader_staff_only`) and
  whose review decides. Every review is kept; the `Review` rows are unique
  per submission and round and per grader, so of two reviews of the same
  round at once one is stored and the other gets 409 `round_taken`.
  `submission_passed` is sent on commit when the final decision is a pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from lms.errors import Conflict, DomainError, NotFound, PermissionDenied
from lms.models import User
from lms.permissions import is_instructor, is_programme_staff
from lms.types import AnyUser

from .. import uploads as file_storage
from ..models import (
    OPEN_SUBMISSION_STATUSES,
    ProjectBrief,
    Review,
    ReviewRound,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from ..signals import submission_passed
from . import rules as project_rules
from . import selectors as project_selectors
from . import uploads

CLAIM_DURATION = timedelta(hours=8)
MAX_FILES = uploads.MAX_FILES
NOTES_MAX = 10_000
COMMENT_MAX = 10_000


class SubmissionRefused(DomainError):
    status = 422
    code = "invalid_submission"


class InvalidLevel(DomainError):
    status = 422
    code = "invalid_level"


# --- guards ---------------------------------------------------------------------------


def check_grader(user: AnyUser) -> None:
    """Only instructors (and programme staff) grade; to others the queue does not exist."""
    if not is_instructor(user):
        raise NotFound("Not found.")


def check_programme_staff(user: AnyUser) -> None:
    if not is_programme_staff(user):
        raise PermissionDenied("Only programme staff may see this.", code="staff_only")


def check_third_grader(*, grader: User, submission: Submission) -> None:
    """A disagreement between the first two graders is decided by programme staff."""
    if submission.needs_third_review and not is_programme_staff(grader):
        raise PermissionDenied(
            "The first two graders disagree: a member of programme staff decides.",
            code="third_grader_staff_only",
        )


def check_may_submit(*, person: User, brief: ProjectBrief) -> Submission | None:
    """Returns the decided submission a new one would revise (or None)."""
    if project_selectors.open_submission_for(person=person, brief=brief):
        raise Conflict(
            "You already have a submission waiting for review for this project.",
            code="submission_open",
        )
    if project_selectors.passed_submission_for(person=person, brief=brief):
        raise Conflict("You have already passed this project.", code="already_passed")
    return (
        Submission.objects.filter(person=person, brief=brief, status=SubmissionStatus.REVISE)
        .order_by("-decided_at", "-pk")
        .first()
    )


def check_submission_content(
    *, files: Sequence[UploadedFile[bytes]], repository_url: str, notes: str
) -> None:
    if not files and not repository_url:
        raise SubmissionRefused(
            "Upload at least one file or give a repository link.", code="empty_submission"
        )
    if len(files) > MAX_FILES:
        raise SubmissionRefused(
            f"Upload at most {MAX_FILES} files (zip them if you have more).",
            code="too_many_files",
        )
    if len(notes) > NOTES_MAX:
        raise SubmissionRefused(
            f"Notes are limited to {NOTES_MAX} characters.", code="notes_too_long"
        )
    if "\x00" in notes:
        raise SubmissionRefused("Notes must not contain NUL characters.", code="invalid_notes")


# --- submitting -----------------------------------------------------------------------


def _sha256(upload: UploadedFile[bytes]) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def submission_create(
    *,
    person: User,
    brief: ProjectBrief,
    files: Sequence[UploadedFile[bytes]] = (),
    repository_url: str = "",
    notes: str = "",
    now: datetime | None = None,
) -> Submission:
    now = now or timezone.now()
    files = list(files)
    notes = (notes or "").strip()
    repository_url = uploads.check_repository_url(repository_url)
    check_submission_content(files=files, repository_url=repository_url, notes=notes)
    uploads.check_total_size([f.size for f in files], limit=brief.max_upload_bytes)
    archive_limit = uploads.archive_limit_for(brief.max_upload_bytes)
    checked = [
        uploads.check_upload(f, allowed_types=brief.allowed_file_types, archive_limit=archive_limit)
        for f in files
    ]
    storage = file_storage.private_storage()
    written: list[str] = []
    try:
        with transaction.atomic():
            previous = check_may_submit(person=person, brief=brief)
            try:
                with transaction.atomic():
                    submission = Submission.objects.create(
                        person=person,
                        brief=brief,
                        repository_url=repository_url,
                        notes=notes,
                        previous=previous,
                        created_at=now,
                    )
            except IntegrityError as error:  # a concurrent submit won the constraint
                raise Conflict(
                    "You already have a submission waiting for review for this project.",
                    code="submission_open",
                ) from error
            for upload, check in zip(files, checked, strict=True):
                row = SubmissionFile(
                    submission=submission,
                    original_name=check.display_name,
                    size=check.size,
                    content_type=check.content_type,
                    sha256=_sha256(upload),
                )
                upload.seek(0)
                row.file.save(check.display_name, upload, save=False)
                written.append(cast(str, row.file.name))  # set by save()
                row.save()
    except BaseException:
        for name in written:
            storage.delete(name)
        raise
    return submission


# --- claiming -------------------------------------------------------------------------


def _get_for_grading(submission_id: int) -> Submission:
    submission = Submission.objects.select_related("brief").filter(pk=submission_id).first()
    if submission is None:
        raise project_selectors.SubmissionNotFound("No such submission.")
    return submission


@transaction.atomic
def submission_claim(
    *, grader: User, submission_id: int, now: datetime | None = None
) -> Submission:
    check_grader(grader)
    now = now or timezone.now()
    submission = _get_for_grading(submission_id)
    if not submission.is_open:
        raise Conflict("This submission has already been decided.", code="already_decided")
    if submission.person_id == grader.pk:
        raise Conflict("You cannot grade your own submission.", code="own_submission")
    if submission.reviews.filter(grader=grader).exists():
        raise Conflict(
            "You have reviewed this submission already; another grader must take it.",
            code="already_reviewed",
        )
    check_third_grader(grader=grader, submission=submission)
    taken = (
        Submission.objects.filter(pk=submission.pk, status__in=OPEN_SUBMISSION_STATUSES)
        .filter(Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now) | Q(claimed_by=grader))
        .update(
            claimed_by=grader,
            claimed_at=now,
            claim_expires_at=now + CLAIM_DURATION,
            status=SubmissionStatus.IN_REVIEW,
        )
    )
    submission.refresh_from_db()
    if not taken:
        if not submission.is_open:
            raise Conflict("This submission has already been decided.", code="already_decided")
        raise Conflict(
            "Another grader is working on this submission.",
            code="already_claimed",
            claimed_until=submission.claim_expires_at.isoformat()
            if submission.claim_expires_at
            else None,
        )
    return submission


@transaction.atomic
def submission_release(*, grader: User, submission_id: int) -> Submission:
    """Give a claim back to the queue (no-op when the caller does not hold it)."""
    check_grader(grader)
    Submission.objects.filter(pk=submission_id, claimed_by=grader).update(
        claimed_by=None, claimed_at=None, claim_expires_at=None
    )
    return _get_for_grading(submission_id)


# --- grading --------------------------------------------------------------------------


def _parse_id(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value.strip())
    return None


def check_scores(*, brief: ProjectBrief, scores: Mapping[object, object]) -> list[dict[str, Any]]:
    """Validate {criterion_id: level_id} against the brief's rubric; the rows graded."""
    if not isinstance(scores, Mapping):
        raise InvalidLevel("Scores must map criterion ids to level ids.", code="incomplete_scores")
    criteria = {c.pk: c for c in brief.criteria.all()}
    if not criteria:
        raise Conflict("This project has no rubric yet; add criteria first.", code="empty_rubric")
    chosen: dict[int, int] = {}
    for raw_criterion, raw_level in scores.items():
        criterion_id, level_id = _parse_id(raw_criterion), _parse_id(raw_level)
        if criterion_id is None or criterion_id not in criteria:
            raise InvalidLevel(
                f"{raw_criterion!s:.40} is not a criterion of this project's rubric.",
                code="incomplete_scores",
            )
        levels = {level.pk: level for level in criteria[criterion_id].levels.all()}
        if level_id is None or level_id not in levels:
            raise InvalidLevel(
                f"Level {raw_level!s:.40} is not a level of criterion "
                f"“{criteria[criterion_id].title}”.",
                criterion_id=criterion_id,
            )
        chosen[criterion_id] = level_id
    missing = [c.title for pk, c in criteria.items() if pk not in chosen]
    if missing:
        raise InvalidLevel(
            "Grade every criterion: " + ", ".join(missing) + ".", code="incomplete_scores"
        )
    rows = []
    for criterion_id, criterion in criteria.items():
        options = list(criterion.levels.all())
        level = next(level for level in options if level.pk == chosen[criterion_id])
        rows.append(
            {
                "criterion_id": criterion_id,
                "criterion": criterion.title,
                "level_id": level.pk,
                "level": level.title,
                "level_description": level.description,
                "points": level.points,
                "max_points": max(lv.points for lv in options),
            }
        )
    return rows


def _lock_for_review(submission_id: int) -> Submission:
    submission = Submission.objects.select_for_update().filter(pk=submission_id).first()
    if submission is None:
        raise project_selectors.SubmissionNotFound("No such submission.")
    return submission


def _send_passed(submission_id: int) -> None:
    submission = Submission.objects.select_related("brief", "person").get(pk=submission_id)
    submission_passed.send(sender=Submission, submission=submission)


def _decide(
    *, submission: Submission, brief: ProjectBrief, totals: list[int], now: datetime
) -> None:
    margin = project_rules.margin_for(brief.pass_threshold, brief.second_grader_margin)
    decision = project_rules.decide(totals, brief.pass_threshold, margin)
    release: dict[str, Any] = {"claimed_by": None, "claimed_at": None, "claim_expires_at": None}
    if not decision.final:
        Submission.objects.filter(pk=submission.pk).update(
            needs_second_review=decision.next_round == ReviewRound.SECOND,
            needs_third_review=decision.next_round == ReviewRound.THIRD,
            **release,
        )
        return
    Submission.objects.filter(pk=submission.pk).update(
        status=decision.outcome,
        score=decision.score,
        decided_at=now,
        needs_second_review=False,
        needs_third_review=False,
        **release,
    )
    if decision.outcome == SubmissionStatus.PASSED:
        transaction.on_commit(lambda: _send_passed(submission.pk))


def _criterion_comments(
    rows: list[dict[str, Any]], comments: Mapping[object, object] | None
) -> None:
    comments = comments or {}
    if not isinstance(comments, Mapping):
        raise SubmissionRefused("criterion_comments must be an object.", code="invalid_comment")
    for row in rows:
        text = comments.get(str(row["criterion_id"]), comments.get(row["criterion_id"], ""))
        text = str(text or "").strip()
        if len(text) > COMMENT_MAX or "\x00" in text:
            raise SubmissionRefused("A criterion comment is too long.", code="invalid_comment")
        row["comment"] = text


@transaction.atomic
def submission_review(
    *,
    grader: User,
    submission_id: int,
    scores: Mapping[object, object],
    comment: str = "",
    criterion_comments: Mapping[object, object] | None = None,
    expected_round: int | None = None,
    now: datetime | None = None,
) -> Review:
    check_grader(grader)
    now = now or timezone.now()
    submission = _lock_for_review(submission_id)
    if not submission.is_open:
        raise Conflict("This submission has already been decided.", code="already_decided")
    if submission.claimed_by_id != grader.pk or not project_selectors.claim_is_live(
        submission, now
    ):
        raise Conflict(
            "Claim this submission from the review queue before grading it.", code="not_claimed"
        )
    earlier = list(submission.reviews.order_by("round"))
    round_ = len(earlier) + 1
    if expected_round is not None and expected_round != round_:
        raise Conflict(
            f"This submission is at review round {round_}, not {expected_round}.",
            code="wrong_round",
            round=round_,
        )
    if any(review.grader_id == grader.pk for review in earlier):
        raise Conflict("You have reviewed this submission already.", code="already_reviewed")
    if round_ == ReviewRound.THIRD:
        check_third_grader(grader=grader, submission=submission)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX or "\x00" in comment:
        raise SubmissionRefused(
            f"The comment must be text of at most {COMMENT_MAX} characters.",
            code="invalid_comment",
        )
    brief = project_selectors.brief_with_rubric(brief_id=submission.brief_id)
    rows = check_scores(brief=brief, scores=scores)
    _criterion_comments(rows, criterion_comments)
    total = sum(row["points"] for row in rows)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                submission=submission,
                grader=grader,
                scores={str(row["criterion_id"]): row["level_id"] for row in rows},
                details=rows,
                total=total,
                outcome=project_rules.review_outcome(total, brief.pass_threshold),
                comment=comment,
                round=round_,
                created_at=now,
            )
    except IntegrityError as error:  # another review of this round won
        raise Conflict(
            "Another grader's review of this round was saved first.", code="round_taken"
        ) from error
    _decide(
        submission=submission,
        brief=brief,
        totals=[r.total for r in earlier] + [total],
        now=now,
    )
    review.submission.refresh_from_db()
    return review
