"""The cluster the load test runs: static files, the seed, locust, and the web
nodes, workers, nginx and Redis it starts, kills and stops."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

from . import nginx, units
from .common import (
    LOCUST,
    POOL_MAX,
    PY,
    Q_WORKERS,
    ROOT,
    VAR,
    WEB_THREADS,
    WEB_WORKERS,
    Ports,
    log,
    wait_ready,
    write_env,
)


def collect_static(static_root: Path) -> None:
    """collectstatic into a folder kept between runs, again only when a file changed."""
    manifest = static_root / "staticfiles.json"
    sources = [
        p
        for pattern in ("static/**/*", "*/static/**/*")
        for p in ROOT.glob(pattern)
        if p.is_file() and not p.is_relative_to(VAR)
    ]
    newest = max((p.stat().st_mtime for p in sources), default=0)
    if manifest.exists() and manifest.stat().st_mtime > newest:
        return
    log("collecting static files (once per change)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "scripts.loadtest.settings",
        "LOADTEST_BASE_SETTINGS": "dev",
        "STATIC_ROOT": str(static_root),
    }
    subprocess.run(
        [PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def seed(run_dir: Path, env: dict[str, str], users: int) -> dict:
    candidates = max(1, round(users * 0.6))
    admins = max(1, round(users * 0.1))
    learners = max(1, users - candidates - admins)
    plan_path = run_dir / "plan.json"
    subprocess.run(
        [
            PY,
            "-m",
            "scripts.loadtest.seed",
            "--people",
            str(users),
            "--candidates",
            str(candidates),
            "--learners",
            str(learners),
            "--admins",
            str(admins),
            "--out",
            str(plan_path),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=open(run_dir / "seed.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    return {"path": plan_path, "candidates": candidates, "learners": learners, "admins": admins}


def run_locust(run_dir: Path, host: str, plan: dict, users: int, run_time: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "LOADTEST_PLAN": str(plan["path"]),
        "LOADTEST_DIR": str(run_dir),
        "LOADTEST_CANDIDATES": str(plan["candidates"]),
        "LOADTEST_LEARNERS": str(plan["learners"]),
        "LOADTEST_ADMINS": str(plan["admins"]),
    }
    spawn_rate = max(1, users // 20)
    return subprocess.Popen(  # noqa: S603
        [
            LOCUST,
            "-f",
            str(ROOT / "scripts" / "loadtest" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(spawn_rate),
            "-t",
            f"{run_time}s",
            "--host",
            host,
            "--csv",
            str(run_dir / "locust"),
            "--csv-full-history",
            "--only-summary",
            "--stop-timeout",
            "5",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(run_dir / "locust.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )


def node_env(common: dict[str, str], **extra: str) -> dict[str, str]:
    return {**common, **extra}


class Cluster:
    """nginx + 2 web nodes + 2 workers + Redis, on a database URL."""

    def __init__(self, run_dir: Path, ports: Ports, database_url: str, static_root: Path):
        self.run_dir, self.ports, self.database_url = run_dir, ports, database_url
        self.static_root = static_root
        self.https_port, self.http_port = ports.take(), ports.take()
        self.redis_port = ports.take()
        self.web_ports = [ports.take(), ports.take()]
        self.redis: subprocess.Popen | None = None
        self.nginx: subprocess.Popen | None = None
        self.webs: list[units.Node] = []
        self.workers: list[units.Node] = []
        self.host = f"https://127.0.0.1:{self.https_port}"
        self.common = {
            "DJANGO_SETTINGS_MODULE": "scripts.loadtest.settings",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": self.host,
            "SITE_URL": self.host,
            "DATABASE_URL": database_url,
            "DB_POOL_MAX_SIZE": str(POOL_MAX),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "STATIC_ROOT": str(static_root),
            "PRIVATE_ROOT": str(run_dir / "private"),
            "MEDIA_ROOT": str(run_dir / "media"),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(run_dir / "mail"),
            "OTP_REQUIRED": "0",
            "SECURE_HSTS_SECONDS": "0",
            "SECURE_HSTS_PRELOAD": "0",
            # Every simulated person comes from one address: raise the per-IP limits.
            "LOGIN_IP_FAILURE_LIMIT": "1000000",
            "LOGIN_FAILURE_LIMIT": "1000000",
            "LOGIN_ACCOUNT_FAILURE_LIMIT": "1000000",
            "SIGNUP_RATE_LIMIT": "1000000",
            "PARTNER_BUILD_RATE_LIMIT": "1000000",
            "Q_WORKERS": str(Q_WORKERS),
            "Q_RETRY_SECONDS": "150",
            # A killed worker's outbox row is run again once its claim ends
            # (longer than the 120 s task timeout) and the minutely sweep comes.
            "OUTBOX_CLAIM_SECONDS": "150",
            # A web node killed after its commit but before it queued the
            # row leaves the row due after OUTBOX_REQUEUE_SECONDS (300 by
            # default), when the sweep queues it: shortened so the check's
            # drain sees it run.
            "OUTBOX_REQUEUE_SECONDS": "90",
            "WEB_WORKERS": str(WEB_WORKERS),
            "WEB_THREADS": str(WEB_THREADS),
            "LOG_LEVEL": "WARNING",
        }

    def start_redis(self) -> None:
        folder = self.run_dir / "redis"
        folder.mkdir(exist_ok=True)
        self.redis = subprocess.Popen(  # noqa: S603
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--dir",
                str(folder),
                "--save",
                "",
                "--appendonly",
                "yes",
            ],
            stdout=open(folder / "redis.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        for _ in range(50):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.redis_port)) == 0:
                    return
            time.sleep(0.1)

    def stop_redis(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(timeout=20)

    def start(self) -> None:
        web_unit = units.Unit.parse(ROOT / "deploy" / "academy-web.service")
        worker_unit = units.Unit.parse(ROOT / "deploy" / "academy-worker.service")
        base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/root")}
        for n, port in enumerate(self.web_ports, 1):
            env_file = write_env(
                self.run_dir / f"web{n}.env",
                node_env(self.common, WEB_BIND=f"127.0.0.1:{port}"),
            )
            self.webs.append(
                units.Node(f"web{n}", web_unit, ROOT, env_file, self.run_dir / f"web{n}.log", base)
            )
        for n in (1, 2):
            env_file = write_env(
                self.run_dir / f"worker{n}.env", node_env(self.common, LOG_LEVEL="INFO")
            )
            self.workers.append(
                units.Node(
                    f"worker{n}", worker_unit, ROOT, env_file, self.run_dir / f"worker{n}.log", base
                )
            )
        for node in self.webs + self.workers:
            node.start()
        for port in self.web_ports:
            if wait_ready(f"http://127.0.0.1:{port}/healthz", 180) is None:
                raise RuntimeError(f"web node on {port} did not answer /healthz")
        prefix = self.run_dir / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = nginx.write_config(
            prefix,
            (ROOT / "deploy" / "nginx-academy.conf").read_text(),
            https_port=self.https_port,
            http_port=self.http_port,
            upstreams=[f"127.0.0.1:{port}" for port in self.web_ports],
            static_root=self.static_root,
        )
        self.nginx_log = prefix / "access.log"
        self.nginx = subprocess.Popen(  # noqa: S603
            ["nginx", "-c", str(conf), "-p", str(prefix)],
            stdout=subprocess.DEVNULL,
            stderr=open(prefix / "stderr.log", "ab"),  # noqa: SIM115
        )
        if wait_ready(f"http://127.0.0.1:{self.http_port}/healthz", 20) is None:
            raise RuntimeError("nginx did not answer /healthz")

    def stop(self) -> list[dict]:
        stops = [node.stop() for node in self.webs + self.workers if node.alive()]
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        self.stop_redis()
        return stops
