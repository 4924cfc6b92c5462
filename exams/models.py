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
from django.db.models import Q

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
    # Retake rules (PRODUCT.md defaults); exams.rules.retake_available_at applies them.
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
