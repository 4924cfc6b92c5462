"""Parallel senders of one delivery on PostgreSQL: exactly one request goes out."""

import threading

import pytest
from django.db import connection

from partners.models import WebhookDelivery
from partners.webhooks import services
from tests.partners import webhook_receiver

from .factories import PartnerFactory

THREADS = 8

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_send_a_delivery_once(monkeypatch):
    # Autocommit here: the queued job would run (sync) before the threads start.
    monkeypatch.setattr(services, "_queue", lambda delivery_ids: None)
    receiver = webhook_receiver.start()
    try:
        partner = PartnerFactory()
        services.endpoint_create(partner=partner, url=receiver.url, events=["member.joined"])
        event = services.events_record(partner_id=partner.pk, type="member.joined", data={})
        delivery = WebhookDelivery.objects.get(event=event)
        start_together = threading.Barrier(THREADS)
        outcomes: list[str] = []
        lock = threading.Lock()

        def worker():
            try:
                start_together.wait(timeout=10)
                outcome = services.delivery_attempt(delivery_id=delivery.pk)
            except Exception as error:  # surfaced by the assertion below
                outcome = repr(error)
            finally:
                connection.close()
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["delivered"] + ["skipped"] * (THREADS - 1)
        assert len(receiver.received) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("delivered", 1)
    finally:
        webhook_receiver.stop(receiver)
