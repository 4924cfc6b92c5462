"""Programme lifecycle tables: status history, deadline reminders, re-reviews.

Imported by `partners.models` (Django finds an app's models there), so they
belong to the partners app and its migrations.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..models import PartnerStatus


class PartnerStatusChange(models.Model):
    """History: one row per change of a partner's programme status (never edited).

    Made by a person (`by`) or by a rule (`rule`, a stable code), never both.
    """

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=PartnerStatus)
    to_status = models.CharField(max_length=20, choices=PartnerStatus)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rule = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(by__isnull=False) & Q(rule="")) | (Q(by__isnull=True) & ~Q(rule="")),
                name="partners_partnerstatuschange_person_or_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "at"], name="partners_psc_history"),
        ]

    def __str__(self) -> str:
        return f"{self.partner}: {self.from_status} → {self.to_status}"


class DeadlineKind(models.TextChoices):
    PROVISIONAL = "provisional", "Provisional deadline"
    REREVIEW = "rereview", "Re-review"


class PartnerDeadlineReminder(models.Model):
    """A reminder sent to a partner's admins before a deadline: one per
    (partner, kind, deadline, days), so a rerun of the daily job sends none twice
    and a new deadline gets its own reminders."""

    Kind = DeadlineKind

    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=DeadlineKind)
    deadline = models.DateTimeField()
    days = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind", "deadline", "days"],
                name="partners_partnerdeadlinereminder_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner}: {self.kind} reminder {self.days} days before {self.deadline}"


class PartnerReReview(models.Model):
    """A partner admin's confirmation of the yearly re-review (kept)."""

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="rereviews"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField()
    due_at = models.DateTimeField()
    agreement = models.ForeignKey(
        "partners.PartnerAgreement", on_delete=models.PROTECT, related_name="+"
    )
    restricted_business_attested_at = models.DateTimeField()

    class Meta:
        ordering = ["-confirmed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "due_at"], name="partners_partnerrereview_once_per_due_date"
            ),
        ]

    def __str__(self) -> str:
        return f"Re-review of {self.partner} confirmed {self.confirmed_at:%Y-%m-%d}"
