"""Reads for project briefs, submissions, the review queue and feedback.

Contract:
- Who may see a submission (`can_view_submission`): its learner, programme
  staff, the grader holding its claim and the graders who reviewed it.
  Everyone else gets NotFound (404) from the `*_for_viewer` getters, so
  nobody learns that someone else's submission exists.
- `review_queue_for(grader=, now=)`: open submissions nobody holds a live
  claim on (or the caller holds), oldest first, without the caller's own
  submissions or those the caller already reviewed (a second review is by
  somebody else). A fixed number of queries whatever the queue's length.
  `review_queue_summary_for(grader=, now=)`: its length and oldest submission
  time in one query.
- `passed_submission_for(person=, brief=)`: the person's latest passed
  submission of the brief, or None (certificates use it as evidence).
- `submission_feedback_for(submission)`: per-criterion feedback of its
  reviews, shown to the learner once the submission is decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Prefetch, Q, QuerySet, prefetch_related_objects

from lms.errors import NotFound
from lms.models import User
from lms.pagination import PageParams, paginate
from lms.permissions import is_instructor, is_programme_staff
from lms.types import AnyUser

from ..models import (
    OPEN_SUBMISSION_STATUSES,
    ProjectBrief,
    Review,
    RubricCriterion,
    RubricLevel,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)


class ProjectNotFound(NotFound):
    code = "project_not_found"


class SubmissionNotFound(NotFound):
    code = "submission_not_found"


def _rubric_prefetch() -> Prefetch[str, QuerySet[RubricCriterion], str]:
    return Prefetch(
        "criteria",
        queryset=RubricCriterion.objects.order_by("position", "pk").prefetch_related(
            Prefetch("levels", queryset=RubricLevel.objects.order_by("position", "pk"))
        ),
    )


BRIEF_ORDER = ("title", "id")


def _briefs_published() -> QuerySet[ProjectBrief]:
    briefs: QuerySet[ProjectBrief] = ProjectBrief.objects.filter(is_published=True)
    return briefs


def brief_list_published() -> list[ProjectBrief]:
    return list(_briefs_published().order_by(*BRIEF_ORDER).prefetch_related(_rubric_prefetch()))


def brief_get_published(*, slug: str) -> ProjectBrief:
    brief: ProjectBrief | None = (
        ProjectBrief.objects.filter(slug=slug, is_published=True)
        .prefetch_related(_rubric_prefetch())
        .first()
    )
    if brief is None:
        raise ProjectNotFound("No such project.")
    return brief


def brief_with_rubric(*, brief_id: int) -> ProjectBrief:
    brief: ProjectBrief = ProjectBrief.objects.prefetch_related(_rubric_prefetch()).get(pk=brief_id)
    return brief


def brief_max_points(brief: ProjectBrief) -> int:
    """Sum of each criterion's best level (uses the prefetched rubric)."""
    return sum(
        max((level.points for level in criterion.levels.all()), default=0)
        for criterion in brief.criteria.all()
    )


@dataclass
class BriefCard:
    brief: ProjectBrief
    latest: Submission | None
    max_points: int

    @property
    def can_submit(self) -> bool:
        return self.latest is None or self.latest.status in (
            SubmissionStatus.REVISE,
            SubmissionStatus.FAILED,
        )


def brief_cards_for(*, person: User) -> list[BriefCard]:
    """Published briefs with the person's latest submission of each (3 queries)."""
    return _brief_cards(person, brief_list_published())


def brief_page_for(*, person: User, page: PageParams) -> tuple[list[BriefCard], bool]:
    """One page of `brief_cards_for` (the brief id is the cursor), and whether more follow."""
    briefs, has_more = paginate(_briefs_published(), page, order=BRIEF_ORDER)
    prefetch_related_objects(briefs, _rubric_prefetch())
    return _brief_cards(person, briefs), has_more


def _brief_cards(person: User, briefs: list[ProjectBrief]) -> list[BriefCard]:
    latest: dict[int, Submission] = {}
    for submission in Submission.objects.filter(
        person=person, brief__in=[b.pk for b in briefs]
    ).order_by("brief_id", "-created_at", "-pk"):
        latest.setdefault(submission.brief_id, submission)
    return [BriefCard(b, latest.get(b.pk), brief_max_points(b)) for b in briefs]


def submissions_of(*, person: User, brief: ProjectBrief) -> list[Submission]:
    return list(
        Submission.objects.filter(person=person, brief=brief)
        .order_by("-created_at", "-pk")
        .prefetch_related("files", "reviews")
    )


def passed_submission_for(*, person: User, brief: ProjectBrief) -> Submission | None:
    return (
        Submission.objects.filter(person=person, brief=brief, status=SubmissionStatus.PASSED)
        .order_by("-decided_at", "-pk")
        .first()
    )


def open_submission_for(*, person: User, brief: ProjectBrief) -> Submission | None:
    return Submission.objects.filter(
        person=person, brief=brief, status__in=OPEN_SUBMISSION_STATUSES
    ).first()


def claim_is_live(submission: Submission, now: datetime) -> bool:
    return bool(
        submission.claimed_by_id
        and submission.claim_expires_at
        and submission.claim_expires_at > now
    )


def can_view_submission(user: AnyUser, submission: Submission) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if submission.person_id == user.pk or is_programme_staff(user):
        return True
    if not is_instructor(user):
        return False
    if submission.claimed_by_id == user.pk:
        return True
    return Review.objects.filter(submission=submission, grader=user).exists()


def submission_get_for_viewer(*, user: AnyUser, submission_id: int) -> Submission:
    submission = (
        Submission.objects.select_related("brief", "person", "claimed_by")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None or not can_view_submission(user, submission):
        raise SubmissionNotFound("No such submission.")
    return submission


def submission_file_get_for_viewer(*, user: AnyUser, file_id: int) -> SubmissionFile:
    file = SubmissionFile.objects.select_related("submission").filter(pk=file_id).first()
    if file is None or not can_view_submission(user, file.submission):
        raise NotFound("No such file.", code="file_not_found")
    return file


QUEUE_ORDER = ("created_at", "id")


def _review_queue(grader: User, now: datetime) -> QuerySet[Submission]:
    free = Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now) | Q(claimed_by=grader)
    return (
        Submission.objects.filter(status__in=OPEN_SUBMISSION_STATUSES)
        .filter(free)
        .exclude(person=grader)
        .exclude(reviews__grader=grader)
        .select_related("brief", "person")
    )


def review_queue_summary_for(*, grader: User, now: datetime) -> tuple[int, datetime | None]:
    """How many submissions wait in `grader`'s review queue and when the oldest
    one was submitted (one query; for the admin home)."""
    summary = _review_queue(grader, now).aggregate(
        waiting=Count("pk", distinct=True), oldest=Min("created_at")
    )
    return summary["waiting"], summary["oldest"]


def review_queue_for(*, grader: User, now: datetime) -> list[Submission]:
    return list(_review_queue(grader, now).order_by(*QUEUE_ORDER))


def review_queue_page_for(
    *, grader: User, now: datetime, page: PageParams
) -> tuple[list[Submission], bool]:
    """One page of `review_queue_for` (the submission id is the cursor); a cursor
    must be a submission in this grader's queue now."""
    return paginate(_review_queue(grader, now), page, order=QUEUE_ORDER)


def reviews_for(submission: Submission) -> list[Review]:
    # all() so a prefetch (submissions_of) is used.
    return sorted(submission.reviews.all(), key=lambda review: (review.is_second, review.pk))


@dataclass(frozen=True)
class CriterionFeedback:
    criterion: str
    level: str
    level_description: str
    points: int
    max_points: int
    comment: str


@dataclass(frozen=True)
class ReviewFeedback:
    is_second: bool
    total: int
    outcome: str
    comment: str
    criteria: list[CriterionFeedback]


def feedback_from(review: Review) -> ReviewFeedback:
    return ReviewFeedback(
        is_second=review.is_second,
        total=review.total,
        outcome=review.outcome,
        comment=review.comment,
        criteria=[
            CriterionFeedback(
                criterion=row["criterion"],
                level=row["level"],
                level_description=row.get("level_description", ""),
                points=row["points"],
                max_points=row.get("max_points", row["points"]),
                comment=row.get("comment", ""),
            )
            for row in review.details
        ],
    )


def submission_feedback_for(submission: Submission) -> list[ReviewFeedback]:
    """The reviews' feedback once decided; nothing while the work is still open."""
    if submission.is_open:
        return []
    return [feedback_from(review) for review in reviews_for(submission)]
