"""Accommodation tables: grants of extra time and rest breaks, and their history.

Imported by `exams.models` (Django finds an app's models there), so they
belong to the exams app and its migrations. A grant is never deleted (an
attempt records the grant it applied): it is revoked. Its history is
append-only: one `AccommodationEvent` per create, edit and revoke.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .rules import MAX_EXTRA_TIME_PERCENT


class Accommodation(models.Model):
    """Extra time and/or rest breaks for one person, for one exam or all exams."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exam_accommodations"
    )
    # None: every exam. A grant for the exam itself wins over an all-exams one.
    exam = models.ForeignKey(
        "exams.Exam",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accommodations",
        help_text="Leave empty for all exams.",
    )
    extra_time_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_EXTRA_TIME_PERCENT)],
        help_text="0: no extra time.",
    )
    breaks = models.PositiveSmallIntegerField(default=0, help_text="Rest breaks per attempt.")
    break_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0)], help_text="Longest break, in minutes."
    )
    reason = models.TextField()
    ends_on = models.DateField(help_text="Last day the grant applies to an attempt's start.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(extra_time_percent__lte=MAX_EXTRA_TIME_PERCENT),
                name="exams_accommodation_extra_time_range",
            ),
            models.CheckConstraint(
                condition=Q(breaks=0) | Q(break_minutes__gte=1),
                name="exams_accommodation_break_has_length",
            ),
            models.CheckConstraint(
                condition=Q(extra_time_percent__gte=1) | Q(breaks__gte=1),
                name="exams_accommodation_grants_something",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "ends_on"], name="exams_accommodation_person"),
        ]

    def __str__(self) -> str:
        scope = self.exam.title if self.exam_id and self.exam else "all exams"
        return f"{self.person} · {scope}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AccommodationAction(models.TextChoices):
    CREATED = "created", "Granted"
    CHANGED = "changed", "Changed"
    REVOKED = "revoked", "Revoked"


class AccommodationEvent(models.Model):
    """History of a grant: who did what, when, and the grant as it stood after.

    Append-only: a saved event is never changed or deleted.
    """

    accommodation = models.ForeignKey(
        Accommodation, on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(max_length=10, choices=AccommodationAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField()
    # The grant after the change: {"exam", "extra_time_percent", "breaks",
    # "break_minutes", "ends_on", "reason", "revoked"}; and what changed:
    # {"field": [before, after], ...} (empty for a create).
    snapshot = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["accommodation", "at"], name="exams_accomevent_grant")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Accommodation history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Accommodation history is append-only.")
