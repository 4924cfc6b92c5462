"""Webhook workflows: endpoints, recording events, delivering them.

Contract:
- `endpoint_create(*, partner, url, events, description="", by=None, now=None)`
  -> `(endpoint, secret)`: the secret (`whsec_…`) is returned this once and
  stored encrypted. 422 `invalid_url` (not http(s), credentials in it),
  `https_required` and `address_refused` (production rules, see
  `partners.webhooks.transport`), `unknown_event`, `events_required`; 409
  `too_many_endpoints` (WEBHOOKS_MAX_ENDPOINTS) and `partner_terminated`.
- `endpoint_update(*, endpoint, events=None, enabled=None, description=None,
  rotate_secret=False, now=None)` -> `(endpoint, new_secret | None)`. Rotating
  keeps the old secret signing alongside the new one for
  `ROTATION_OVERLAP` (24 h). Enabling clears `failing_since` and the
  disabled marks.
- `endpoint_delete(*, endpoint)`: the endpoint, its deliveries and nothing else.
- `events_record(*, partner_id, type, data, now)` and `events_record_many(*,
  items, now)`: one event per item for a partner with at least one enabled
  endpoint subscribed to that type, and one delivery per such endpoint, in the
  caller's transaction (the receivers call them from signals sent inside the
  change's transaction, so the change and its deliveries commit together);
  after commit each delivery is queued (django-q2). Nothing when no endpoint
  listens. A fixed number of queries per call, whatever the number of items.
- `delivery_attempt(*, delivery_id, now=None)` -> "delivered" | "retry" |
  "failed" | "skipped". Claims the delivery (conditional UPDATE: pending, due,
  lease free) so two workers never send it at once, signs and sends it,
  records the outcome. A failure schedules the next attempt `BACKOFF[n-1]`
  after this one (5 s, 5 min, 30 min, 2 h, 5 h, 10 h), then marks it failed;
  every attempt carries the event's id. An endpoint that has been failing for
  `DISABLE_AFTER` (3 days) is disabled and the partner admins are e-mailed.
- `deliveries_sweep(*, now=None)` -> count: queues pending deliveries overdue
  by `SWEEP_GRACE` whose lease ran out (a worker killed mid-send, a broker
  that lost its queue). Run every minute by django-q2.
- `delivery_retry(*, delivery, now=None)`: send again from the start of the
  schedule; 409 `delivery_in_progress`, `endpoint_disabled`.
- `endpoint_ping(*, endpoint, now=None)` -> delivery of a `ping` event to
  this endpoint only; 409 `endpoint_disabled`.
"""

from __future__ import annotations

import json
import logging
import secrets as random
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from lms.errors import Conflict, DomainError
from lms.timezones import mail_per_zone

from ..membership.selectors import partner_admins_current
from ..models import DeliveryStatus, Partner, WebhookDelivery, WebhookEndpoint, WebhookEvent
from . import crypto, events, signing, transport

logger = logging.getLogger(__name__)

DELIVER_TASK = "partners.webhooks.tasks.deliver"
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
ROTATION_OVERLAP = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=3)
# A claim outlives the longest send (the timeout) with room to spare; after it
# the delivery is free again (its sender is presumed dead).
LEASE_MARGIN = timedelta(seconds=50)
SWEEP_GRACE = timedelta(minutes=1)
SWEEP_BATCH = 5000
TERMINATED = "terminated"
DISABLED_FAILING = "failing"
DISABLED_BY_ADMIN = "by_admin"
DISABLED_TERMINATED = "partner_terminated"
MAX_DESCRIPTION = 500
MAX_URL = 2000


class InvalidWebhook(DomainError):
    status = 422
    code = "invalid_url"


class UnknownEvent(DomainError):
    status = 422
    code = "unknown_event"


class EndpointDisabled(Conflict):
    code = "endpoint_disabled"


class DeliveryInProgress(Conflict):
    code = "delivery_in_progress"


# --- guards -------------------------------------------------------------------


def check_url(url: str) -> str:
    """The URL if webhooks may be sent to it under the current settings."""
    url = (url or "").strip()
    if not url or len(url) > MAX_URL:
        raise InvalidWebhook(f"Give an http:// or https:// URL of at most {MAX_URL} characters.")
    try:
        target = transport.parse(url, require_https=settings.WEBHOOKS_REQUIRE_HTTPS)
        if not settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS:
            transport.resolve_checked(target, allow_private=False)
    except transport.Refused as refused:
        raise InvalidWebhook(str(refused), code=refused.code) from None
    return url


def check_events(names: Iterable[str] | None) -> list[str]:
    names = list(dict.fromkeys(names or ()))
    if not names:
        raise DomainError(
            "Subscribe to at least one event type.", code="events_required", status=422
        )
    unknown = [n for n in names if n not in events.EVENT_TYPES]
    if unknown:
        raise UnknownEvent(
            f"Unknown event type(s): {', '.join(map(repr, unknown))}; "
            f"use: {', '.join(events.EVENT_TYPES)}."
        )
    return [n for n in events.EVENT_TYPES if n in names]  # the documented order


def check_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(
            f"The description is longer than {MAX_DESCRIPTION} characters.",
            code="description_too_long",
            status=422,
        )
    return description


def check_not_terminated(partner: Partner) -> None:
    if partner.status == TERMINATED:
        raise Conflict(
            "This partner's membership of the programme was terminated; "
            "its webhooks stay disabled.",
            code="partner_terminated",
        )


# --- endpoints ----------------------------------------------------------------


@transaction.atomic
def endpoint_create(
    *,
    partner: Partner,
    url: str,
    events: Iterable[str],
    description: str = "",
    by=None,
    now: datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    now = now or timezone.now()
    url = check_url(url)
    names = check_events(events)
    description = check_description(description)
    check_not_terminated(partner)
    # Count under the partner's row lock: two parallel creates cannot both pass.
    Partner.objects.select_for_update().filter(pk=partner.pk).values_list("pk").first()
    if WebhookEndpoint.objects.filter(partner=partner).count() >= settings.WEBHOOKS_MAX_ENDPOINTS:
        raise Conflict(
            f"A partner has at most {settings.WEBHOOKS_MAX_ENDPOINTS} webhook endpoints; "
            "delete one first.",
            code="too_many_endpoints",
        )
    secret = signing.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        partner=partner,
        url=url,
        events=names,
        description=description,
        secret_encrypted=crypto.encrypt(secret),
        created_by=by if getattr(by, "pk", None) else None,
        created_at=now,
        updated_at=now,
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    events: Iterable[str] | None = None,
    enabled: bool | None = None,
    description: str | None = None,
    rotate_secret: bool = False,
    now: datetime | None = None,
) -> tuple[WebhookEndpoint, str | None]:
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    changed: dict = {}
    if events is not None:
        changed["events"] = check_events(events)
    if description is not None:
        changed["description"] = check_description(description)
    if enabled is True and not endpoint.enabled:
        check_not_terminated(endpoint.partner)
        changed.update(enabled=True, disabled_at=None, disabled_reason="", failing_since=None)
    elif enabled is False and endpoint.enabled:
        changed.update(enabled=False, disabled_at=now, disabled_reason=DISABLED_BY_ADMIN)
    new_secret = None
    if rotate_secret:
        new_secret = signing.new_secret()
        changed.update(
            secret_encrypted=crypto.encrypt(new_secret),
            previous_secret_encrypted=endpoint.secret_encrypted,
            previous_secret_expires_at=now + ROTATION_OVERLAP,
        )
    if changed:
        changed["updated_at"] = now
        for name, value in changed.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=list(changed))
    return endpoint, new_secret


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    WebhookDelivery.objects.filter(endpoint=endpoint).delete()
    endpoint.delete()


def endpoints_disable_for_partner(*, partner_id: int, reason: str, now: datetime) -> int:
    return WebhookEndpoint.objects.filter(partner_id=partner_id, enabled=True).update(
        enabled=False, disabled_at=now, disabled_reason=reason, updated_at=now
    )


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during a rotation."""
    found = [crypto.decrypt(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now
    ):
        found.append(crypto.decrypt(endpoint.previous_secret_encrypted))
    return found


# --- recording events -------------------------------------------------------------


def new_event_id() -> str:
    return "evt_" + random.token_urlsafe(18)


def _queue(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return

    def run():
        from django_q.tasks import async_task

        for pk in delivery_ids:
            async_task(DELIVER_TASK, pk, task_name=f"webhook-delivery-{pk}")

    transaction.on_commit(run)


def events_record_many(
    *, items: Iterable[tuple[int, str, dict]], now: datetime
) -> list[WebhookEvent]:
    """Record `(partner_id, type, data)` items and their deliveries (see the contract)."""
    items = list(items)
    if not items:
        return []
    listening: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(
        partner_id__in={pid for pid, _, _ in items}, enabled=True
    ).only("pk", "partner_id", "events"):
        listening[endpoint.partner_id].append(endpoint)
    recorded: list[tuple[WebhookEvent, list[WebhookEndpoint]]] = []
    for partner_id, type_, data in items:
        targets = [e for e in listening.get(partner_id, ()) if type_ in (e.events or ())]
        if targets:
            event = WebhookEvent(
                public_id=new_event_id(),
                partner_id=partner_id,
                type=type_,
                created_at=now,
                data=data,
            )
            recorded.append((event, targets))
    if not recorded:
        return []
    created = WebhookEvent.objects.bulk_create([event for event, _ in recorded], batch_size=500)
    if created and created[0].pk is None:  # backends that do not return ids
        ids = dict(
            WebhookEvent.objects.filter(public_id__in=[e.public_id for e in created]).values_list(
                "public_id", "pk"
            )
        )
        for event in created:
            event.pk = ids[event.public_id]
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now, created_at=now)
            for event, targets in recorded
            for endpoint in targets
        ],
        batch_size=500,
    )
    delivery_ids = [d.pk for d in deliveries]
    if delivery_ids and delivery_ids[0] is None:
        delivery_ids = list(
            WebhookDelivery.objects.filter(event__in=created).values_list("pk", flat=True)
        )
    _queue(delivery_ids)
    return created


def events_record(
    *, partner_id: int, type: str, data: dict, now: datetime | None = None
) -> WebhookEvent | None:
    recorded = events_record_many(items=[(partner_id, type, data)], now=now or timezone.now())
    return recorded[0] if recorded else None


@transaction.atomic
def endpoint_ping(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> WebhookDelivery:
    now = now or timezone.now()
    if not endpoint.enabled:
        raise EndpointDisabled("This endpoint is disabled; enable it to send a test event.")
    event = WebhookEvent.objects.create(
        public_id=new_event_id(),
        partner_id=endpoint.partner_id,
        type=events.PING,
        created_at=now,
        data={"endpoint_id": endpoint.pk},
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, next_attempt_at=now, created_at=now
    )
    _queue([delivery.pk])
    return delivery


@transaction.atomic
def delivery_retry(*, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    now = now or timezone.now()
    if not delivery.endpoint.enabled:
        raise EndpointDisabled("This endpoint is disabled; enable it to redeliver.")
    reset = (
        WebhookDelivery.objects.filter(pk=delivery.pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            claimed_until=None,
            delivered_at=None,
            failed_at=None,
        )
    )
    if not reset:
        raise DeliveryInProgress("This delivery is being sent right now; try again in a minute.")
    _queue([delivery.pk])
    delivery.refresh_from_db()
    return delivery


# --- delivering ----------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> datetime | None:
    """Claim a due delivery; the lease's end when this caller won it."""
    lease = now + timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS) + LEASE_MARGIN
    won = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=lease, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    return lease if won else None


def _sendable(delivery: WebhookDelivery) -> bool:
    endpoint = delivery.endpoint
    if endpoint.enabled:
        return True
    # A terminated partner still hears of the termination itself.
    return (
        endpoint.disabled_reason == DISABLED_TERMINATED
        and endpoint.disabled_at is not None
        and delivery.event.created_at <= endpoint.disabled_at
    )


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str:
    """Send one delivery if it is due and free (see the contract)."""
    now = now or timezone.now()
    lease = _claim(delivery_id, now)
    if lease is None:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    mine = WebhookDelivery.objects.filter(pk=delivery_id, claimed_until=lease)
    if not _sendable(delivery):
        mine.update(
            status=DeliveryStatus.FAILED,
            failed_at=now,
            next_attempt_at=None,
            claimed_until=None,
            last_error="endpoint disabled",
        )
        return "failed"
    event = delivery.event
    body = json.dumps(event.payload(), separators=(",", ":"), sort_keys=True).encode()
    headers = signing.headers(
        secrets_=signing_secrets(delivery.endpoint, now),
        msg_id=event.public_id,
        timestamp=int(now.timestamp()),
        body=body,
    )
    outcome = transport.post(
        delivery.endpoint.url,
        body,
        headers,
        timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS,
        require_https=settings.WEBHOOKS_REQUIRE_HTTPS,
    )
    return _record_outcome(delivery, outcome, lease=lease, now=now)


@transaction.atomic
def _record_outcome(
    delivery: WebhookDelivery, outcome: transport.Outcome, *, lease: datetime, now: datetime
) -> str:
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claimed_until=lease)
    endpoint_id = delivery.endpoint_id
    common = {
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error[:500],
        "latency_ms": outcome.latency_ms,
    }
    if outcome.delivered:
        mine.update(
            status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None, **common
        )
        if delivery.endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint_id).update(failing_since=None)
        return "delivered"
    attempts = WebhookDelivery.objects.filter(pk=delivery.pk).values_list("attempts", flat=True)
    done = attempts.first() or MAX_ATTEMPTS
    if done >= MAX_ATTEMPTS:
        mine.update(status=DeliveryStatus.FAILED, failed_at=now, next_attempt_at=None, **common)
        result = "failed"
    else:
        next_at = now + BACKOFF[done - 1]
        if mine.update(next_attempt_at=next_at, **common):
            transaction.on_commit(lambda: _schedule(delivery.pk, next_at))
        result = "retry"
    _note_endpoint_failure(endpoint_id, now)
    return result


def _schedule(delivery_id: int, at: datetime) -> None:
    """The next attempt as a one-off django-q2 schedule (a database row: it survives
    a broker restart; the sweep covers the rest)."""
    from django_q.models import Schedule
    from django_q.tasks import schedule

    schedule(DELIVER_TASK, delivery_id, schedule_type=Schedule.ONCE, next_run=at, repeats=-1)


def _note_endpoint_failure(endpoint_id: int, now: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint_id, enabled=True, failing_since__lte=now - DISABLE_AFTER
    ).update(enabled=False, disabled_at=now, disabled_reason=DISABLED_FAILING, updated_at=now)
    if disabled:
        transaction.on_commit(lambda: _mail_disabled(endpoint_id))


def _mail_disabled(endpoint_id: int) -> int:
    endpoint = WebhookEndpoint.objects.select_related("partner").get(pk=endpoint_id)
    admins = [m.person for m in partner_admins_current(endpoint.partner)]
    if not admins:
        return 0
    context = {"endpoint": endpoint, "partner": endpoint.partner, "site_url": settings.SITE_URL}
    for recipients, body in mail_per_zone(
        admins, lambda: render_to_string("partners/email/webhook_disabled.txt", context)
    ):
        send_mail(
            f"{endpoint.partner.name}: webhook endpoint disabled after failing for 3 days",
            body,
            None,
            recipients,
        )
    return len(admins)


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Queue pending deliveries that are overdue and not being sent (see the contract)."""
    from django_q.tasks import async_task

    now = now or timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now - SWEEP_GRACE
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for pk in due:
        async_task(DELIVER_TASK, pk, task_name=f"webhook-delivery-{pk}")
    if due:
        logger.info("Webhook sweep queued %s overdue deliveries", len(due))
    return len(due)
