"""Reads for the webhook API and pages; each list is one query per page.

- `endpoints_for(partner)`: the partner's endpoints, oldest first.
- `deliveries_for(endpoint, status=None, event_type=None)`: its deliveries with
  their event (one join), newest first; `status` one of pending, delivered, failed.
"""

from django.db.models import QuerySet

from ..models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

ENDPOINT_ORDER = ("created_at", "id")
DELIVERY_ORDER = ("-created_at", "-id")


def endpoints_for(partner) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(partner=partner)


def endpoint_get(partner, endpoint_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(partner=partner, pk=endpoint_id).first()


def deliveries_for(
    endpoint: WebhookEndpoint, *, status: str | None = None, event_type: str | None = None
) -> QuerySet[WebhookDelivery]:
    rows = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")
    if status:
        rows = rows.filter(status=status)
    if event_type:
        rows = rows.filter(event__type=event_type)
    return rows


def delivery_get(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint, pk=delivery_id)
        .select_related("event", "endpoint")
        .first()
    )


STATUSES = tuple(DeliveryStatus.values)
