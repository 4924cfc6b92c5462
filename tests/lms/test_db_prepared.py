"""Statements PostgreSQL keeps prepared (Django's server-side binding with
psycopg's prepare_threshold, lms.settings) and the PostgreSQL backend's health
check that sends no query (lms.db_backends)."""

import time
from datetime import timedelta

import pytest
from django.db import DataError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lms import tokens

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def _prepared_like(pattern: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", [pattern]
        )
        return cursor.fetchone()[0]


def test_hand_written_statements_run_and_convert_values_like_the_orm():
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s, %s", [41 + 1, "text"])
        assert tuple(cursor.fetchone()) == (42, "text")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s", [now])
        value = cursor.fetchone()[0]
    if connection.vendor == "postgresql":  # SQLite gives the text Django stored
        assert value == now and value.utcoffset() == timedelta(0)


def test_statements_are_in_the_query_log():
    with CaptureQueriesContext(connection) as queries:
        for value in (1, 2):
            with connection.cursor() as cursor:
                cursor.execute("SELECT %s + 1", [value])
    assert len(queries.captured_queries) == 2
    assert all("+ 1" in q["sql"] for q in queries.captured_queries)


@on_postgresql
def test_on_postgresql_values_are_bound_on_the_server_and_repeated_statements_prepared():
    options = connection.settings_dict["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    sql = "SELECT %s::int * 2 AS prepared_statement_probe"
    for value in range(1, 7):
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            assert cursor.fetchone()[0] == value * 2
    assert _prepared_like("%prepared_statement_probe%") == 1


@on_postgresql
def test_on_postgresql_the_token_lookup_of_every_api_request_is_prepared():
    for _ in range(6):
        with pytest.raises(tokens.TokenError):
            tokens.token_authenticate("no-such-token")
    assert _prepared_like("%key_hash%") == 1


@on_postgresql
def test_on_postgresql_errors_are_djangos():
    with pytest.raises(DataError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT %s::smallint", [10**6])


@on_postgresql
def test_on_postgresql_the_backend_is_ours_with_the_same_vendor():
    from lms.db_backends.postgresql.base import DatabaseWrapper

    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.vendor == "postgresql"


@pytest.fixture
def without_pool():
    """The connection as with DB_POOL=0 (PgBouncer), where our socket check
    decides; with the pool, the pool checks a connection when lending it and
    Django does not call is_usable. (Not monkeypatch: the test undoes its own.)"""
    db = connections["default"]
    db.close()  # back to the pool, if there is one
    options = db.settings_dict["OPTIONS"]
    pool = options.pop("pool", None)
    try:
        yield db
    finally:
        db.close()  # a direct connection: closed, not handed to the pool
        if pool is not None:
            options["pool"] = pool


@pytest.mark.django_db(transaction=True)
@on_postgresql
def test_the_health_check_sends_no_query_and_sees_a_connection_the_server_closed(
    monkeypatch, without_pool
):
    db = without_pool
    db.ensure_connection()
    sent = []
    real_cursor = db.connection.cursor
    monkeypatch.setattr(db.connection, "cursor", lambda *a, **k: sent.append(a) or real_cursor())
    assert db.is_usable()
    assert sent == []  # Django's check would have sent SELECT 1 through it
    monkeypatch.undo()
    pid = db.connection.info.backend_pid
    # Another connection ends this one, as a server restart or idle timeout would.
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    for _ in range(50):  # the server's farewell reaches the socket
        if not db.is_usable():
            break
        time.sleep(0.02)
    assert not db.is_usable()
    # The next request: Django checks before its first query, drops the
    # connection and opens a new one; the request does not fail.
    monkeypatch.setattr(db, "health_check_enabled", True)
    db.health_check_done = False
    with db.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone()[0] == 1


@on_postgresql
def test_the_health_check_works_with_a_descriptor_above_1023(monkeypatch):
    """select() refuses descriptors above 1023; the check must not, or every
    request of a busy process would drop its connection and open a new one."""
    import os
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= 1100:
        pytest.skip("the process may not open descriptors above 1023")
    db = connections["default"]
    db.ensure_connection()
    high = os.dup2(db.connection.fileno(), 1050)
    try:
        monkeypatch.setattr(db.connection, "fileno", lambda: high)
        assert db.is_usable()
    finally:
        os.close(high)
