"""Question banks, blueprint exams and learners' attempts.

Content (banks, topics, questions, exams) is authored by instructors; learner
records (attempts and their items) point at content with PROTECT so deleting
content can never delete what a learner did. A question is never edited under
an attempt: its text and options live on an immutable `QuestionVersion`, and
an edit of a version that has been used makes a new one (exams.services).
Rules live in services/rules/scoring; models hold data and invariants only.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

MIN_CHOICES = 2
MAX_CHOICES = 8


class QuestionBank(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Topic(models.Model):
    """An exam objective; blueprints draw a number of questions per topic."""

    bank = models.ForeignKey(QuestionBank, on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(max_length=200)
    objective = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["bank_id", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "name"], name="exams_topic_unique_name_per_bank"
            )
        ]

    def __str__(self) -> str:
        return self.name


class QuestionKind(models.TextChoices):
    SINGLE = "single", "Single answer"
    MULTIPLE = "multiple", "Multiple answers"


class Difficulty(models.TextChoices):
    EASY = "easy", "Easy"
    MEDIUM = "medium", "Medium"
    HARD = "hard", "Hard"


class Question(models.Model):
    """A question's identity; its wording and options are in versions."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="questions")
    title = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    difficulty = models.CharField(
        max_length=10, choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    is_active = models.BooleanField(default=True, help_text="Retired questions are never drawn.")
    # The version new attempts are given; set by the services.
    current_version = models.ForeignKey(
        "QuestionVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["topic_id", "pk"]
        indexes = [models.Index(fields=["topic", "is_active"], name="exams_question_pool")]

    def __str__(self) -> str:
        return self.title or f"Question {self.pk}"


class QuestionVersion(models.Model):
    """Immutable once an attempt has used it (services make a new version instead)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    stem = models.TextField()
    explanation = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "number"], name="exams_questionversion_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="exams_questionversion_number_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question} v{self.number}"


class Choice(models.Model):
    version = models.ForeignKey(QuestionVersion, on_delete=models.CASCADE, related_name="choices")
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField()
    # The option's own feedback (GIFT's #feedback, Moodle XML's), kept for the
    # question exchange; a certification result never shows answers or feedback.
    feedback = models.TextField(blank=True)

    class Meta:
        ordering = ["version_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"], name="exams_choice_unique_position"
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Exam(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    time_limit_minutes = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    pass_mark_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(80),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    shuffle_questions = models.BooleanField(default=True)
    shuffle_choices = models.BooleanField(default=True)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    # Retake rules (docs/product-rules.md defaults); exams.rules.retake_available_at applies them.
    retake_first_wait_hours = models.PositiveIntegerField(default=24)
    retake_later_wait_days = models.PositiveIntegerField(default=14)
    max_attempts_in_window = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)]
    )
    attempt_window_days = models.PositiveIntegerField(default=365)
    # Answers are still accepted this long after the deadline (network latency).
    grace_seconds = models.PositiveIntegerField(default=10, validators=[MaxValueValidator(300)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_mark_percent__gte=0) & Q(pass_mark_percent__lte=100),
                name="exams_exam_pass_mark_range",
            ),
            models.CheckConstraint(
                condition=Q(time_limit_minutes__gte=1), name="exams_exam_time_limit_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_attempts_in_window__gte=1),
                name="exams_exam_max_attempts_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class BlueprintRule(models.Model):
    """Draw `count` questions from `topic` for each attempt of `exam`."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="blueprint")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="blueprint_rules")
    count = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["exam_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "topic"], name="exams_blueprintrule_one_per_topic"
            ),
            models.CheckConstraint(
                condition=Q(count__gte=1), name="exams_blueprintrule_count_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.topic}"


class DrawSnapshot(models.Model):
    """What a draw started from: the blueprint, shuffle flags and question pool.

    Recorded by `attempt_start` in exams.draw's JSON form, one row per distinct
    content (`digest`), shared by every attempt drawn from the same inputs and
    never edited: questions edited, added or retired later leave it as it was,
    so a replay redraws from the pool of the attempt's start.
    """

    digest = models.CharField(max_length=64, unique=True)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"Draw inputs {self.digest[:12]}"


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    EXPIRED = "expired", "Finalised after the deadline"


class Attempt(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exam_attempts"
    )
    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts")
    status = models.CharField(
        max_length=12, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS
    )
    seed = models.BigIntegerField(help_text="Seed of the draw and shuffles (reproducible form).")
    # The draw's other inputs at the start (exams.draw): null for attempts
    # started before they were recorded, which cannot be replayed.
    draw_snapshot = models.ForeignKey(
        DrawSnapshot, null=True, blank=True, on_delete=models.PROTECT, related_name="attempts"
    )
    # Ids of the pool's questions the person had been given in earlier attempts.
    draw_seen = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    # When it was finished: the submit time, or the deadline for an expired attempt.
    submitted_at = models.DateTimeField(null=True, blank=True)
    pass_mark_percent = models.DecimalField(max_digits=5, decimal_places=2)
    score_correct = models.PositiveIntegerField(null=True, blank=True)
    score_total = models.PositiveIntegerField(null=True, blank=True)
    score_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    # [{"topic": name, "correct": n, "total": n, "score_percent": "87.50"}, ...]
    topic_scores = models.JSONField(default=list, blank=True)
    # Accommodations applied at the start (exams.accommodations): the grant and
    # what it gave, kept here so a later change of the grant never moves a
    # running attempt's deadline. `deadline` already includes the extra time
    # and every finished break.
    accommodation = models.ForeignKey(
        "exams.Accommodation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attempts",
    )
    extra_time_percent = models.PositiveSmallIntegerField(default=0)
    breaks_allowed = models.PositiveSmallIntegerField(default=0)
    break_minutes = models.PositiveSmallIntegerField(default=0)
    breaks_taken = models.PositiveSmallIntegerField(default=0)
    # The running break: the clock stands still from its start to its end
    # (the planned end at the latest; resuming ends it early).
    break_started_at = models.DateTimeField(null=True, blank=True)
    break_ends_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(default=0, help_text="Breaks taken, in total.")

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "exam"],
                condition=Q(status="in_progress"),
                name="exams_attempt_one_in_progress",
            ),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(submitted_at__isnull=False),
                name="exams_attempt_finished_has_time",
            ),
            models.CheckConstraint(
                condition=Q(breaks_taken__lte=F("breaks_allowed")),
                name="exams_attempt_breaks_within_grant",
            ),
            models.CheckConstraint(
                condition=Q(break_started_at__isnull=True, break_ends_at__isnull=True)
                | Q(break_started_at__isnull=False, break_ends_at__gt=F("break_started_at")),
                name="exams_attempt_break_has_end",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "exam", "status"], name="exams_attempt_person_exam"),
            models.Index(fields=["status", "deadline"], name="exams_attempt_overdue"),
        ]

    def __str__(self) -> str:
        return f"{self.exam} attempt {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status != AttemptStatus.IN_PROGRESS

    @property
    def on_break(self) -> bool:
        return self.break_started_at is not None

    @property
    def breaks_left(self) -> int:
        return max(self.breaks_allowed - self.breaks_taken, 0)


class ItemStatus(models.TextChoices):
    NORMAL = "normal", "Normal"
    DROPPED = "dropped", "Dropped (not counted)"
    CREDITED = "credited", "Credited to everyone"


class AttemptItem(models.Model):
    """One question of one attempt: the version given, option order and the answer."""

    attempt = models.ForeignKey(Attempt, on_delete=models.PROTECT, related_name="items")
    question_version = models.ForeignKey(
        QuestionVersion, on_delete=models.PROTECT, related_name="attempt_items"
    )
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="attempt_items")
    position = models.PositiveSmallIntegerField()
    choice_order = models.JSONField(help_text="Choice ids in the order shown.")
    selected_choice_ids = models.JSONField(default=list, blank=True)
    flagged = models.BooleanField(default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.NORMAL)

    class Meta:
        ordering = ["attempt_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="exams_attemptitem_unique_position"
            ),
            models.UniqueConstraint(
                fields=["attempt", "question_version"], name="exams_attemptitem_unique_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt} #{self.position}"


class RegradeAction(models.TextChoices):
    DROP = "dropped", "Drop (not counted for anyone)"
    CREDIT = "credited", "Credit to everyone"
    RESTORE = "normal", "Count normally again"


class RegradeEvent(models.Model):
    """History of one drop/credit/restore of a question in an exam, never edited.

    `changes` holds one entry per finished attempt that was regraded:
    {"attempt": id, "person": id, "before": {"score_percent": "75.00",
    "passed": false}, "after": {...}}.
    """

    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="regrade_events")
    question_version = models.ForeignKey(
        QuestionVersion, on_delete=models.PROTECT, related_name="regrade_events"
    )
    action = models.CharField(max_length=10, choices=RegradeAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exam_regrade_events",
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    items_changed = models.PositiveIntegerField(default=0)
    changes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["exam", "created_at"], name="exams_regrade_exam")]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.question_version} in {self.exam}"


# --- projects: briefs with rubrics, submissions and reviews ---------------------------
# Briefs and rubrics are content (instructors edit them in the Wagtail admin);
# submissions, their files and reviews are learner records (PROTECT). A review
# keeps a snapshot of the rubric as graded (`details`), so editing a rubric
# later never changes a decision already made. Workflows: exams.project_services.

from modelcluster.fields import ParentalKey  # noqa: E402
from modelcluster.models import ClusterableModel  # noqa: E402

from .uploads import private_storage, submission_file_path  # noqa: E402

DEFAULT_PROJECT_FILE_TYPES = ["pdf", "zip", "md", "txt", "png", "jpg"]


def _default_project_file_types() -> list[str]:
    return list(DEFAULT_PROJECT_FILE_TYPES)


class ProjectBrief(ClusterableModel):
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    instructions = models.TextField(help_text="What to build and hand in (plain text).")
    pass_threshold = models.PositiveIntegerField(
        help_text="Points needed to pass. Below half of it the result is a fail; "
        "in between, revise and resubmit."
    )
    allowed_file_types = models.JSONField(
        default=_default_project_file_types,
        blank=True,
        help_text='File extensions learners may upload, e.g. ["pdf", "zip", "md"].',
    )
    max_upload_bytes = models.PositiveBigIntegerField(
        default=20 * 1024 * 1024,
        validators=[MinValueValidator(1), MaxValueValidator(100 * 1024 * 1024)],
        help_text="Largest total size of the files of one submission, in bytes.",
    )
    blind_grading = models.BooleanField(
        default=False, help_text="Graders do not see the learner's name or e-mail."
    )
    second_grader_margin = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="A first review whose total is within this many points of the "
        "threshold goes to a second grader (0: never); two reviews whose totals are "
        "further apart go to a third. Empty: 10 % of the threshold, rounded up.",
    )
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_upload_bytes__gte=1),
                name="exams_projectbrief_upload_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RubricCriterion(ClusterableModel):
    brief = ParentalKey(ProjectBrief, on_delete=models.CASCADE, related_name="criteria")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["brief_id", "position", "pk"]
        verbose_name_plural = "rubric criteria"

    def __str__(self) -> str:
        return self.title


class RubricLevel(models.Model):
    criterion = ParentalKey(RubricCriterion, on_delete=models.CASCADE, related_name="levels")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    points = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["criterion_id", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.points})"


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    PASSED = "passed", "Passed"
    REVISE = "revise", "Revise and resubmit"
    FAILED = "failed", "Failed"


OPEN_SUBMISSION_STATUSES = (SubmissionStatus.SUBMITTED, SubmissionStatus.IN_REVIEW)


class Submission(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_submissions"
    )
    brief = models.ForeignKey(ProjectBrief, on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(
        max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED
    )
    repository_url = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    # The decided submission this one revises (after "revise and resubmit").
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="revisions"
    )
    created_at = models.DateTimeField()
    # Review queue claim: a lock that lapses at claim_expires_at.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claimed_submissions",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    needs_second_review = models.BooleanField(default=False)
    # The first and second reviews disagree: a third grader (staff) decides.
    needs_third_review = models.BooleanField(default=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Final points: the single review's total, the mean of two agreeing
    # reviews' totals, or the third review's total.
    score = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "brief"],
                condition=Q(status__in=["submitted", "in_review"]),
                name="exams_submission_one_open",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["submitted", "in_review"])
                | (Q(decided_at__isnull=False) & Q(score__isnull=False)),
                name="exams_submission_decided_has_time_and_score",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="exams_submission_queue"),
            models.Index(fields=["person", "brief", "status"], name="exams_submission_person"),
        ]

    def __str__(self) -> str:
        return f"{self.brief} submission {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SUBMISSION_STATUSES


class SubmissionFile(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="files")
    # Random name under PRIVATE_ROOT (exams.uploads); never under MEDIA_ROOT.
    file = models.FileField(storage=private_storage, upload_to=submission_file_path, max_length=200)
    original_name = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submission_id", "pk"]

    def __str__(self) -> str:
        return self.original_name


class ReviewOutcome(models.TextChoices):
    PASSED = "passed", "Pass"
    REVISE = "revise", "Revise and resubmit"
    FAILED = "failed", "Fail"


class ReviewRound(models.IntegerChoices):
    FIRST = 1, "First review"
    SECOND = 2, "Second review"
    THIRD = 3, "Third review"


class Review(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="reviews")
    grader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="project_reviews"
    )
    # {"<criterion_id>": <level_id>} as given.
    scores = models.JSONField()
    # Snapshot as graded: [{"criterion_id", "criterion", "level_id", "level",
    # "level_description", "points", "max_points", "comment"}, ...]
    details = models.JSONField(default=list)
    total = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=ReviewOutcome.choices)
    comment = models.TextField(blank=True)
    # 1: first review; 2: second (borderline first review); 3: third (staff,
    # when the first two disagree).
    round = models.PositiveSmallIntegerField(choices=ReviewRound.choices, default=ReviewRound.FIRST)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["submission_id", "round", "pk"]
        constraints = [
            # A submission gets at most one review per round...
            models.UniqueConstraint(
                fields=["submission", "round"], name="exams_review_one_per_round"
            ),
            # ...each by somebody else.
            models.UniqueConstraint(
                fields=["submission", "grader"], name="exams_review_one_per_grader"
            ),
            models.CheckConstraint(
                condition=Q(round__gte=1) & Q(round__lte=3), name="exams_review_round_range"
            ),
        ]
        indexes = [
            models.Index(fields=["grader", "round"], name="exams_review_grader_round"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.submission} by {self.grader}"

    @property
    def is_second(self) -> bool:
        return self.round == ReviewRound.SECOND


# Accommodations (extra time, rest breaks) keep their tables in their feature
# package; importing them here is how Django finds them.
from .accommodations.models import (  # noqa: E402, F401
    Accommodation,
    AccommodationAction,
    AccommodationEvent,
)
