"""The files under deploy/ are what the load test runs, and they are valid.

- Both systemd units pass `systemd-analyze verify` (installed prefix
  /srv/academy replaced by this checkout, as a deployer with another prefix
  would) without a warning, and stop the way each server needs.
- The nginx site passes `nginx -t` as the load test renders it (its own
  ports, certificate and static folder), and keeps the passive health checks
  and the retry rule: never a non-idempotent request sent twice.
"""

import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from scripts.loadtest import nginx, units

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
WEB = DEPLOY / "academy-web.service"
WORKER = DEPLOY / "academy-worker.service"
SITE = DEPLOY / "nginx-academy.conf"


def _nginx() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_both_units_pass_systemd_analyze_verify(tmp_path):
    paths = []
    for unit in (WEB, WORKER):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/srv/academy", str(ROOT)))
        paths.append(str(copy))
    result = subprocess.run(
        ["systemd-analyze", "verify", *paths], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # no warning either


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path):
    broken = tmp_path / "academy-web.service"
    broken.write_text(
        WEB.read_text().replace("/srv/academy", str(ROOT)).replace("KillMode=mixed", "KillMode=x")
    )
    result = subprocess.run(
        ["systemd-analyze", "verify", str(broken)], capture_output=True, text=True, check=False
    )
    assert "kill mode" in result.stderr.lower()


def test_the_web_unit_stops_gunicorn_gracefully_and_restarts_it():
    unit = units.Unit.parse(WEB)
    assert unit.kill_signal == signal.SIGTERM
    assert unit.kill_mode == "mixed"  # SIGTERM to the master only; it stops its workers
    graceful = int(re.search(r"--graceful-timeout (\d+)", unit.exec_start).group(1))
    assert unit.timeout_stop > graceful
    text = WEB.read_text()
    assert "Restart=always" in text
    assert "EnvironmentFile=/etc/academy/academy.env" in text
    assert unit.environment["TRUSTED_PROXY_COUNT"] == "1"  # behind the nginx site
    assert unit.environment["DJANGO_SETTINGS_MODULE"] == "lms.settings.production"


def test_the_worker_unit_lets_a_running_task_finish():
    unit = units.Unit.parse(WORKER)
    assert unit.kill_signal == signal.SIGTERM
    # SIGTERM to every process would kill django-q2's sentinel first and
    # leave the main process waiting for it.
    assert unit.kill_mode == "mixed"
    assert unit.timeout_stop > 120  # the task timeout (Q_CLUSTER["timeout"])
    assert "Restart=always" in WORKER.read_text()


def test_the_worker_unit_keeps_no_connection_pool_across_django_q2s_fork():
    # With the pool, the forked processes shared pooled connections and the
    # database queue stalled (tests/lms/test_run_script_postgres.py).
    assert "Environment=DB_POOL=0" in WORKER.read_text().splitlines()


def test_the_units_command_expands_like_systemd():
    unit = units.Unit.parse(WEB)
    env = {**unit.environment, "WEB_BIND": "127.0.0.1:8301"}
    command = unit.command(env, Path("/opt/checkout"))
    assert command[0] == "/opt/checkout/.venv/bin/gunicorn"
    assert command[command.index("--bind") + 1] == "127.0.0.1:8301"
    assert command[command.index("--workers") + 1] == unit.environment["WEB_WORKERS"]
    assert units.Unit.parse(WORKER).command({}, Path("/x"))[-2:] == ["manage.py", "qcluster"]


def test_an_environment_file_overrides_the_units_defaults(tmp_path):
    env_file = tmp_path / "academy.env"
    env_file.write_text("# comment\nWEB_WORKERS=3\nSECRET_KEY='quoted value'\n")
    node = units.Node("web", units.Unit.parse(WEB), ROOT, env_file, tmp_path / "log", {})
    env = node.environment()
    assert env["WEB_WORKERS"] == "3"
    assert env["SECRET_KEY"] == "quoted value"
    assert env["WEB_THREADS"] == units.Unit.parse(WEB).environment["WEB_THREADS"]


def test_the_site_has_passive_health_checks_and_retries_only_what_is_safe():
    text = SITE.read_text()
    servers = re.findall(r"^\s*server\s+\S+:\d+\s+([^;]*);", text, flags=re.M)
    assert len(servers) >= 2
    assert all("max_fails=" in s and "fail_timeout=" in s for s in servers)
    retry = re.search(r"proxy_next_upstream\s+([^;]*);", text).group(1).split()
    assert "non_idempotent" not in retry  # a POST once sent is never sent again
    assert "http_503" not in retry  # "busy, try later" from the app is not a dead node
    assert "error" in retry  # a dead node's requests go to the other one
    # A slow node may still save after its retried copy was acknowledged.
    assert "timeout" not in retry
    # TRUSTED_PROXY_COUNT=1: the client's address is appended, last entry.
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in text
    assert "X-Forwarded-Proto $scheme" in text
    assert re.search(r"location /static/ \{\s*alias /srv/academy/staticfiles/;", text)


@pytest.mark.skipif(not _nginx(), reason="nginx not installed (make loadtest installs it)")
def test_the_site_passes_nginx_t_as_the_load_test_renders_it(tmp_path):
    conf = nginx.write_config(
        tmp_path,
        SITE.read_text(),
        https_port=8443,
        http_port=8080,
        upstreams=["127.0.0.1:8301", "127.0.0.1:8302"],
        static_root=tmp_path,
    )
    site = (tmp_path / "site.conf").read_text()
    assert "server 127.0.0.1:8301 max_fails=" in site
    assert "10.0.0.11" not in site
    result = subprocess.run(
        [_nginx(), "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
