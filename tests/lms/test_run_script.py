"""scripts/run.sh (`make run`) serves, and stops completely when told to.

What systemd does on `stop` (SIGTERM to the service's whole process group)
and what Ctrl-C does (SIGINT to the terminal's foreground group) must end the
web server and the django-q2 worker, with all their processes, within 10 s.
Twenty starts and stops in a row, so a race in the shutdown shows up.

Each start runs the real script on a throwaway SQLite database holding the
worker's tables (django_q: the only ones that /healthz and an idle worker
touch), with one web process and one task worker to keep it short.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests import ports

# The script runs on its own throwaway SQLite database whatever the suite's
# database is, so it runs once: in the SQLite pass of `make test`.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="runs scripts/run.sh on its own SQLite database: once, in the SQLite pass",
)

ROOT = Path(settings.BASE_DIR)
SCRIPT = ROOT / "scripts" / "run.sh"
PORTS = range(8180, 8200)
START_TIMEOUT = 60
STOP_LIMIT = 10


@pytest.fixture(scope="module")
def run_env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run-script")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="lms.settings.dev",
        SQLITE_PATH=str(folder / "db.sqlite3"),
        EMAIL_FILE_PATH=str(folder / "mail"),
        RUN_SETUP="0",
        WEB_WORKERS="1",
        WEB_THREADS="2",
        Q_WORKERS="1",
        DEBUG="0",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "django_q", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return env


def free_port() -> int:
    return ports.free_port(PORTS)


def processes() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, state) for every live process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def family(root: int) -> set[int]:
    """The pids of `root`, its descendants and everything in its process group."""
    table = processes()
    found = {root} | {pid for pid, (_, group, _) in table.items() if group == root}
    grew = True
    while grew:
        more = {pid for pid, (parent, _, _) in table.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def alive(pids: set[int]) -> set[int]:
    table = processes()
    return {pid for pid in pids if pid in table and table[pid][2] != "Z"}


def wait_healthy(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, "run.sh ended before serving"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"/healthz did not answer within {START_TIMEOUT} s")


def start_and_stop(env: dict, sig: int) -> float:
    port = free_port()
    proc = subprocess.Popen(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env={**env, "PORT": str(port)},
        start_new_session=True,  # its own process group, as under systemd
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, proc)
        # Both the web server and the worker are up (with their own processes).
        time.sleep(0.5)
        everyone = family(proc.pid)
        assert len(everyone) >= 4, "expected the script, gunicorn (+ worker) and qcluster"
        started = time.monotonic()
        os.killpg(proc.pid, sig)
        while alive(everyone) and time.monotonic() - started < STOP_LIMIT + 2:
            proc.poll()
            time.sleep(0.05)
        took = time.monotonic() - started
        left = alive(everyone)
        assert not left, f"still running {took:.1f} s after the signal: {sorted(left)}"
        assert took <= STOP_LIMIT
        return took
    finally:
        for pid in alive(family(proc.pid)):
            os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=5)


@pytest.mark.parametrize("attempt", range(20))
def test_sigterm_to_the_group_stops_everything_within_10_seconds(run_env, attempt):
    start_and_stop(run_env, signal.SIGTERM)


def test_sigint_stops_everything_within_10_seconds(run_env):
    start_and_stop(run_env, signal.SIGINT)


def read_settings(env: dict, *expressions: str) -> list[str]:
    """Each expression (over `settings`) printed by a fresh process with this environment."""
    code = "from django.conf import settings\n" + "".join(
        f"print({expression})\n" for expression in expressions
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.splitlines()


def test_links_follow_the_port_when_site_url_is_not_set():
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "DATABASE_URL"}}
    env.update(PORT="8770", DJANGO_SETTINGS_MODULE="lms.settings.dev")
    assert read_settings(env, "settings.SITE_URL", "settings.WAGTAILADMIN_BASE_URL") == [
        "http://127.0.0.1:8770",
        "http://127.0.0.1:8770",
    ]
    # A SITE_URL given wins (the public address behind a proxy).
    env["SITE_URL"] = "https://academy.example.com/"
    assert read_settings(env, "settings.SITE_URL") == ["https://academy.example.com"]
