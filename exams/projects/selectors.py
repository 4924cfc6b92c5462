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
- `reviews_visible_to(viewer, submission)`: independent grading. While the
  work is open nobody sees another grader's review (levels, total, outcome,
  comments) — not the second grader, not the learner, not staff who might
  still take a round — except: the first two graders see each other's once
  both have graded, and programme staff see both once they disagree (the
  third grader needs them). Once decided, everyone who may see the
  submission sees every review.
- Queue: work waiting for a third review is in programme staff's queue only.
- `grader_agreement_report(window=)`: for each grader, their last `window`
  double-graded submissions (a first and a second review; newest second
  review first) and how far they agreed with the other grader: exact
  agreement of outcomes in percent, and Cohen's kappa per rubric criterion
  (levels as categories; exams.projects.agreement), each with the number of
  submissions behind it. Two queries whatever the number of reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Count,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import RowNumber

from lms.errors import NotFound
from lms.models import User
from lms.pagination import PageParams, paginate
from lms.permissions import is_instructor, is_programme_staff
from lms.types import AnyUser

from ..models import (
    OPEN_SUBMISSION_STATUSES,
    ProjectBrief,
    Review,
    ReviewRound,
    RubricCriterion,
    RubricLevel,
    Submission,
    SubmissionFile,
    SubmissionStatus,
)
from . import agreement


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


def _review_queue(grader: User, now: datetime, staff: bool | None = None) -> QuerySet[Submission]:
    free = Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now) | Q(claimed_by=grader)
    submissions = Submission.objects.filter(status__in=OPEN_SUBMISSION_STATUSES).filter(free)
    if not (is_programme_staff(grader) if staff is None else staff):
        submissions = submissions.filter(needs_third_review=False)
    return (
        submissions.exclude(person=grader)
        .exclude(reviews__grader=grader)
        .select_related("brief", "person")
    )


def review_queue_summary_for(
    *, grader: User, now: datetime, staff: bool | None = None
) -> tuple[int, datetime | None]:
    """How many submissions wait in `grader`'s review queue and when the oldest
    one was submitted (one query; for the admin home, which says whether the
    grader is programme staff: third reviews are theirs)."""
    summary = _review_queue(grader, now, staff).aggregate(
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
    return sorted(submission.reviews.all(), key=lambda review: (review.round, review.pk))


def reviews_visible_to(viewer: AnyUser, submission: Submission) -> list[Review]:
    """The reviews `viewer` may read now (see the module's contract)."""
    if submission.is_open and submission.person_id == viewer.pk:
        return []  # the learner waits for the decision
    reviews = reviews_for(submission)
    if not submission.is_open:
        return reviews
    own = [review for review in reviews if review.grader_id == viewer.pk]
    if own and len(reviews) >= 2:
        return reviews
    if submission.needs_third_review and is_programme_staff(viewer):
        return reviews
    return own


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
    round: int
    total: int
    outcome: str
    comment: str
    criteria: list[CriterionFeedback]

    @property
    def is_second(self) -> bool:
        return self.round == ReviewRound.SECOND

    @property
    def title(self) -> str:
        return ReviewRound(self.round).label


def feedback_from(review: Review) -> ReviewFeedback:
    return ReviewFeedback(
        round=review.round,
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


def feedback_visible_to(viewer: AnyUser, submission: Submission) -> list[ReviewFeedback]:
    return [feedback_from(review) for review in reviews_visible_to(viewer, submission)]


# --- grader agreement (programme staff) -------------------------------------------------


@dataclass(frozen=True)
class CriterionAgreement:
    criterion_id: int
    criterion: str
    project: str
    figures: agreement.AgreementSummary


@dataclass(frozen=True)
class GraderAgreement:
    grader_id: int
    grader: str
    outcomes: agreement.AgreementSummary
    criteria: list[CriterionAgreement]


DOUBLE_GRADED_ROUNDS = (ReviewRound.FIRST, ReviewRound.SECOND)


def _windowed_reviews(window: int) -> list[Review]:
    """Each grader's first/second reviews of double-graded work, newest `window` each."""
    second_at = Review.objects.filter(
        submission=OuterRef("submission"), round=ReviewRound.SECOND
    ).values("created_at")[:1]
    ranked = (
        Review.objects.filter(
            round__in=DOUBLE_GRADED_ROUNDS,
            submission__reviews__round=ReviewRound.SECOND,
        )
        .annotate(
            paired_at=Subquery(second_at),
            project=F("submission__brief__title"),
            rank=Window(
                RowNumber(),
                partition_by=[F("grader_id")],
                order_by=[F("paired_at").desc(), F("submission_id").desc()],
            ),
        )
        .filter(rank__lte=window)
        .select_related("grader")
        .order_by("grader_id", "rank")
    )
    return list(ranked)


def grader_agreement_report(*, window: int) -> list[GraderAgreement]:
    mine = _windowed_reviews(window)
    others = {
        (review.submission_id, review.round): review
        for review in Review.objects.filter(
            submission_id__in={review.submission_id for review in mine},
            round__in=DOUBLE_GRADED_ROUNDS,
        ).only("submission_id", "round", "outcome", "scores")
    }
    by_grader: dict[int, list[tuple[Review, Review]]] = {}
    graders: dict[int, User] = {}
    for review in mine:
        other = others.get((review.submission_id, 3 - review.round))
        if other is None:
            continue
        by_grader.setdefault(review.grader_id, []).append((review, other))
        graders[review.grader_id] = review.grader
    report = [
        _grader_agreement(graders[grader_id], pairs) for grader_id, pairs in by_grader.items()
    ]
    return sorted(report, key=lambda row: (row.grader.lower(), row.grader_id))


def _grader_agreement(grader: User, pairs: list[tuple[Review, Review]]) -> GraderAgreement:
    levels: dict[int, list[agreement.Pair]] = {}
    names: dict[int, tuple[str, str]] = {}
    for review, other in pairs:
        titles = {row["criterion_id"]: row["criterion"] for row in review.details}
        for key, level in review.scores.items():
            criterion_id = int(key)
            if key not in other.scores:
                continue  # the rubric changed between the two reviews
            levels.setdefault(criterion_id, []).append((level, other.scores[key]))
            names.setdefault(
                criterion_id,
                (getattr(review, "project", ""), titles.get(criterion_id, f"#{criterion_id}")),
            )
    criteria = [
        CriterionAgreement(
            criterion_id=criterion_id,
            project=names[criterion_id][0],
            criterion=names[criterion_id][1],
            figures=agreement.summary(level_pairs),
        )
        for criterion_id, level_pairs in levels.items()
    ]
    criteria.sort(key=lambda row: (row.project, row.criterion, row.criterion_id))
    return GraderAgreement(
        grader_id=grader.pk,
        grader=grader.legal_name or grader.email,
        outcomes=agreement.summary([(review.outcome, other.outcome) for review, other in pairs]),
        criteria=criteria,
    )
