"""API key tables: a partner's company keys and the scopes they carry.

Imported by `partners.models` (Django finds an app's models there), so they
belong to the partners app and its migrations.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class ApiKeyScope(models.TextChoices):
    PARTNER_READ = "partner:read", "Read the partner's status and members"
    CERTIFICATES_READ = "certificates:read", "Download certificates (PDFs and the zip)"
    MEMBERS_WRITE = "members:write", "Invite people and end memberships"


class ApiKey(models.Model):
    """A company API key: a partner's own systems calling the API as the partner.

    Only the SHA-256 of the secret is stored (`key_hash`); the secret is shown
    once, when the key is made. `prefix` (its first characters, `pak_…`) lets
    people tell keys apart. The key belongs to the partner, not to the person
    who made it (`created_by` is kept for the record). Workflows live in
    `partners.api_keys.services`.
    """

    Scope = ApiKeyScope

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="partners_apikey_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("created_at")),
                name="partners_apikey_expires_after_created",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.partner}"

    def state(self, now) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"
