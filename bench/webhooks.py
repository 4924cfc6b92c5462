"""Webhook fan-out for `make bench`: `run()` returns markdown table lines.

1,000 events (`member.joined`, each committed in its own transaction, as fast
as one process commits them) for one partner with 10 endpoints subscribed, so
10,000 deliveries, each to a real HTTP receiver on 127.0.0.1 (10 receivers,
one per endpoint, each a threaded http.server answering 200). ONE django-q2
worker (`manage.py qcluster` with Q_WORKERS=1; Redis as the broker when
REDIS_URL is set or Redis answers on 127.0.0.1:6379, db 1, else the
database) sends them, signing each one.

Reported: commit -> receipt latency (the receiver's clock minus the time the
event's transaction committed; same machine, same clock) at p50, p95 and max
over all 10,000 deliveries, the time until the last one arrived, deliveries
per second, and failures (deliveries not delivered when the wait ended,
WEBHOOK_BENCH_WAIT seconds, default 900). A burst: the producer finishes long
before the worker, so the latency is mostly queueing behind earlier events;
the per-delivery cost is total time / 10,000.

Environment: WEBHOOK_BENCH_EVENTS (1000), WEBHOOK_BENCH_ENDPOINTS (10).
Run standalone: `python -m bench.webhooks`.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.__main__ import redis_answers
from bench.throwaway import migrate, print_table, run_phase, setup_django, throwaway_env

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
EVENTS = int(os.environ.get("WEBHOOK_BENCH_EVENTS", "1000"))
ENDPOINTS = int(os.environ.get("WEBHOOK_BENCH_ENDPOINTS", "10"))
WAIT = float(os.environ.get("WEBHOOK_BENCH_WAIT", "900"))


def _env(work: Path) -> dict[str, str]:
    return throwaway_env(
        work,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        WEBHOOKS_ALLOW_PRIVATE_HOSTS="1",  # the receivers are on loopback
        WEBHOOKS_REQUIRE_HTTPS="0",
        Q_WORKERS="1",
    )


def run() -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="academy-bench-webhooks-"))
    env = _env(work)
    if not env.get("REDIS_URL") and redis_answers("127.0.0.1", 6379):
        # As in production with several machines (README), and as the server rows.
        env["REDIS_URL"] = "redis://127.0.0.1:6379/1"
    database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    broker = "Redis" if env.get("REDIS_URL") else "database"
    try:
        print(f"Webhooks: preparing a throwaway {database} database ...", flush=True)
        migrate(env)
        print(f"Webhooks: {EVENTS:,} events x {ENDPOINTS} endpoints, one worker ...", flush=True)
        result = run_phase("bench.webhooks", env, "fanout")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    deliveries = EVENTS * ENDPOINTS
    return [
        f"Webhooks: {EVENTS:,} events x {ENDPOINTS} endpoints = {deliveries:,} signed deliveries "
        f"to {ENDPOINTS} receivers on 127.0.0.1, one django-q2 worker, {broker} broker, "
        f"{database}, {os.cpu_count()} cores; events committed one per transaction in "
        f"{result['produce_s']:.1f} s (a burst)",
        "",
        "| webhook figure | result |",
        "|---|---:|",
        f"| commit -> receipt, p50 / p95 / max | {result['p50_s']:.1f} s / "
        f"{result['p95_s']:.1f} s / {result['max_s']:.1f} s |",
        f"| first commit -> last receipt | {result['total_s']:.1f} s "
        f"({result['per_s']:,.0f} deliveries/s, {result['ms_each']:.1f} ms each) |",
        f"| failures (not delivered after the wait) | {result['failures']} |",
        f"| duplicates received | {result['duplicates']} |",
    ]


# --- child ----------------------------------------------------------------------------


def _receivers(count: int):
    received: list[dict] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            at = time.time()
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                received.append({"id": self.headers["webhook-id"], "at": at})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    servers = []
    for _ in range(count):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    return servers, received, lock


def phase_fanout() -> dict:
    from django.db import transaction
    from django.utils import timezone

    from partners.models import DeliveryStatus, Partner, WebhookDelivery
    from partners.webhooks import services

    servers, received, lock = _receivers(ENDPOINTS)
    partner = Partner.objects.create(name="Bench Webhooks", slug=f"bench-hooks-{int(time.time())}")
    for server in servers:
        host, port = server.server_address[:2]
        services.endpoint_create(
            partner=partner, url=f"http://{host}:{port}/hooks", events=["member.joined"]
        )
    worker = subprocess.Popen(
        [PY, "manage.py", "qcluster"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    committed: dict[str, float] = {}
    try:
        time.sleep(3)  # the cluster's processes start
        started = time.time()
        for i in range(EVENTS):
            with transaction.atomic():
                event = services.events_record(
                    partner_id=partner.pk,
                    type="member.joined",
                    data={"member": {"id": i}},
                    now=timezone.now(),
                )
            committed[event.public_id] = time.time()
        produce_s = time.time() - started
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= EVENTS * ENDPOINTS:
                    break
            time.sleep(0.5)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        for server in servers:
            server.shutdown()
    with lock:
        got = list(received)
    latencies = sorted(item["at"] - committed[item["id"]] for item in got)
    pending = WebhookDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).count()
    seen = {}
    for item in got:
        seen[item["id"]] = seen.get(item["id"], 0) + 1
    duplicates = sum(n - ENDPOINTS for n in seen.values() if n > ENDPOINTS)
    total_s = max(item["at"] for item in got) - started if got else float("nan")
    return {
        "produce_s": produce_s,
        "p50_s": statistics.median(latencies) if latencies else float("nan"),
        "p95_s": latencies[int(len(latencies) * 0.95) - 1] if latencies else float("nan"),
        "max_s": latencies[-1] if latencies else float("nan"),
        "total_s": total_s,
        "per_s": len(got) / total_s if got else 0,
        "ms_each": total_s * 1000 / len(got) if got else float("nan"),
        "failures": pending,
        "duplicates": duplicates,
        "received": len(got),
    }


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--phase":
        setup_django()
        print(json.dumps({"fanout": phase_fanout}[sys.argv[2]]()))
    else:
        main()
