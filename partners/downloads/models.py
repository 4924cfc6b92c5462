"""Download tables: a partner's zip of its members' certificates.

Imported by `partners.models` (Django finds an app's models there), so they
belong to the partners app and its migrations.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from certificates.storage import private_storage


def certificate_bundle_upload_to(instance, filename: str) -> str:
    # Unguessable name; the file is only ever served by a permission-checked view.
    return f"partner-bundles/{secrets.token_hex(16)}.zip"


class BundleStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class CertificateBundle(models.Model):
    """A zip of a partner's current members' active certificate PDFs.

    Built by `partners.downloads.tasks.build_bundle`; `done`/`total` are the
    progress. The zip is a snapshot of the moment `created_at`: a later
    credential or membership change makes it stale (see partners.downloads.services).
    """

    Status = BundleStatus

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, related_name="certificate_bundles"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(max_length=10, choices=BundleStatus, default=BundleStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.FileField(
        storage=private_storage,
        upload_to=certificate_bundle_upload_to,
        blank=True,
        max_length=200,
    )
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BundleStatus.values),
                name="partners_certificatebundle_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(done__lte=F("total")),
                name="partners_certificatebundle_done_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | (Q(finished_at__isnull=False) & ~Q(file="")),
                name="partners_certificatebundle_ready_has_file",
            ),
        ]
        indexes = [
            models.Index(fields=["partner", "created_at"], name="partners_bundle_latest"),
        ]

    def __str__(self) -> str:
        return f"Certificates of {self.partner} ({self.status}, {self.done}/{self.total})"
