import pytest

from lms import health

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["queue"]["ok"] is True
    assert body["queue"]["pending"] == 0


def test_healthz_is_503_when_the_database_is_unreachable(client, monkeypatch):
    from django.db import OperationalError

    def broken_cursor():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"]["ok"] is False


def test_healthz_counts_pending_jobs(client, monkeypatch):
    from django_q.brokers.orm import ORM

    monkeypatch.setattr(ORM, "queue_size", lambda self: 3)
    assert client.get("/healthz").json()["queue"]["pending"] == 3


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405
