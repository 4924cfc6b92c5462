from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from . import rules


def validate_country_code(value: str) -> None:
    if value and not rules.is_country_code(value):
        raise ValidationError(
            "Enter a two-letter ISO 3166-1 country code, for example DE or US.",
            code="invalid_country",
        )


class PartnerStatus(models.TextChoices):
    APPLICANT = "applicant", "Applicant"
    PROVISIONAL = "provisional", "Provisional"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class Track(models.TextChoices):
    APPS = "apps", "Apps"
    EMBEDDED_PAYMENTS = "embedded_payments", "Embedded payments"
    SERVICES = "services", "Services"
    TECHNOLOGY = "technology", "Technology"


class MembershipRole(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    ADMIN = "admin", "Partner admin"


class Partner(models.Model):
    """A partner company in the programme."""

    Status = PartnerStatus

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    website = models.URLField(blank=True)
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country_code],
        help_text="Two-letter ISO 3166-1 code, for example DE or US.",
    )
    status = models.CharField(max_length=20, choices=PartnerStatus, default=PartnerStatus.APPLICANT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PartnerStatus.values),
                name="partners_partner_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerTrack(models.Model):
    """A track the partner joined."""

    Track = Track

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tracks")
    track = models.CharField(max_length=30, choices=Track)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partner", "track"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "track"], name="partners_partnertrack_unique_track"
            ),
            models.CheckConstraint(
                condition=Q(track__in=Track.values),
                name="partners_partnertrack_track_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} – {self.get_track_display()}"


class Membership(models.Model):
    """A person's membership of a partner company over a period.

    Current while `ended` is empty. Ending one never deletes it: the history
    is what later rules (certified members, roll-ups) are computed from.
    """

    Role = MembershipRole

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole, default=MembershipRole.EMPLOYEE)
    started = models.DateTimeField(default=timezone.now)
    ended = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-started", "-pk"]
        constraints = [
            # A person belongs to at most one partner at a time. A partial unique
            # index, so it holds under concurrent requests on SQLite and PostgreSQL.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(ended__isnull=True),
                name="partners_membership_one_current_per_person",
                violation_error_message=(
                    "This person already has a current membership; end it first."
                ),
            ),
            models.CheckConstraint(
                condition=Q(ended__isnull=True) | Q(ended__gte=F("started")),
                name="partners_membership_ended_after_started",
                violation_error_message="A membership cannot end before it started.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=MembershipRole.values),
                name="partners_membership_role_valid",
            ),
        ]
        indexes = [
            # Rosters and roll-ups read the current members of one partner.
            models.Index(
                fields=["partner", "role"],
                condition=Q(ended__isnull=True),
                name="partners_membership_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} at {self.partner}"

    @property
    def is_current(self) -> bool:
        return self.ended is None
