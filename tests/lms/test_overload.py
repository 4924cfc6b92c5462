"""A crowd bigger than the database connections gets 503 + Retry-After, never 500.

The first tests stand in for a full pool or a full PostgreSQL with a
connection that raises the errors psycopg gives; the last one fills a real
pool of one connection on PostgreSQL and sends a second request alongside.
"""

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection, connections
from django.test import Client
from psycopg_pool import PoolTimeout

from lms import overload
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"
PAGE = "/accounts/profile/"
# What every signed-in request carries: its session is read from the database.
SIGNED_IN = {"HTTP_COOKIE": "sessionid=abc123"}
TOKEN = {"HTTP_AUTHORIZATION": "Bearer pa_0123456789"}


def pool_timeout() -> OperationalError:
    # What Django raises: its OperationalError, the pool's error as the cause.
    try:
        try:
            raise PoolTimeout("couldn't get a connection after 10.00 sec")
        except PoolTimeout as exc:
            raise OperationalError(*exc.args) from exc
    except OperationalError as wrapped:
        return wrapped


TOO_MANY = OperationalError(
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    "FATAL:  sorry, too many clients already"
)
REFUSED = OperationalError(
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
    "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"
)


@pytest.fixture
def no_connection(monkeypatch):
    """Every attempt to get a connection fails with the error given."""

    def fail_with(error):
        def ensure_connection():
            raise error

        monkeypatch.setattr(connections["default"], "ensure_connection", ensure_connection)

    return fail_with


@pytest.mark.parametrize("error", [pool_timeout(), TOO_MANY, REFUSED], ids=["pool", "full", "down"])
def test_the_api_answers_503_overloaded_with_retry_after(client, no_connection, error):
    no_connection(error)
    response = client.get(ME, **TOKEN)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["code"] == "overloaded"
    assert "try again" in body["detail"]


@pytest.mark.parametrize("error", [pool_timeout(), TOO_MANY], ids=["pool", "full"])
def test_a_page_answers_a_small_503_page_with_retry_after(client, no_connection, error):
    no_connection(error)
    response = client.get(PAGE, **SIGNED_IN)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "<h1>Busy right now</h1>" in html
    assert "css/academy.css" in html  # styled like the site, without touching the database


def test_a_full_pool_met_later_in_the_request_is_503_too(monkeypatch):
    # The connection comes, but the session's query is the one that waits too
    # long (a middleware, not the view, meets it: Django would answer 500).
    user = UserFactory()
    client = Client(raise_request_exception=False)
    client.force_login(user)

    def load(self):
        raise pool_timeout()

    monkeypatch.setattr(SessionStore, "load", load)
    response = client.get(PAGE)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    api = client.get(ME)
    assert api.status_code == 503
    assert api.json()["code"] == "overloaded"


def dropped(error_class, message: str) -> OperationalError:
    # PostgreSQL restarting: psycopg's error for the dropped connection, wrapped by Django.
    try:
        try:
            raise error_class(message)
        except Exception as exc:
            raise OperationalError(*exc.args) from exc
    except OperationalError as wrapped:
        return wrapped


RESTARTING = [
    dropped(
        psycopg.errors.AdminShutdown,
        "terminating connection due to administrator command",
    ),
    dropped(
        psycopg.OperationalError,
        "consuming input failed: server closed the connection unexpectedly\n\tThis probably "
        "means the server terminated abnormally before or while processing the request.",
    ),
    dropped(psycopg.errors.CannotConnectNow, "the database system is starting up"),
]


@pytest.mark.parametrize("error", RESTARTING, ids=["admin-shutdown", "closed", "starting-up"])
def test_a_connection_dropped_by_a_restarting_postgresql_is_503_not_500(monkeypatch, error):
    # The connection was lent, then PostgreSQL went down under the request: its
    # transaction was rolled back, so the answer is "try again", not an error.
    user = UserFactory()
    client = Client(raise_request_exception=False)
    client.force_login(user)

    def load(self):
        raise error

    monkeypatch.setattr(SessionStore, "load", load)
    page = client.get(PAGE)
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    api = client.get(ME)
    assert api.status_code == 503
    assert api.json()["code"] == "overloaded"


def test_other_database_errors_stay_errors(client, no_connection):
    no_connection(OperationalError('relation "lms_user" does not exist'))
    with pytest.raises(OperationalError):
        client.get(ME, **TOKEN)


def test_a_request_that_needs_no_database_does_not_wait_for_a_connection(client, no_connection):
    no_connection(pool_timeout())
    response = client.get("/certificates/")  # anonymous, no cookie: straight to sign-in
    assert response.status_code == 302


def test_healthz_keeps_its_own_answer(client, monkeypatch):
    def broken_cursor():
        raise pool_timeout()

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_a_burst_is_logged_once_not_per_request(client, no_connection, caplog, monkeypatch):
    monkeypatch.setitem(overload._log_state, "last", 0.0)
    no_connection(pool_timeout())
    for _ in range(5):
        assert client.get(ME, **TOKEN).status_code == 503
    warnings = [r for r in caplog.records if r.name == "lms.overload"]
    assert len(warnings) == 1
    assert "answering 503" in warnings[0].getMessage()


# --- a real pool on PostgreSQL -------------------------------------------------


def free_port() -> int:
    for port in range(8180, 8200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 8180-8199")


def fetch(url, cookie=None, token=None):
    headers = {"Cookie": cookie} if cookie else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_second_request_gets_503_while_the_only_pooled_connection_is_busy():
    import psycopg

    user = UserFactory()
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DATABASE_URL=url,
        DB_POOL="1",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="1",
        DB_POOL_TIMEOUT="0.5",
        DJANGO_SETTINGS_MODULE="lms.settings.dev",
        DEBUG="0",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "lms.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--worker-class", "gthread", "--workers", "1", "--threads", "4", "--no-control-socket"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    holder = psycopg.connect(url, autocommit=False)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if fetch(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        # The first request takes the pool's only connection, then waits on
        # its session row, which we hold locked.
        holder.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
        first = {}
        thread = threading.Thread(
            target=lambda: first.update(
                answer=fetch(f"{base}{PAGE}", cookie=f"sessionid={session.session_key}")
            )
        )
        thread.start()
        time.sleep(1.0)
        started = time.monotonic()
        # A signed-in client (a token to look up) waits for the connection.
        status, headers, body = fetch(f"{base}{ME}", token="pa_0123456789")
        waited = time.monotonic() - started
        assert status == 503
        assert headers["Retry-After"] == "5"
        assert b'"code": "overloaded"' in body or b'"code":"overloaded"' in body
        assert waited < 5  # the pool's timeout, not a hang
        holder.rollback()
        thread.join(timeout=30)
        assert first["answer"][0] == 200  # the first one was served all along
    finally:
        holder.close()
        server.terminate()
        server.wait(timeout=15)


# --- the pool's settings ---------------------------------------------------------


def database_settings(**env_vars) -> dict:
    import json

    from tests.lms.test_run_script import read_settings

    env = {k: v for k, v in os.environ.items() if not k.startswith("DB_POOL")}
    env.update(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/academy",
        DJANGO_SETTINGS_MODULE="lms.settings.dev",
        **env_vars,
    )
    code = "__import__('json').dumps(settings.DATABASES['default'], default=str)"
    return json.loads(read_settings(env, code)[0])


@pytest.mark.django_db(databases=[])
def test_on_postgresql_each_process_has_a_bounded_pool_by_default():
    db = database_settings()
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10.0}
    assert db["CONN_MAX_AGE"] == 0  # the pool keeps the connections, not the request


@pytest.mark.django_db(databases=[])
def test_the_pool_follows_its_variables_and_db_pool_0_turns_it_off():
    db = database_settings(DB_POOL_MAX_SIZE="8", DB_POOL_TIMEOUT="2.5")
    assert db["OPTIONS"]["pool"]["max_size"] == 8
    assert db["OPTIONS"]["pool"]["timeout"] == 2.5
    off = database_settings(DB_POOL="0", CONN_MAX_AGE="60")
    assert "pool" not in off["OPTIONS"]
    assert off["CONN_MAX_AGE"] == 60
