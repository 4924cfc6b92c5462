import pytest
from django.db import OperationalError

from lms import health
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db

PUBLIC = "203.0.113.9"  # a client on the internet
PROXY = "10.0.0.2"  # our load balancer


def get(client, **meta):
    meta.setdefault("REMOTE_ADDR", PUBLIC)
    return client.get("/healthz", **meta)


@pytest.fixture
def database_down(monkeypatch):
    def broken_cursor():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)


def test_the_public_learns_only_that_the_site_is_up(client, django_assert_num_queries):
    with django_assert_num_queries(1):  # the database check, nothing else
        response = get(client)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_the_public_learns_only_that_the_site_is_down(client, database_down):
    response = get(client)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_a_signed_in_person_who_is_not_staff_gets_no_details(client):
    client.force_login(UserFactory())
    assert get(client).json() == {"status": "ok"}


def test_staff_get_database_queue_and_cache(client):
    client.force_login(UserFactory(is_staff=True))
    body = get(client).json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["vendor"] in {"sqlite", "postgresql"}
    assert body["queue"] == {"status": "ok", "broker": "orm", "pending": 0}
    assert body["cache"]["status"] == "ok"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_a_client_on_this_machine_gets_the_details(client, address):
    body = get(client, REMOTE_ADDR=address).json()
    assert body["status"] == "ok"
    assert {"database", "queue", "cache"} <= body.keys()


def test_a_forged_forwarded_for_gets_no_details_without_trusted_proxies(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    response = get(client, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.json() == {"status": "ok"}


def test_behind_our_proxy_the_address_it_saw_decides(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "127.0.0.1"; our proxy appended the address it really saw.
    forged = get(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"127.0.0.1, {PUBLIC}")
    assert forged.json() == {"status": "ok"}
    # A probe from the proxy's own machine.
    local = get(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert local.json()["cache"]["status"] == "ok"


def test_a_garbled_forwarded_for_gets_no_details(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    response = get(client, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="localhost")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_details_say_the_database_is_degraded_when_it_is_down(client, database_down):
    response = get(client, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["status"] == "degraded"
    assert body["queue"]["status"] == "degraded"


def test_redis_down_degrades_the_cache_but_the_site_is_ok(client, settings):
    # Nothing listens on port 1: every cache call fails to connect.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = get(client, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["cache"] == {"status": "degraded", "backend": "RedisCache"}
    assert body["database"]["status"] == "ok"
    # The public answer does not touch the cache at all.
    assert get(client).json() == {"status": "ok"}


def test_a_cache_that_loses_what_it_was_given_is_degraded(client, monkeypatch):
    from django.core.cache import caches

    monkeypatch.setattr(caches["default"], "get", lambda key, default=None: None)
    assert get(client, REMOTE_ADDR="127.0.0.1").json()["cache"]["status"] == "degraded"


def test_queue_trouble_is_reported_but_the_site_is_ok(client, monkeypatch):
    from django_q.brokers.orm import ORM

    def unreachable(self):
        raise ConnectionError("broker down")

    monkeypatch.setattr(ORM, "ping", unreachable)
    response = get(client, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response.json()["queue"] == {"status": "degraded", "broker": None, "pending": None}


def test_details_count_pending_jobs(client, monkeypatch):
    from django_q.brokers.orm import ORM

    monkeypatch.setattr(ORM, "queue_size", lambda self: 3)
    assert get(client, REMOTE_ADDR="127.0.0.1").json()["queue"]["pending"] == 3


def test_healthz_refuses_post(client):
    assert client.post("/healthz", REMOTE_ADDR=PUBLIC).status_code == 405
