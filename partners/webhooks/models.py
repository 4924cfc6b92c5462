"""Webhook tables: endpoints a partner registers, events, one delivery per (event, endpoint).

Imported by `partners.models` (Django finds an app's models there), so they
belong to the partners app and its migrations.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookEndpoint(models.Model):
    """A URL of the partner's that receives signed events of the types it subscribed to.

    The signing secret is kept encrypted (`partners.webhooks.crypto`): HMAC needs
    the secret itself, so it cannot be hashed like a token. During a rotation the
    previous secret signs alongside the new one until `previous_secret_expires_at`.
    """

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["partner", "created_at"], name="partners_webhook_partner")]

    def __str__(self) -> str:
        return f"{self.url} ({self.partner})"


class WebhookEvent(models.Model):
    """Something that happened to a partner, as sent: `{id, type, created_at, data}`.

    `public_id` (`evt_…`) is the `webhook-id` of every delivery of it, retries included.
    """

    public_id = models.CharField(max_length=40, unique=True)
    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.CASCADE, related_name="webhook_events"
    )
    type = models.CharField(max_length=40)
    created_at = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"

    def payload(self) -> dict:
        return {
            "id": self.public_id,
            "type": self.type,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }


class WebhookDelivery(models.Model):
    """One event for one endpoint, until it is delivered or has failed for good.

    A sender claims it with a conditional UPDATE (`claimed_until`, a lease), so
    two workers never send it at the same time; a lease that runs out (a worker
    killed mid-send) lets the sweep hand it out again.
    """

    Status = DeliveryStatus

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="partners_webhookdelivery_once_per_endpoint"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="partners_webhookdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="pending") | Q(next_attempt_at__isnull=False),
                name="partners_webhookdelivery_pending_has_next_attempt",
            ),
        ]
        indexes = [
            # The sweep: pending deliveries by when they are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="partners_webhookdelivery_due",
            ),
            models.Index(fields=["endpoint", "created_at"], name="partners_webhookdelivery_list"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"
