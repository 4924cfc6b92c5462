"""A task running when `make run` is stopped is finished or given back, never lost.

The real scripts/run.sh on a throwaway SQLite database: two after-commit
tasks are recorded (lms.outbox) and queued, one short and one far longer
than the 10 s the script gives everything to stop. SIGTERM to the process
group arrives while both run. Then everything has stopped within 10 s, the
long task was cut short (not done), and after a restart the outbox sweep
(its schedule comes with the migrations) queues it again: each task's work
is then done exactly once.

The django-q2 `retry` is set far beyond the test (Q_RETRY_SECONDS), so it is
the sweep, not the ORM broker's redelivery, that gives the task back; the
claim of a run is held for 2 s (OUTBOX_CLAIM_SECONDS) instead of minutes.

With Redis as the broker (a redis-server of its own on a loopback port), the
whole cluster killed with SIGKILL mid-task loses the queue message; the
outbox row brings the task back once.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests import ports
from tests.lms.test_run_script import alive, family, wait_healthy

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="runs scripts/run.sh on its own SQLite database: once, in the SQLite pass",
)

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "scripts" / "run.sh"
PORTS = range(8200, 8240)
STOP_LIMIT = 10
TASK = "tests.lms.outbox_tasks.write_after"


def free_port() -> int:
    return ports.free_port(PORTS)


def manage_python(env: dict, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def rows(env: dict) -> dict[str, dict]:
    out = manage_python(
        env,
        "import json\n"
        "from lms.models import OutboxTask\n"
        "print(json.dumps({str(r.pk): {'done': r.done_at is not None, 'attempts': r.attempts}"
        " for r in OutboxTask.objects.all()}))",
    )
    return json.loads(out.strip().splitlines()[-1])


def start(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(port, proc)
    return proc, port


def stop(proc: subprocess.Popen) -> float:
    everyone = family(proc.pid)
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    while alive(everyone) and time.monotonic() - started < STOP_LIMIT + 2:
        proc.poll()
        time.sleep(0.05)
    took = time.monotonic() - started
    left = alive(everyone)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=5)
    assert not left, f"still running {took:.1f} s after SIGTERM: {sorted(left)}"
    return took


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_task_running_at_sigterm_is_finished_or_given_back_and_run_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="lms.settings.dev",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        RUN_SETUP="0",
        WEB_WORKERS="1",
        WEB_THREADS="2",
        Q_WORKERS="2",
        Q_RETRY_SECONDS="3600",
        OUTBOX_CLAIM_SECONDS="2",
        DEBUG="0",
    )
    for app in ("django_q", "lms"):
        subprocess.run(
            [sys.executable, "manage.py", "migrate", app, "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
    short, long = tmp_path / "short.txt", tmp_path / "long.txt"
    manage_python(
        env,
        "from lms.outbox import outbox_enqueue\n"
        f"outbox_enqueue({TASK!r}, {str(short)!r}, 2)\n"
        f"outbox_enqueue({TASK!r}, {str(long)!r}, 120)\n",
    )

    proc, _ = start(env)
    try:
        wait_for(
            lambda: (
                long.with_suffix(".started").exists() and short.with_suffix(".started").exists()
            ),
            60,
            "both tasks starting",
        )
        took = stop(proc)
    finally:
        for pid in alive(family(proc.pid)):
            os.kill(pid, signal.SIGKILL)
    assert took <= STOP_LIMIT
    # The long one was cut short: not done, its claim left to run out.
    assert lines(long) == []
    state = rows(env)
    assert sum(row["done"] for row in state.values()) <= 1
    # The short one was finished before the worker stopped, or given back too.
    assert len(lines(short)) <= 1

    proc, _ = start(env)
    try:
        wait_for(lambda: lines(long) and lines(short), 120, "the sweep running the tasks again")
        time.sleep(1)  # a duplicate run, if there were one, would show now
    finally:
        stop(proc)
    assert len(lines(long)) == 1
    assert len(lines(short)) == 1
    state = rows(env)
    assert all(row["done"] for row in state.values()), state


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_with_redis_a_task_held_by_a_killed_worker_is_run_again_by_the_sweep(tmp_path):
    """django-q2's Redis queue keeps no receipt: the message a worker took is
    gone when the worker is killed (`kill -9`, no chance to give it back).
    The outbox row is not, and the sweep of the next cluster queues it again."""
    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="lms.settings.dev",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        Q_WORKERS="1",
        OUTBOX_CLAIM_SECONDS="2",
        DEBUG="0",
    )
    cluster = None
    try:
        for app in ("django_q", "lms"):
            subprocess.run(
                [sys.executable, "manage.py", "migrate", app, "--noinput", "-v0"],
                cwd=ROOT,
                env=env,
                check=True,
                timeout=300,
            )
        work = tmp_path / "render.txt"
        manage_python(
            env,
            "from lms.outbox import outbox_enqueue\n"
            f"outbox_enqueue({TASK!r}, {str(work)!r}, 120)\n",
        )

        def start_cluster():
            return subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        cluster = start_cluster()
        wait_for(lambda: work.with_suffix(".started").exists(), 60, "the task starting")
        for pid in alive(family(cluster.pid)):
            os.kill(pid, signal.SIGKILL)  # the whole cluster, mid-task
        cluster.wait(timeout=10)
        assert lines(work) == []
        assert list(rows(env).values()) == [{"done": False, "attempts": 1}]

        cluster = start_cluster()
        wait_for(lambda: lines(work), 120, "the sweep running the task again")
        wait_for(lambda: all(r["done"] for r in rows(env).values()), 30, "the row marked done")
        assert len(lines(work)) == 1
        assert list(rows(env).values()) == [{"done": True, "attempts": 2}]
    finally:
        if cluster is not None:
            for pid in alive(family(cluster.pid)):
                os.kill(pid, signal.SIGKILL)
            cluster.wait(timeout=10)
        redis.terminate()
        redis.wait(timeout=10)
