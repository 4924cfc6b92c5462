"""Certifications (definitions) and credentials (what a person holds).

A credential is a learner record: it points at its person, certification and
evidence with PROTECT and is never deleted; revocation and expiry are states.
One active credential per person and certification is a database constraint
(`certificates_credential_one_active`), which is what makes issuance happen
exactly once however many triggers race. Rules live in certificates.rules and
certificates.services; models hold data and invariants only.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .storage import private_storage

# 18 random bytes = 144 bits, 24 URL-safe characters. The public id is what
# URLs, QR codes and the API use; the integer primary key never leaves the app.
PUBLIC_ID_BYTES = 18
PUBLIC_ID_LENGTH = 24


def new_public_id() -> str:
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


def certificate_upload_to(instance, filename: str) -> str:
    # Random file names: nothing about the holder in the storage path.
    return f"certificates/{secrets.token_hex(16)}.pdf"


class Certification(models.Model):
    slug = models.SlugField(max_length=40, unique=True, help_text="e.g. developer, architect")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    exam = models.ForeignKey(
        "exams.Exam",
        on_delete=models.PROTECT,
        related_name="certifications",
        help_text="Passing this exam is required.",
    )
    project_brief = models.ForeignKey(
        "exams.ProjectBrief",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certifications",
        help_text="Passing this graded project is required. Until one is chosen, "
        "no credential of this certification can be issued.",
    )
    prerequisite_courses = models.ManyToManyField(
        "courses.CoursePage",
        blank=True,
        related_name="certifications",
        # Sales courses never count toward a certification (docs/product-rules.md).
        limit_choices_to={"kind": "technical"},
        help_text="Technical courses that must be completed first (optional).",
    )
    validity_months = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    renewal_exam = models.ForeignKey(
        "exams.Exam",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal_for_certifications",
        help_text="Passing it inside the renewal window extends the credential "
        "(empty: the certification exam itself).",
    )
    renewal_window_days = models.PositiveSmallIntegerField(
        default=180, validators=[MinValueValidator(1), MaxValueValidator(730)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(validity_months__gte=1), name="certificates_certification_validity"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def renewal_exam_id_effective(self) -> int:
        return self.renewal_exam_id or self.exam_id

    @property
    def renewal_start_path(self) -> str:
        """Where a holder starts the renewal exam (a site path)."""
        from django.urls import reverse

        exam = self.renewal_exam if self.renewal_exam_id else self.exam
        return reverse("exams:attempt_start", args=[exam.slug])


class CredentialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class Credential(models.Model):
    public_id = models.CharField(max_length=64, unique=True, default=new_public_id, editable=False)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credentials"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="credentials"
    )
    # A snapshot: later edits of the person's legal name do not rewrite history.
    holder_name = models.CharField(max_length=200)
    # Stored state; "expired" is written by the daily job, so readers decide
    # with certificates.rules.credential_status (the clock may be ahead).
    status = models.CharField(
        max_length=10, choices=CredentialStatus.choices, default=CredentialStatus.ACTIVE
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credentials_revoked",
    )
    # Evidence.
    exam_attempt = models.ForeignKey(
        "exams.Attempt", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submission = models.ForeignKey(
        "exams.Submission", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pdf = models.FileField(
        storage=private_storage, upload_to=certificate_upload_to, blank=True, max_length=200
    )
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "certification"],
                condition=Q(status="active"),
                name="certificates_credential_one_active",
            ),
            models.CheckConstraint(
                condition=(Q(status="revoked") & Q(revoked_at__isnull=False))
                | (~Q(status="revoked") & Q(revoked_at__isnull=True)),
                name="certificates_credential_revoked_has_time",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("issued_at")),
                name="certificates_credential_expires_after_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="certificates_cred_due"),
            models.Index(fields=["person", "certification"], name="certificates_cred_person"),
        ]

    def __str__(self) -> str:
        return f"{self.certification} · {self.holder_name}"


class EventKind(models.TextChoices):
    ISSUED = "issued", "Issued"
    RENEWED = "renewed", "Renewed"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    REMINDER = "reminder", "Expiry reminder sent"


class CredentialEvent(models.Model):
    """History of a credential, append-only."""

    credential = models.ForeignKey(Credential, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The renewal exam attempt for "renewed" (one renewal per attempt).
    attempt = models.ForeignKey(
        "exams.Attempt", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["credential_id", "at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt"],
                condition=Q(kind="renewed"),
                name="certificates_credentialevent_one_renewal_per_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class ExpiryReminder(models.Model):
    """One row per reminder sent: the row is the "sent once" guarantee.

    `expires_at` is the expiry the reminder was about, so a renewed credential
    gets its 90/30/7-day reminders again before its new expiry.
    """

    class Kind(models.IntegerChoices):
        DAYS_90 = 90, "90 days"
        DAYS_30 = 30, "30 days"
        DAYS_7 = 7, "7 days"

    credential = models.ForeignKey(
        Credential, on_delete=models.PROTECT, related_name="expiry_reminders"
    )
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["credential_id", "-kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "kind", "expires_at"],
                name="certificates_expiryreminder_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder for {self.credential_id}"
