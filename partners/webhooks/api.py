"""Partner webhooks JSON API (a ninja Router mounted by cms.api at /api/v1/).

Partner admins of that partner (session or personal token) and programme
staff; everyone else and unknown slugs or ids 404 `not_found`. A company API
key gets 403 `insufficient_scope`: managing webhooks needs a person.

- POST   /partners/{slug}/webhooks                 `{url, events, description?}` -> 201
                                                   `{id, url, events, description, enabled,
                                                   created_at, secret}`; the secret only here
- GET    /partners/{slug}/webhooks                 the endpoints (paginated, oldest first)
- GET    /partners/{slug}/webhooks/{id}            one endpoint
- PATCH  /partners/{slug}/webhooks/{id}            `{events?, enabled?, description?,
                                                   rotate_secret?}`; with `rotate_secret`
                                                   the answer carries the new `secret` (the old
                                                   one keeps signing for 24 hours)
- DELETE /partners/{slug}/webhooks/{id}            204
- GET    /partners/{slug}/webhooks/{id}/deliveries ?status=pending|delivered|failed
                                                   &event_type= (paginated, newest first)
- POST   /partners/{slug}/webhooks/{id}/deliveries/{delivery_id}/retry   202, sent again
- POST   /partners/{slug}/webhooks/{id}/test       202: a `ping` event to this endpoint

Errors: 422 `invalid_url`, `https_required`, `address_refused`,
`host_not_found`, `unknown_event`, `events_required`, `validation_error`; 409
`too_many_endpoints`, `endpoint_disabled`, `delivery_in_progress`,
`partner_terminated`; 400 `invalid_cursor`.
"""

from datetime import datetime
from typing import Literal

from django.utils.text import slugify
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from lms import permissions
from lms.errors import NotFound, PermissionDenied
from lms.pagination import PageParams, list_page, page_of, paginate

from ..models import Partner, WebhookDelivery, WebhookEndpoint
from . import events, selectors, services

router = Router(tags=["webhooks"])

MAX_ID = 2**63 - 1


class ErrorOut(Schema):
    detail: str
    code: str


class EndpointIn(Schema):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., max_length=services.MAX_URL)
    # Names are checked by the service (422 `unknown_event` names the bad ones).
    events: list[str] = Field(..., max_length=len(events.EVENT_TYPES) * 2)
    description: str = Field("", max_length=services.MAX_DESCRIPTION)


class EndpointPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    events: list[str] | None = Field(None, max_length=len(events.EVENT_TYPES) * 2)
    enabled: bool | None = None
    description: str | None = Field(None, max_length=services.MAX_DESCRIPTION)
    rotate_secret: bool = False


class EndpointOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    secret_rotating_until: datetime | None
    created_at: datetime


class EndpointWithSecretOut(EndpointOut):
    secret: str


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: datetime | None
    latency_ms: int | None
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None


class DeliveryFilters(Schema):
    status: Literal["pending", "delivered", "failed"] | None = None
    event_type: str | None = Field(None, max_length=40)


class PingOut(Schema):
    delivery_id: int
    event_id: str


def partner_for_webhooks(request, slug: str) -> Partner:
    """The partner whose webhooks the caller may manage (else 403 or 404)."""
    if getattr(request, "api_key", None) is not None:
        raise PermissionDenied(
            "Company API keys cannot manage webhooks; use a partner admin's sign-in or token.",
            code="insufficient_scope",
        )
    if len(slug) > 80 or slug != slugify(slug):
        raise NotFound("Not found.")
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.auth, "partner.manage_webhooks", partner):
        raise NotFound("Not found.")
    return partner


def _endpoint_or_404(partner: Partner, endpoint_id: int) -> WebhookEndpoint:
    endpoint = selectors.endpoint_get(partner, endpoint_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def endpoint_payload(endpoint: WebhookEndpoint, secret: str | None = None) -> dict:
    data = {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": list(endpoint.events or ()),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason or None,
        "failing_since": endpoint.failing_since,
        "secret_rotating_until": (
            endpoint.previous_secret_expires_at if endpoint.previous_secret_encrypted else None
        ),
        "created_at": endpoint.created_at,
    }
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_payload(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.pk,
        "event_id": delivery.event.public_id,
        "event_type": delivery.event.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at if delivery.status == "pending" else None,
        "latency_ms": delivery.latency_ms,
        "created_at": delivery.created_at,
        "delivered_at": delivery.delivered_at,
        "failed_at": delivery.failed_at,
    }


@router.post(
    "/partners/{slug}/webhooks",
    response={201: EndpointWithSecretOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Register a webhook endpoint (the signing secret is shown only in this answer)",
)
def webhook_create(request, slug: str, payload: EndpointIn):
    partner = partner_for_webhooks(request, slug)
    endpoint, secret = services.endpoint_create(
        partner=partner,
        url=payload.url,
        events=payload.events,
        description=payload.description,
        by=request.auth,
    )
    return Status(201, endpoint_payload(endpoint, secret))


@router.get(
    "/partners/{slug}/webhooks",
    response={200: page_of(EndpointOut), 403: ErrorOut, 404: ErrorOut},
    summary="The partner's webhook endpoints",
)
def webhook_list(request, slug: str, page: Query[PageParams]):
    partner = partner_for_webhooks(request, slug)
    rows, has_more = paginate(
        selectors.endpoints_for(partner), page, order=selectors.ENDPOINT_ORDER
    )
    return list_page([endpoint_payload(row) for row in rows], has_more)


@router.get(
    "/partners/{slug}/webhooks/{endpoint_id}",
    response={200: EndpointOut, 403: ErrorOut, 404: ErrorOut},
    summary="One webhook endpoint",
)
def webhook_get(request, slug: str, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    partner = partner_for_webhooks(request, slug)
    return endpoint_payload(_endpoint_or_404(partner, endpoint_id))


@router.patch(
    "/partners/{slug}/webhooks/{endpoint_id}",
    response={
        200: EndpointWithSecretOut | EndpointOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    summary="Change the events or enabled, or rotate the secret (24 h overlap)",
)
def webhook_update(
    request, slug: str, payload: EndpointPatch, endpoint_id: int = Path(..., ge=1, le=MAX_ID)
):
    partner = partner_for_webhooks(request, slug)
    endpoint = _endpoint_or_404(partner, endpoint_id)
    endpoint, secret = services.endpoint_update(
        endpoint=endpoint,
        events=payload.events,
        enabled=payload.enabled,
        description=payload.description,
        rotate_secret=payload.rotate_secret,
    )
    return endpoint_payload(endpoint, secret)


@router.delete(
    "/partners/{slug}/webhooks/{endpoint_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a webhook endpoint and its deliveries",
)
def webhook_delete(request, slug: str, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    partner = partner_for_webhooks(request, slug)
    services.endpoint_delete(endpoint=_endpoint_or_404(partner, endpoint_id))
    return Status(204, None)


@router.get(
    "/partners/{slug}/webhooks/{endpoint_id}/deliveries",
    response={200: page_of(DeliveryOut), 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Deliveries to one endpoint, newest first (filter by status or event type)",
)
def webhook_deliveries(
    request,
    slug: str,
    page: Query[PageParams],
    filters: Query[DeliveryFilters],
    endpoint_id: int = Path(..., ge=1, le=MAX_ID),
):
    partner = partner_for_webhooks(request, slug)
    endpoint = _endpoint_or_404(partner, endpoint_id)
    rows, has_more = paginate(
        selectors.deliveries_for(endpoint, status=filters.status, event_type=filters.event_type),
        page,
        order=selectors.DELIVERY_ORDER,
    )
    return list_page([delivery_payload(row) for row in rows], has_more)


@router.post(
    "/partners/{slug}/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry",
    response={202: DeliveryOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Send a delivery again (from the first attempt of the retry schedule)",
)
def webhook_delivery_retry(
    request,
    slug: str,
    endpoint_id: int = Path(..., ge=1, le=MAX_ID),
    delivery_id: int = Path(..., ge=1, le=MAX_ID),
):
    partner = partner_for_webhooks(request, slug)
    endpoint = _endpoint_or_404(partner, endpoint_id)
    delivery = selectors.delivery_get(endpoint, delivery_id)
    if delivery is None:
        raise NotFound("No such delivery.")
    delivery = services.delivery_retry(delivery=delivery)
    return Status(202, delivery_payload(selectors.delivery_get(endpoint, delivery.pk)))


@router.post(
    "/partners/{slug}/webhooks/{endpoint_id}/test",
    response={202: PingOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Send a `ping` event to this endpoint",
)
def webhook_test(request, slug: str, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    partner = partner_for_webhooks(request, slug)
    delivery = services.endpoint_ping(endpoint=_endpoint_or_404(partner, endpoint_id))
    return Status(202, {"delivery_id": delivery.pk, "event_id": delivery.event.public_id})
