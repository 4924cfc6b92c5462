"""Real parallel use of one company API key on PostgreSQL."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from partners.api_keys import services
from partners.models import ApiKey
from tests.partners.portal_factories import partner_with_admin

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

THREADS = 8


def _in_parallel(work) -> list:
    start_together = threading.Barrier(THREADS)
    results: list = []
    record = threading.Lock()

    def run(n):
        try:
            start_together.wait(timeout=10)
            result = work(n)
        finally:
            connection.close()
        with record:
            results.append(result)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_parallel_uses_of_one_key_record_last_used_once():
    partner, admin = partner_with_admin(slug="northwind")
    key, _ = services.api_key_create(
        partner=partner, name="sync", scopes=["partner:read"], created_by=admin
    )
    now = timezone.now()

    def touch(n):
        fresh = ApiKey.objects.get(pk=key.pk)  # each request reads last_used_at = None
        return services.api_key_touch(key=fresh, now=now)

    assert sorted(_in_parallel(touch)) == [False] * (THREADS - 1) + [True]
    key.refresh_from_db()
    assert key.last_used_at == now


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_with_one_key_all_succeed():
    partner, admin = partner_with_admin(slug="northwind")
    _, secret = services.api_key_create(
        partner=partner, name="sync", scopes=["partner:read"], created_by=admin
    )

    def call(n):
        response = Client().get(
            "/api/v1/partners/northwind/members", headers={"Authorization": f"Bearer {secret}"}
        )
        return response.status_code

    assert _in_parallel(call) == [200] * THREADS
    assert ApiKey.objects.get().last_used_at is not None
