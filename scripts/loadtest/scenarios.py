"""The load test's two runs: the cluster behind nginx (with kills and faults)
and a single `make run` node."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from . import nginx
from .cluster import Cluster, run_locust, seed
from .common import ROOT, Ports, http_get, log, wait_ready
from .database import OwnPostgres, connection_budget, database_checks
from .report import classify_5xx, locust_figures, recovery


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
    result = database_checks(
        run_dir, plan, {**cluster.common, "PATH": os.environ["PATH"]}, echo_errors=True
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
    result = database_checks(run_dir, plan, env)
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
