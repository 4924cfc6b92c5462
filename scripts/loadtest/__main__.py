"""`make loadtest`: the cluster on loopback under locust, nodes killed on purpose,
the database checked afterwards. README, "Load test", says what it does.

Environment: USERS (300), RUN_TIME (seconds, 120), SINGLE_NODE (1: one
`make run` node, no nginx), KILL (1: kill a web node and a worker midway),
FAULTS ("pg,redis": a second, shorter run on a PostgreSQL cluster of its own
that is restarted, with Redis stopped for a while; "" skips it), FAULT_USERS
(60), FAULT_RUN_TIME (60), DATABASE_URL's server (default the machine's at
127.0.0.1:5432) hosts the run's database `academy_load`, PORTS ("8300-8399").
Prints the report and writes it to var/loadtest/report.json; exits 1 when a
check fails.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from . import nginx, units

ROOT = Path(__file__).resolve().parents[2]
PY = str(ROOT / ".venv" / "bin" / "python")
LOCUST = str(ROOT / ".venv" / "bin" / "locust")
VAR = ROOT / "var" / "loadtest"
PG_ADMIN = os.environ.get("LOADTEST_PG", "postgres://postgres@127.0.0.1:5432")
DB = "academy_load"
TEMPLATE = "academy_load_template"
WEB_WORKERS, WEB_THREADS, POOL_MAX, Q_WORKERS, HEADROOM = 2, 8, 4, 2, 5


def log(message: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {message}", flush=True)


def seconds(value: str) -> int:
    value = value.strip().lower()
    if value.endswith("m"):
        return int(float(value[:-1]) * 60)
    return int(float(value.rstrip("s")))


# --- ports ------------------------------------------------------------------------


class Ports:
    def __init__(self, spec: str):
        low, high = (int(x) for x in spec.split("-"))
        self.candidates = list(range(low, high + 1))
        self.taken: set[int] = set()

    def take(self) -> int:
        for port in self.candidates:
            if port in self.taken:
                continue
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            self.taken.add(port)
            return port
        raise RuntimeError("no free port in the load test's range")


# --- PostgreSQL -------------------------------------------------------------------


def pg(url: str, *statements: str, fetch: bool = False):
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        result = None
        for statement in statements:
            cursor = connection.execute(statement)
            if fetch:
                result = cursor.fetchall()
        return result


def migrations_fingerprint() -> str:
    names = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("*/migrations/*.py"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def ensure_template() -> None:
    """A migrated database with the demo content, rebuilt when migrations change."""
    fingerprint = migrations_fingerprint()
    found = pg(
        f"{PG_ADMIN}/postgres",
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        f"WHERE datname = '{TEMPLATE}'",
        fetch=True,
    )
    if found and found[0][0] == fingerprint:
        return
    log("building the template database (migrate + demo data, about a minute, once)")
    building = f"{TEMPLATE}_building"
    pg(
        f"{PG_ADMIN}/postgres",
        f"DROP DATABASE IF EXISTS {building} WITH (FORCE)",
        f"CREATE DATABASE {building}",
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lms.settings.dev",
        "DATABASE_URL": f"{PG_ADMIN}/{building}",
        "DB_POOL": "0",
    }
    env.pop("REDIS_URL", None)
    VAR.mkdir(parents=True, exist_ok=True)
    with open(VAR / "template.log", "w") as output:
        for command in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
            subprocess.run(
                [PY, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
    # The demo's after-commit jobs, queued in the database: not the run's work.
    pg(f"{PG_ADMIN}/{building}", "DELETE FROM django_q_ormq")
    pg(
        f"{PG_ADMIN}/postgres",
        f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)",
        f"ALTER DATABASE {building} RENAME TO {TEMPLATE}",
        f"COMMENT ON DATABASE {TEMPLATE} IS '{fingerprint}'",
    )


def fresh_database() -> str:
    pg(
        f"{PG_ADMIN}/postgres",
        f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)",
        f"CREATE DATABASE {DB} TEMPLATE {TEMPLATE}",
    )
    # Jobs the demo data queued in the database are not the run's work.
    pg(f"{PG_ADMIN}/{DB}", "DELETE FROM django_q_ormq")
    return f"{PG_ADMIN}/{DB}"


class OwnPostgres:
    """A PostgreSQL cluster of our own (initdb/pg_ctl as `postgres`), to restart at will."""

    def __init__(self, folder: Path, port: int):
        self.folder, self.port = folder, port
        self.data = folder / "data"
        self.url = f"postgres://postgres@127.0.0.1:{port}/{DB}"

    def _as_postgres(self, *args: str) -> None:
        bindir = Path(shutil.which("pg_ctl") or "/usr/lib/postgresql/15/bin/pg_ctl").resolve()
        command = [str(bindir.parent / args[0]), *args[1:]]
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "postgres.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        pg(f"postgres://postgres@127.0.0.1:{self.port}/postgres", f"CREATE DATABASE {DB}")
        dump = subprocess.Popen(  # noqa: S603
            ["pg_dump", "--no-owner", f"{PG_ADMIN}/{TEMPLATE}"], stdout=subprocess.PIPE
        )
        subprocess.run(
            ["psql", "-q", "-o", "/dev/null", self.url],
            stdin=dump.stdout,
            check=True,
            stderr=subprocess.DEVNULL,
        )
        dump.wait()
        pg(self.url, "DELETE FROM django_q_ormq")


# --- the run ----------------------------------------------------------------------


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


def write_env(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def http_get(url: str, timeout: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def wait_ready(url: str, timeout: float) -> float | None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        status, _ = http_get(url)
        if status == 200:
            return time.monotonic() - began
        time.sleep(0.2)
    return None


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


# --- report -----------------------------------------------------------------------


def locust_figures(run_dir: Path, ramp: float) -> dict:
    rows = list(csv.DictReader(open(run_dir / "locust_stats.csv")))
    per_type = []
    for row in rows:
        if row["Name"] == "Aggregated":
            continue
        per_type.append(
            {
                "request": f"{row['Name']}"
                if row["Name"].startswith(row["Type"])
                else f"{row['Type']} {row['Name']}",
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
            }
        )
    history = [
        r
        for r in csv.DictReader(open(run_dir / "locust_stats_history.csv"))
        if r["Name"] == "Aggregated"
    ]
    start = float(history[0]["Timestamp"]) if history else 0
    steady = [float(r["Requests/s"]) for r in history if float(r["Timestamp"]) - start >= ramp]
    errors: dict[str, int] = {}
    for path in run_dir.glob("errors-*.json"):
        for kind, count in json.loads(path.read_text()).items():
            errors[kind] = errors.get(kind, 0) + count
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    return {
        "requests": int(total["Request Count"]) if total else 0,
        "sustained_rps": round(sum(steady) / len(steady), 1) if steady else 0.0,
        "per_type": sorted(per_type, key=lambda r: -r["count"]),
        "errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])),
    }


def classify_5xx(rows: list[dict], kills: list[dict]) -> dict:
    in_flight, other = 0, []
    for row in rows:
        if row["status"] < 500:
            continue
        blamed = any(
            k["address"] in row["upstream"] and k["at"] <= row["t"] <= k["at"] + 15 for k in kills
        )
        if blamed and row["status"] in (502, 504):
            in_flight += 1
        else:
            other.append(row)
    return {"in_flight_on_killed_node": in_flight, "other": len(other), "other_rows": other[:10]}


def recovery(rows: list[dict], kill: dict) -> dict:
    after = [r for r in rows if r["t"] >= kill["at"]]
    last_error = max(
        (r["t"] for r in after if r["status"] >= 500 and kill["address"] in r["upstream"]),
        default=None,
    )
    back = min(
        (
            r["t"]
            for r in after
            if r["t"] >= kill["restarted_at"]
            and r["upstream"].split(",")[-1].strip() == kill["address"]
            and r["status"] < 500
        ),
        default=None,
    )
    return {
        "errors_stopped_after_s": round(last_error - kill["at"], 1) if last_error else 0.0,
        "serving_again_after_s": round(back - kill["at"], 1) if back else None,
    }


# --- scenarios --------------------------------------------------------------------


def connection_budget(database_url: str, nodes: int, workers: int) -> dict:
    maximum = int(pg(database_url, "SHOW max_connections", fetch=True)[0][0])
    in_use = int(pg(database_url, "SELECT count(*) FROM pg_stat_activity", fetch=True)[0][0])
    need = nodes * WEB_WORKERS * POOL_MAX + workers * (Q_WORKERS + 3) + HEADROOM
    return {
        "formula": f"{nodes} nodes x {WEB_WORKERS} processes x pool {POOL_MAX}"
        f" + {workers} workers x ({Q_WORKERS} + 3) + {HEADROOM} headroom",
        "needed": need,
        "max_connections": maximum,
        "in_use_before_run": in_use,
        "ok": need <= maximum,
    }


def cluster_scenario(
    run_dir: Path,
    ports: Ports,
    database_url: str,
    static_root: Path,
    *,
    users: int,
    run_time: int,
    kill: bool,
    faults: list[str],
    own_pg: OwnPostgres | None = None,
) -> dict:
    seed_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "scripts.loadtest.settings",
        "LOADTEST_BASE_SETTINGS": "dev",
        "DATABASE_URL": database_url,
        "DB_POOL": "0",
        "PRIVATE_ROOT": str(run_dir / "private"),
    }
    seed_env.pop("REDIS_URL", None)
    budget = connection_budget(database_url, 2, 2)
    log(f"connection budget: {budget['needed']} <= {budget['max_connections']}: {budget['ok']}")
    if not budget["ok"]:
        raise SystemExit("connection budget exceeds max_connections")
    cluster = Cluster(run_dir, ports, database_url, static_root)
    cluster.start_redis()
    log(f"seeding {users} people")
    # The seed's after-commit jobs go to the cluster's queue (Redis).
    plan = seed(run_dir, {**seed_env, "REDIS_URL": cluster.common["REDIS_URL"]}, users)
    log("starting 2 web nodes, 2 workers, nginx")
    try:
        cluster.start()
    except Exception:
        for node in cluster.webs + cluster.workers:
            text = node.log_path.read_text(errors="replace") if node.log_path.exists() else ""
            log(f"{node.name} log ends:\n{text[-1500:]}")
        cluster.stop()
        raise
    began = time.time()
    locust = run_locust(run_dir, cluster.host, plan, users, run_time)
    log(f"load started: {users} people for {run_time} s")
    kills: list[dict] = []
    events: list[dict] = []
    ramp = 20.0

    def at(offset: float) -> None:
        delay = began + offset - time.time()
        if delay > 0:
            time.sleep(delay)

    if kill:
        at(run_time * 0.4)
        web, worker = cluster.webs[0], cluster.workers[0]
        running_before = worker.log_path.read_text(errors="replace").count(" running.")
        killed_at = time.time()
        web.kill()
        worker.kill()
        log("killed web1 and worker1 with SIGKILL")
        time.sleep(3)  # systemd: Restart=always, RestartSec=2
        web.start()
        worker.start()
        restarted_at = time.time()
        ready = wait_ready(f"http://127.0.0.1:{cluster.web_ports[0]}/healthz", 60)
        log(
            f"restarted them; web1 answers /healthz after {ready:.1f}s"
            if ready
            else "web1 not back"
        )
        kills.append(
            {
                "node": "web1",
                "address": f"127.0.0.1:{cluster.web_ports[0]}",
                "at": killed_at,
                "restarted_at": restarted_at,
                "healthz_after_restart_s": round(ready, 1) if ready else None,
            }
        )
        worker_ready = None
        while time.time() - killed_at < 90:
            if worker.log_path.read_text(errors="replace").count(" running.") > running_before:
                worker_ready = round(time.time() - killed_at, 1)
                break
            time.sleep(0.5)
        events.append(
            {
                "event": "worker1 killed and restarted",
                "at": killed_at,
                "taking_tasks_again_after_s": worker_ready,
            }
        )
    if "pg" in faults and own_pg is not None:
        at(run_time * 0.25)
        stopped = time.time()
        own_pg.stop()
        log("PostgreSQL stopped")
        time.sleep(5)
        own_pg.start()
        started = time.time()
        log("PostgreSQL started again")
        events.append({"event": "postgres restart", "at": stopped, "back_at": started})
    if "redis" in faults:
        at(run_time * 0.6)
        cluster.stop_redis()
        down_at = time.time()
        log("Redis stopped")
        time.sleep(3)
        status, body = http_get(f"http://127.0.0.1:{cluster.web_ports[1]}/healthz", timeout=10)
        time.sleep(7)
        cluster.start_redis()
        log("Redis started again")
        events.append(
            {
                "event": "redis stop",
                "at": down_at,
                "back_at": time.time(),
                "healthz_while_down": {"status": status, "body": body},
            }
        )
    locust.wait(timeout=run_time + 60)
    log("load finished; checking the database")
    checks = subprocess.run(
        [
            PY,
            "-m",
            "scripts.loadtest.checks",
            "--plan",
            str(plan["path"]),
            "--dir",
            str(run_dir),
            "--drain",
            os.environ.get("DRAIN", "120"),
        ],
        cwd=ROOT,
        env={**cluster.common, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    if checks.returncode != 0:
        sys.stderr.write(checks.stderr)
    result = (
        json.loads(checks.stdout.strip().splitlines()[-1])
        if checks.returncode == 0
        else {"checks": [{"name": "checks ran", "ok": False, "detail": checks.stderr[-2000:]}]}
    )
    stops = cluster.stop()
    rows = nginx.parse_access_log(cluster.nginx_log)
    events.sort(key=lambda e: e["at"])
    for index, event in enumerate(events):
        if "back_at" in event:
            # Until the pool's wait (10 s) after the fault ended, or the next fault.
            end = event["back_at"] + 12
            if index + 1 < len(events):
                end = min(end, events[index + 1]["at"])
            window = [r for r in rows if event["at"] <= r["t"] <= end]
            event["statuses_in_window"] = _count_statuses(window)
            bad = [r["t"] for r in window if r["status"] >= 500]
            event["errors_stopped_after_back_s"] = (
                round(max(0.0, max(bad) - event["back_at"]), 1) if bad else 0.0
            )
            event["at"] = round(event["at"] - began, 1)
            event["back_at"] = round(event["back_at"] - began, 1)
        else:
            event["at"] = round(event["at"] - began, 1)
    report = {
        "mode": "cluster",
        "users": users,
        "run_time_s": run_time,
        "budget": budget,
        "load": locust_figures(run_dir, ramp),
        "nginx_statuses": _count_statuses(rows),
        "five_xx": classify_5xx(rows, kills),
        "kills": [
            {
                **k,
                **recovery(rows, k),
                "at": round(k["at"] - began, 1),
                "restarted_at": round(k["restarted_at"] - began, 1),
            }
            for k in kills
        ],
        "events": events,
        "stops": stops,
        **result,
    }
    return report


def _count_statuses(rows: list[dict]) -> dict:
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["status"])] = counts.get(str(row["status"]), 0) + 1
    return dict(sorted(counts.items()))


def single_node_scenario(
    run_dir: Path, ports: Ports, database_url: str, static_root: Path, *, users: int, run_time: int
) -> dict:
    port = ports.take()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "scripts.loadtest.settings",
        "LOADTEST_BASE_SETTINGS": "dev",
        "DEBUG": "0",
        "RUN_SETUP": "0",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(static_root),
        "PRIVATE_ROOT": str(run_dir / "private"),
        "MEDIA_ROOT": str(run_dir / "media"),
        "EMAIL_FILE_PATH": str(run_dir / "mail"),
        "LOGIN_IP_FAILURE_LIMIT": "1000000",
        "LOGIN_FAILURE_LIMIT": "1000000",
        "LOGIN_ACCOUNT_FAILURE_LIMIT": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    budget = connection_budget(database_url, 1, 1)
    log(f"connection budget: {budget['needed']} <= {budget['max_connections']}: {budget['ok']}")
    log(f"seeding {users} people")
    plan = seed(run_dir, {**env, "DB_POOL": "0"}, users)
    server = subprocess.Popen(  # noqa: S603
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=env,
        stdout=open(run_dir / "run.log", "ab"),
        stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )
    if wait_ready(f"http://127.0.0.1:{port}/healthz", 60) is None:
        raise RuntimeError("make run's server did not answer /healthz")
    log("make run is up; starting the load")
    locust = run_locust(run_dir, f"http://127.0.0.1:{port}", plan, users, run_time)
    locust.wait(timeout=run_time + 60)
    checks = subprocess.run(
        [
            PY,
            "-m",
            "scripts.loadtest.checks",
            "--plan",
            str(plan["path"]),
            "--dir",
            str(run_dir),
            "--drain",
            os.environ.get("DRAIN", "120"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    result = (
        json.loads(checks.stdout.strip().splitlines()[-1])
        if checks.returncode == 0
        else {"checks": [{"name": "checks ran", "ok": False, "detail": checks.stderr[-2000:]}]}
    )
    stop_began = time.monotonic()
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
    load = locust_figures(run_dir, 20.0)
    five_xx = sum(
        count for kind, count in load["errors"].items() if kind.rsplit(": ", 1)[-1].startswith("5")
    )
    resets = sum(count for kind, count in load["errors"].items() if "reset" in kind)
    result["checks"].append(
        {
            "name": "0 x 5xx and 0 connection resets",
            "ok": five_xx == 0 and resets == 0,
            "detail": {"5xx": five_xx, "connection_resets": resets},
        }
    )
    return {
        "mode": "single node (make run)",
        "users": users,
        "run_time_s": run_time,
        "budget": budget,
        "load": load,
        "stops": [{"node": "make run", "seconds": round(time.monotonic() - stop_began, 1)}],
        **result,
    }


def print_report(report: dict) -> None:
    load = report["load"]
    print(f"\n== {report['mode']}: {report['users']} people, {report['run_time_s']} s ==")
    b = report["budget"]
    print(
        f"connection budget: {b['formula']} = {b['needed']} <= max_connections "
        f"{b['max_connections']} ({b['in_use_before_run']} in use before the run)"
    )
    print(f"requests: {load['requests']}, sustained {load['sustained_rps']} req/s")
    print(f"{'request':<48} {'count':>7} {'fail':>5} {'p50 ms':>8} {'p95 ms':>8}")
    for row in load["per_type"]:
        print(
            f"{row['request'][:48]:<48} {row['count']:>7} {row['failures']:>5} "
            f"{row['p50_ms']:>8.0f} {row['p95_ms']:>8.0f}"
        )
    too_many = {k: v for k, v in load["errors"].items() if k.endswith(": 429")}
    others = {k: v for k, v in load["errors"].items() if not k.endswith(": 429")}
    print(f"errors by kind: {others or 'none'}")
    print(f"429 (rate limited): {sum(too_many.values())}")
    if "five_xx" in report:
        f = report["five_xx"]
        print(
            f"5xx in flight on the killed node: {f['in_flight_on_killed_node']}; "
            f"other 5xx: {f['other']}"
        )
        for kill in report["kills"]:
            print(
                f"kill {kill['node']} at {kill['at']} s: errors stopped after "
                f"{kill['errors_stopped_after_s']} s, serving again after "
                f"{kill['serving_again_after_s']} s (healthz {kill['healthz_after_restart_s']}"
                " s after the restart)"
            )
        for event in report["events"]:
            print(
                f"{event['event']} at {event['at']} s: "
                + json.dumps({k: v for k, v in event.items() if k not in ("event", "at")})
            )
    print(
        "stops: "
        + ", ".join(
            f"{s['node']} {s['seconds']} s" + (" (killed)" if s.get("killed") else "")
            for s in report["stops"]
        )
    )
    for check in report["checks"]:
        print(f"[{'ok' if check['ok'] else 'FAIL'}] {check['name']}: {json.dumps(check['detail'])}")


def main() -> int:
    users = int(os.environ.get("USERS", "300"))
    run_time = seconds(os.environ.get("RUN_TIME", "120"))
    single = os.environ.get("SINGLE_NODE", "0") == "1"
    faults = [f for f in os.environ.get("FAULTS", "pg,redis").split(",") if f]
    ports = Ports(os.environ.get("PORTS", "8300-8399"))
    VAR.mkdir(parents=True, exist_ok=True)
    static_root = VAR / "static"
    ensure_template()
    collect_static(static_root)
    reports = []
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        run_dir = Path(tmp) / "main"
        run_dir.mkdir()
        database_url = fresh_database()
        if single:
            reports.append(
                single_node_scenario(
                    run_dir, ports, database_url, static_root, users=users, run_time=run_time
                )
            )
            print_report(reports[-1])
        elif os.environ.get("FAULTS_ONLY", "0") != "1":
            reports.append(
                cluster_scenario(
                    run_dir,
                    ports,
                    database_url,
                    static_root,
                    users=users,
                    run_time=run_time,
                    kill=os.environ.get("KILL", "1") == "1",
                    faults=[],
                )
            )
            print_report(reports[-1])
        if faults and not single:
            fault_dir = Path(tmp) / "faults"
            fault_dir.mkdir()
            # Outside the run's folder (private to root): `postgres` owns this one.
            pg_folder = Path(tempfile.mkdtemp(prefix="loadtest-pg-"))
            own = OwnPostgres(pg_folder, ports.take())
            log("starting a PostgreSQL cluster of our own for the fault run")
            own.create()
            try:
                reports.append(
                    cluster_scenario(
                        fault_dir,
                        ports,
                        own.url,
                        static_root,
                        users=min(users, int(os.environ.get("FAULT_USERS", "60"))),
                        run_time=seconds(os.environ.get("FAULT_RUN_TIME", "60")),
                        kill=False,
                        faults=faults,
                        own_pg=own,
                    )
                )
                reports[-1]["mode"] = "faults: " + ", ".join(faults)
                print_report(reports[-1])
            finally:
                if (own.data / "postmaster.pid").exists():
                    own.stop()
                shutil.rmtree(pg_folder, ignore_errors=True)
        if os.environ.get("LOADTEST_KEEP"):
            shutil.copytree(tmp, VAR / "last", dirs_exist_ok=True)
    (VAR / "report.json").write_text(json.dumps(reports, indent=2, default=str))
    failed = [c for r in reports for c in r["checks"] if not c["ok"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
