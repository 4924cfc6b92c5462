import secrets

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


def validate_partner_slug(value: str) -> None:
    if rules.is_reserved_slug(value):
        raise ValidationError(
            "This word is used by the partner pages; choose another slug.",
            code="slug_reserved",
        )


def partner_logo_upload_to(instance, filename: str) -> str:
    # The name is ours, never the uploader's: random, with the extension of the
    # format the server re-encoded the image to (partners.directory.services).
    extension = "jpg" if filename.lower().endswith((".jpg", ".jpeg")) else "png"
    return f"partner-logos/{secrets.token_hex(16)}.{extension}"


class PartnerStatus(models.TextChoices):
    APPLICANT = "applicant", "Applicant"
    PROVISIONAL = "provisional", "Provisional"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    TERMINATED = "terminated", "Terminated"


class Track(models.TextChoices):
    APPS = "apps", "Apps"
    EMBEDDED_PAYMENTS = "embedded_payments", "Embedded payments"
    SERVICES = "services", "Services"
    TECHNOLOGY = "technology", "Technology"


class MembershipRole(models.TextChoices):
    EMPLOYEE = "employee", "Employee"
    ADMIN = "admin", "Partner admin"


# Partner statuses whose verification may be shown to the public (directory,
# badge, verified page): a partner outside them reads as not verified.
PUBLIC_STATUSES = (PartnerStatus.PROVISIONAL, PartnerStatus.ACTIVE)


class PartnerQuerySet(models.QuerySet):
    def in_good_standing(self) -> "PartnerQuerySet":
        """Partners whose verified tracks may be shown publicly: the one place
        that says which partner statuses qualify (PUBLIC_STATUSES)."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def listable(self) -> "PartnerQuerySet":
        """Partners the public directory shows: in good standing, listed by
        their admins, and verified on at least one track now."""
        verified = TrackStatusRecord.objects.filter(partner=models.OuterRef("pk"), verified=True)
        return self.in_good_standing().filter(models.Exists(verified), listed=True)


class Partner(models.Model):
    """A partner company in the programme."""

    Status = PartnerStatus
    DESCRIPTION_MAX_LENGTH = 300

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, validators=[validate_partner_slug])
    website = models.URLField(blank=True)
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[validate_country_code],
        help_text="Two-letter ISO 3166-1 code, for example DE or US.",
    )
    status = models.CharField(max_length=20, choices=PartnerStatus, default=PartnerStatus.APPLICANT)
    # Programme lifecycle (written only by partners.lifecycle.services):
    # the provisional deadline, the activation and the next re-review, the
    # state a suspension returns to and what caused it.
    provisional_deadline = models.DateTimeField(null=True, blank=True, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    rereview_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspended_from = models.CharField(max_length=20, blank=True, editable=False)
    suspension_cause = models.CharField(max_length=30, blank=True, editable=False)
    payments_account_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    payments_account_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Directory profile, edited by the partner's admins (partners.directory).
    logo = models.FileField(upload_to=partner_logo_upload_to, blank=True, max_length=100)
    description = models.CharField(
        max_length=DESCRIPTION_MAX_LENGTH,
        blank=True,
        help_text="A short description for the public directory.",
    )
    listed = models.BooleanField(
        default=True,
        help_text="Shown in the public directory while verified on a track.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PartnerStatus.values),
                name="partners_partner_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="suspended") | ~Q(suspended_from=""),
                name="partners_partner_suspension_returns_somewhere",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "provisional_deadline"], name="partners_partner_deadline"
            ),
            models.Index(fields=["status", "rereview_due_at"], name="partners_partner_rereview"),
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


# --- track status (the N-certified-individuals rule, verifications, milestones) ---


def default_counting_certifications() -> list[str]:
    return ["developer", "architect"]


class TrackRuleSetting(models.Model):
    """Per-track rule inputs staff may change without a deploy.

    `counting_certifications` lists certification slugs (certificates.Certification.slug).
    A track without a row uses the defaults (2 people, 60 days, developer+architect).
    """

    track = models.CharField(max_length=30, choices=Track, unique=True)
    required = models.PositiveSmallIntegerField(
        default=2, help_text="Certified individuals a partner needs on this track."
    )
    grace_days = models.PositiveSmallIntegerField(
        default=60, help_text="Days a track stays verified (at risk) after the count drops."
    )
    counting_certifications = models.JSONField(
        default=default_counting_certifications,
        help_text='Certification slugs that count, e.g. ["developer"].',
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["track"]
        constraints = [
            models.CheckConstraint(
                condition=Q(track__in=Track.values),
                name="partners_trackrulesetting_track_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Rule for {self.get_track_display()}"


class VerificationStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class TechnicalVerification(models.Model):
    """A technical verification decision for one partner and track.

    History: rows are never updated in place; the latest decision (by
    `decided_on`, then recording order) is the one that counts.
    """

    Status = VerificationStatus

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="technical_verifications"
    )
    track = models.CharField(max_length=30, choices=Track)
    status = models.CharField(max_length=10, choices=VerificationStatus)
    decided_on = models.DateField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "track", "-decided_on", "-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=VerificationStatus.values),
                name="partners_technicalverification_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(track__in=Track.values),
                name="partners_technicalverification_track_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "track", "decided_on"], name="partners_tv_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} – {self.get_track_display()}: {self.status} ({self.decided_on})"


class TrackState(models.TextChoices):
    VERIFIED = "verified", "Verified"
    AT_RISK = "at_risk", "At risk"
    NOT_VERIFIED = "not_verified", "Not verified"


class AppMilestone(models.TextChoices):
    NONE = "", "None"
    BUILD = "build", "Build"
    GROWTH = "growth", "Growth"


class TrackStatusRecord(models.Model):
    """The current computed status of one partner's track (one row per pair).

    Written only by `partners.status.services.partner_status_recompute`; a cache of
    `partners.rollup.track_status`, never edited by hand.
    """

    State = TrackState

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="track_statuses")
    track = models.CharField(max_length=30, choices=Track)
    state = models.CharField(max_length=20, choices=TrackState)
    verified = models.BooleanField(default=False)
    certified_individuals = models.PositiveIntegerField(default=0)
    required = models.PositiveSmallIntegerField(default=2)
    technical_verification = models.CharField(max_length=10, default="missing")
    at_risk_until = models.DateTimeField(null=True, blank=True)
    lapses_on = models.DateTimeField(null=True, blank=True)
    below_required_since = models.DateTimeField(null=True, blank=True)
    # [{"person": id, "counts_until": iso, "ends_by": "expiry"|...}], earliest first
    renewals_that_matter = models.JSONField(default=list, blank=True)
    milestone = models.CharField(max_length=10, choices=AppMilestone, blank=True, default="")
    reason = models.CharField(max_length=40, blank=True)
    explanation = models.TextField(blank=True)
    computed_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["partner", "track"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "track"], name="partners_trackstatusrecord_one_per_track"
            ),
            models.CheckConstraint(
                condition=Q(state__in=TrackState.values),
                name="partners_trackstatusrecord_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} – {self.get_track_display()}: {self.state}"


class TrackStatusChange(models.Model):
    """History: one row per change of a track's state or apps milestone."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="track_status_changes"
    )
    track = models.CharField(max_length=30, choices=Track)
    from_state = models.CharField(max_length=20, blank=True)  # "" = first computation
    to_state = models.CharField(max_length=20, choices=TrackState)
    from_milestone = models.CharField(max_length=10, blank=True, default="")
    to_milestone = models.CharField(max_length=10, blank=True, default="")
    reason = models.CharField(max_length=40, blank=True)
    explanation = models.TextField(blank=True)
    at = models.DateTimeField()
    # When the partner's admins were e-mailed about it (claimed before sending,
    # so a retried job mails nobody twice); empty when nobody was told.
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["partner", "track", "at"], name="partners_tsc_history"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} – {self.track}: {self.from_state or '∅'} → {self.to_state}"


class AppMilestoneFigure(models.Model):
    """Apps-track figures recorded by staff (history kept; the latest counts)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="app_figures")
    installs = models.PositiveBigIntegerField(default=0)
    payment_volume_usd = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    app_review_passed = models.BooleanField(default=False)
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "-recorded_on", "-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(installs__gte=0) & Q(payment_volume_usd__gte=0),
                name="partners_appmilestonefigure_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "recorded_on"], name="partners_amf_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.partner}: {self.installs} installs, {self.payment_volume_usd} USD"


# --- applications, the partner agreement, invitations ------------------------


class PartnerAgreement(models.Model):
    """One version of the partner agreement. The current one is the latest
    whose `effective_from` has passed; applicants accept that one."""

    version = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=200, default="Partner Programme Agreement")
    text = models.TextField(blank=True)
    url = models.URLField(blank=True)
    effective_from = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from", "-pk"]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class AgreementAcceptance(models.Model):
    """Who accepted which agreement version for which partner, and when (kept)."""

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="agreement_acceptances"
    )
    agreement = models.ForeignKey(
        PartnerAgreement, on_delete=models.PROTECT, related_name="acceptances"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField()

    class Meta:
        ordering = ["-accepted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "agreement"], name="partners_agreementacceptance_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} accepted v{self.agreement.version}"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class PartnerApplication(models.Model):
    """A company's application to the programme and the staff decision on it."""

    Status = ApplicationStatus

    partner = models.OneToOneField(Partner, on_delete=models.PROTECT, related_name="application")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="partner_applications"
    )
    tracks = models.JSONField(default=list, help_text="Tracks chosen when applying.")
    agreement_acceptance = models.ForeignKey(
        AgreementAcceptance, on_delete=models.PROTECT, related_name="+"
    )
    restricted_business_attested_at = models.DateTimeField()
    embedded_payments_attested_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ApplicationStatus, default=ApplicationStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    rejection_reason = models.TextField(blank=True)
    provisional_deadline = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values),
                name="partners_partnerapplication_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="partners_partnerapplication_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(provisional_deadline__isnull=False),
                name="partners_partnerapplication_approval_has_deadline",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="partners_partnerapplication_decision_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "provisional_deadline"], name="partners_app_deadline"),
        ]

    def __str__(self) -> str:
        return f"Application of {self.partner} ({self.status})"


class Invitation(models.Model):
    """An e-mailed, single-use invitation to join a partner.

    Only a hash of the token is stored. Open while neither accepted nor
    revoked and not past `expires_at`.
    """

    Role = MembershipRole

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField(max_length=254)  # stored lower-cased
    role = models.CharField(max_length=20, choices=MembershipRole, default=MembershipRole.EMPLOYEE)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One open invitation per partner and address; an expired one is
            # closed (revoked as superseded) before a new one is created.
            models.UniqueConstraint(
                fields=["partner", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="partners_invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="partners_invitation_not_accepted_and_revoked",
            ),
            models.CheckConstraint(
                condition=Q(role__in=MembershipRole.values),
                name="partners_invitation_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")),
                name="partners_invitation_expires_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.partner}"

    def state_at(self, now) -> str:
        """One of accepted, revoked, expired or open (for display)."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "open"


# Some features keep their tables in their feature package; importing them
# here registers them with the partners app (and its migrations).
from .api_keys.models import ApiKey, ApiKeyScope  # noqa: E402, F401
from .downloads.models import (  # noqa: E402, F401
    BundleStatus,
    CertificateBundle,
    certificate_bundle_upload_to,  # named by a migration
)
from .lifecycle.models import (  # noqa: E402, F401
    DeadlineKind,
    PartnerDeadlineReminder,
    PartnerReReview,
    PartnerStatusChange,
)
from .webhooks.models import (  # noqa: E402, F401
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
