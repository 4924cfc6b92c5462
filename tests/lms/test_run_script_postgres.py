"""`make run` on PostgreSQL with the database as the task queue: the worker
takes every task.

django-q2 forks its processes after its main process has used the database;
with the connection pool on, the children shared the parent's pooled
connections ("connection in transaction status" errors) and most queued tasks
stayed in the queue. scripts/run.sh starts the worker with DB_POOL=0; here
the real script runs on a database of its own on the suite's server, 20 tasks
are queued, and all of them must be done, none failed.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from tests.lms.test_worker_stop import manage_python, start, stop

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL (the PostgreSQL pass of make test)",
    ),
]

ROOT = Path(settings.BASE_DIR)
TASKS = 20
WAIT = 60


def _admin(url: str, statement: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(statement)


@pytest.fixture
def database_url():
    url = os.environ["DATABASE_URL"]
    name = f"{urlsplit(url).path.lstrip('/') or 'academy'}_run_script"
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(env: dict, code: str) -> str:
    return manage_python({**env, "DB_POOL": "0"}, code).strip()


def test_the_worker_takes_every_task_from_the_database_queue(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="lms.settings.dev",
        DATABASE_URL=database_url,
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        RUN_SETUP="0",
        WEB_WORKERS="1",
        WEB_THREADS="2",
        Q_WORKERS="2",
        DEBUG="0",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "django_q", "--noinput", "-v0"],
        cwd=ROOT,
        env={**env, "DB_POOL": "0"},
        check=True,
        timeout=120,
    )
    proc, _port = start(env)
    try:
        _manage(
            env,
            "from django_q.tasks import async_task\n"
            f"for _ in range({TASKS}): async_task('math.floor', 1.5)",
        )
        count = (
            "from django_q.models import Failure, Success\n"
            "print(Success.objects.count(), Failure.objects.count())"
        )
        deadline = time.monotonic() + WAIT
        done = failed = 0
        while time.monotonic() < deadline:
            done, failed = map(int, _manage(env, count).split()[-2:])
            if done + failed >= TASKS:
                break
            time.sleep(1)
        assert (done, failed) == (TASKS, 0), f"{done} done, {failed} failed within {WAIT} s"
    finally:
        stop(proc)
