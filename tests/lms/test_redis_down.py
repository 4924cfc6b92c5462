"""Redis stops: the site keeps serving, sessions and cache fall back to the
database, after-commit work waits in the outbox, and /healthz says so.

"Redis down" is a real Redis client pointed at a loopback port nothing
listens on (connection refused), as the settings build it from REDIS_URL.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import transaction
from django.urls import reverse

from lms import cache as lms_cache
from lms.models import OutboxTask
from lms.outbox import SEND_EMAIL, outbox_enqueue, outbox_sweep
from tests import ports
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory

ROOT = Path(django_settings.BASE_DIR)
PORTS = range(8240, 8260)


def closed_port() -> int:
    """A loopback port with nothing listening on it (connecting is refused)."""
    return ports.free_port(PORTS)


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def resilient_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "lms.cache.ResilientRedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 5},
        }
    }


@pytest.fixture(autouse=True)
def _forget_outages():
    lms_cache._outages.clear()
    yield
    lms_cache._outages.clear()


@pytest.fixture
def redis_down(settings):
    """The settings REDIS_URL builds, with Redis unreachable."""
    url = redis_url(closed_port())
    settings.CACHES = resilient_cache(url)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return url


@pytest.fixture
def queue_down(monkeypatch, settings, redis_down):
    """django-q2's own Redis broker, pointed at the unreachable Redis."""
    import django_q.tasks
    import redis
    from django_q.brokers.redis_broker import Redis

    class UnreachableRedis(Redis):
        @staticmethod
        def get_connection(list_key=None):
            return redis.from_url(redis_down + "?socket_connect_timeout=1&socket_timeout=5")

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    broker = UnreachableRedis()
    monkeypatch.setattr(django_q.tasks, "get_broker", lambda *args, **kwargs: broker)
    monkeypatch.setattr("lms.health._broker", broker)
    return broker


# --- the cache ------------------------------------------------------------------------------


def test_every_cache_call_degrades_instead_of_raising(redis_down):
    cache = caches["default"]
    assert cache.get("k") is None
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("k") is False
    assert cache.add("k", 1) is False
    cache.set("k", 1)
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.touch("k") is False
    assert cache.delete("k") is False
    cache.delete_many(["a", "b"])
    with pytest.raises(ValueError):
        cache.incr("k")
    assert cache.get_or_set("k", 3) == 3
    assert cache.available is False


def test_after_one_failure_redis_is_left_alone_for_a_few_seconds(redis_down, monkeypatch):
    from django.core.cache.backends.redis import RedisCacheClient

    cache = caches["default"]
    assert cache.get("k") is None  # one connection attempt: refused
    calls = []
    monkeypatch.setattr(RedisCacheClient, "get", lambda *a: calls.append(a))
    for _ in range(5):
        assert cache.get("k") is None
    assert calls == []  # no further attempt during RETRY_AFTER


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_writes_lost_during_an_outage_are_deleted_when_redis_is_back(settings, tmp_path):
    """A session signed out (or a generation moved) while Redis was down must
    not come back from the copy Redis kept."""
    port = closed_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        settings.CACHES = resilient_cache(redis_url(port))
        cache = caches["default"]
        deadline = time.monotonic() + 10
        while cache.get("ready") is None and time.monotonic() < deadline:
            cache.set("ready", 1)
            lms_cache._outages.clear()
            cache = caches["default"]
            time.sleep(0.05)
        cache.set("session", "signed in")
        cache.set("other", "kept")
        assert cache.get("session") == "signed in"

        # Redis stops answering this process (as when it is restarted with
        # its data, or a network blip): the sign-out's delete is lost.
        from django.core.cache.backends.redis import RedisCacheClient
        from redis.exceptions import ConnectionError as RedisConnectionError

        real_delete = RedisCacheClient.delete

        def refused(self, key):
            raise RedisConnectionError("Connection refused")

        RedisCacheClient.delete = refused
        try:
            assert cache.delete("session") is False
        finally:
            RedisCacheClient.delete = real_delete
        assert cache.available is False

        # Back: the first call deletes what was lost before reading anything.
        cache._outage.down_until = 0
        assert cache.get("session") is None
        assert cache.get("other") == "kept"
        assert cache._outage.lost == set()
    finally:
        server.terminate()
        server.wait(timeout=10)


# --- pages, sessions, healthz ---------------------------------------------------------------


def test_pages_and_sign_in_work_while_redis_is_down(db, client, redis_down):
    person = UserFactory(email="ada@example.com")
    assert client.get("/").status_code == 200
    signed_in = client.post(
        reverse("login"), {"username": "ada@example.com", "password": DEFAULT_PASSWORD}
    )
    assert signed_in.status_code == 302
    # The session lives in the database: the next request finds it there.
    me = client.get(reverse("profile"))
    assert me.status_code == 200
    assert me.wsgi_request.user == person
    assert client.get("/").status_code == 200


def test_healthz_says_what_is_degraded_while_redis_is_down(
    db, client, queue_down, settings, django_capture_on_commit_callbacks
):
    # The cause commits (the callbacks run); queueing its work is refused.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        UserFactory(email="waiting@example.com")
        outbox_enqueue(SEND_EMAIL, subject="s", body="b", to=["waiting@example.com"])
    response = client.get("/healthz", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200  # the database decides, and it is up
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["cache"] == {"status": "degraded", "backend": "ResilientRedisCache"}
    assert body["queue"] == {"status": "degraded", "broker": None, "pending": None}
    assert body["outbox"] == {"status": "degraded", "pending": 1, "overdue": 1, "failed": 0}
    # The public answer stays the same.
    assert client.get("/healthz", REMOTE_ADDR="203.0.113.5").json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_work_caused_while_redis_is_down_waits_in_the_outbox(
    client, queue_down, settings, monkeypatch
):
    from django.core import mail

    response = client.post(
        "/accounts/signup/",
        {
            "email": "grace@example.com",
            "first_name": "Grace",
            "last_name": "Hopper",
            "legal_name": "",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302  # signed up, "check your e-mail"
    row = OutboxTask.objects.get(task=SEND_EMAIL)
    assert row.kwargs["to"] == ["grace@example.com"]
    assert row.done_at is None
    assert mail.outbox == []

    # A sweep while the queue is still down loses nothing.
    assert outbox_sweep().queued == 0
    OutboxTask.objects.filter(pk=row.pk).update(due_at=row.created_at)

    # Redis is back (here: the inline queue): the sweep sends it.
    import django_q.brokers
    import django_q.tasks

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    monkeypatch.setattr(django_q.tasks, "get_broker", django_q.brokers.get_broker)
    assert outbox_sweep().queued == 1
    assert [m.to for m in mail.outbox] == [["grace@example.com"]]


# --- the settings REDIS_URL builds ------------------------------------------------------------


def test_redis_url_gives_a_resilient_cache_database_backed_sessions_and_bounded_waits():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(REDIS_URL="redis://127.0.0.1:8299/0", DJANGO_SETTINGS_MODULE="lms.settings.dev")
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings as s\n"
        "print(s.CACHES['default']['BACKEND'])\n"
        "print(s.CACHES['default']['OPTIONS']['socket_connect_timeout'])\n"
        "print(s.SESSION_ENGINE)\n"
        "print(s.Q_CLUSTER['redis'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.splitlines() == [
        "lms.cache.ResilientRedisCache",
        "1.0",
        "django.contrib.sessions.backends.cached_db",
        "redis://127.0.0.1:8299/0?socket_connect_timeout=1.0&socket_timeout=5.0",
    ]
