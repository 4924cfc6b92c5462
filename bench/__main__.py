"""make bench: the benchmark table.

Starts gunicorn (2 workers, loopback) on a throwaway database, drives it with
wrk, and reports each endpoint's requests/s and p95 latency as a ratio to a
bare Django view returning {} measured in the same run (machines are noisy;
ratios are what we compare). Rounds are interleaved and the median is kept.

Environment: BENCH_SECONDS (per measurement, default 5), BENCH_ROUNDS (3),
BENCH_CONNECTIONS (8), DATABASE_URL (PostgreSQL instead of SQLite: a database of
the run's own is made on that server and dropped at the end),
BENCH_CERTIFICATES=0 to skip the certificate figures (about 6 minutes),
BENCH_PARTNERS=0 to skip the partner figures (about 70 seconds),
BENCH_ONLY=badge,directory to measure only the rows whose names hold one
of these words against the baseline (no exam, certificate or partner
figures), BENCH_WEBHOOKS=0 to skip the webhook fan-out (bench/webhooks.py:
1,000 events to 10 loopback endpoints with one worker; minutes on a busy
machine), BENCH_WRITE=1 to also write docs/benchmarks.md, BENCH_PORT (the
server's port; default: a free one).

Two reference rows follow the baseline: one prepared SELECT and one durable
UPDATE (autocommit) of an answer row, with nothing else (bench/urls.py). They
show what the database alone costs a request on this machine: an answer save
does at least that UPDATE, so its ratio cannot pass that row's.

Directory rows (bench/directory.py): the partner badge served from the
cache and the public directory API over 1,000 verified partners; the query
counts of the directory API and page at 10 and at 1,000 partners.

Exam rows (bench/exams.py): answer saves (PUT with a JSON body, wrk Lua
script) in the same table; then 100 learners starting the same exam at once
against the same server, and item analysis of 10,000 attempts x 60 questions
in a separate process once the server has stopped.
"""

import atexit
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import exams as exam_bench
from bench.throwaway import fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
ONLY = [word for word in os.environ.get("BENCH_ONLY", "").split(",") if word]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=False,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "wrk"],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
        return shutil.which("wrk")
    sys.exit("wrk is missing: install Debian's 'wrk' package.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not come up at {url}")


def run_wrk(
    wrk: str, url: str, headers: dict[str, str], script: Path | None = None
) -> dict[str, float]:
    script = script or ROOT / "bench" / "p95.lua"
    # A 10 s timeout: on a loaded machine a slow page is slow, not an error.
    cmd = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"^BENCH (.*)$", out, re.M)
    fields = dict(item.split("=") for item in match.group(1).split())
    result = {key: float(value) for key, value in fields.items()}
    if result["errors"]:
        raise RuntimeError(f"{url}: {int(result['errors'])} errors\n{out}")
    return result


SELECT_ROW = "reference: one prepared SELECT of an answer row (no auth, no checks)"
UPDATE_ROW = "reference: one durable UPDATE of an answer row (autocommit; no auth, no checks)"
BADGE_ROW = "partner badge GET /partners/{slug}/badge.svg?track=apps (from the cache)"
SAVE_ROW = "answer save PUT /api/v1/attempts/{id}/items/{item_id} (bearer, JSON)"


def exam_lines(starts: list[dict], analysis: dict) -> list[str]:
    """The exam figures that are not requests/s: synchronised start and item analysis."""

    def median(key: str) -> float:
        return statistics.median(s[key] for s in starts)

    learners = starts[0]["learners"]
    size = f"{analysis['attempts']:,} attempts x {analysis['questions']} questions"
    return [
        "",
        "| exam figure | result |",
        "|---|---:|",
        f"| synchronised start: {learners} learners POST /api/v1/exams/{{slug}}/attempts at "
        f"once, all 201 (median of {len(starts)} rounds) | p95 {median('p95_ms'):,.0f} ms, "
        f"max {median('max_ms'):,.0f} ms, all done in {median('wall_s'):.2f} s |",
        f"| item analysis, {size}: exams.selectors.exam_item_analysis on stored data | "
        f"{analysis['selector_s']:.2f} s, {analysis['selector_queries']} queries |",
        f"| item analysis, {size}: exams.item_analysis.analyse_items (pure, in memory) | "
        f"{analysis['pure_s']:.2f} s, 0 queries |",
        f"| building that data ({analysis['items_stored']:,} attempt items, bulk_create) | "
        f"{analysis['build_s']:.1f} s |",
    ]


def main() -> None:
    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="academy-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SQLITE_PATH": str(work / "bench.sqlite3"),
        "PYTHONPATH": str(ROOT),
        # As behind one load balancer: X-Forwarded-For's last entry is the client
        # (only the public /healthz row sends one; the rest stay loopback).
        "TRUSTED_PROXY_COUNT": "1",
    }
    database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    if env.get("DATABASE_URL"):
        # A database of this run's own on that server (created here, dropped at exit).
        env["DATABASE_URL"], drop = fresh_postgres_database(env["DATABASE_URL"])
        atexit.register(drop)
    if not env.get("REDIS_URL") and redis_answers("127.0.0.1", 6379):
        # Production runs several web processes on a shared cache (README);
        # so does the benchmark when Redis is there (db 1, not the dev data's).
        env["REDIS_URL"] = "redis://127.0.0.1:6379/1"
    cache_name = "Redis cache" if env.get("REDIS_URL") else "per-process memory cache"
    print(f"Preparing a throwaway {database} database ...", flush=True)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    prepared = json.loads(
        subprocess.run(
            [PY, "-m", "bench.prepare"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.PIPE,  # its errors reach the terminal
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    token, cookie = prepared["token"], {"Cookie": prepared["cookie"]}
    bearer = {"Authorization": f"Bearer {token}"}
    exam_data = prepared["exams"]
    save_lua = exam_bench.save_script(exam_data, work / "answer_save.lua")

    port = int(os.environ.get("BENCH_PORT") or free_port())
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "bench.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    rows = [
        ("bare Django view returning {} (baseline)", "/bench/empty", {}),
        (SELECT_ROW, f"/bench/select-item/{exam_data['save']['items'][0][0]}", {}),
        (UPDATE_ROW, f"/bench/update-item/{exam_data['save']['items'][0][0]}", {}),
        # The load balancer's probe gets the public answer; a client on this
        # machine (or staff) the details (database, queue, cache).
        ("GET /healthz (public answer)", "/healthz", {"X-Forwarded-For": "203.0.113.9"}),
        ("GET /healthz (details, loopback)", "/healthz", {}),
        ("GET /api/v1/me (bearer token)", "/api/v1/me", {"Authorization": f"Bearer {token}"}),
        (
            "lesson page, repeat view (signed in, enrolled; the session's copy)",
            prepared["lesson_url"],
            cookie,
        ),
        (
            "lesson page, rendered (same, ?render: no copy)",
            prepared["lesson_url"] + "?render",
            cookie,
        ),
        ("course page (signed in, enrolled)", prepared["course_url"], cookie),
        ("catalogue /courses/ (signed in)", "/courses/", cookie),
        ("dashboard /dashboard/ (signed in)", "/dashboard/", cookie),
        (SAVE_ROW, f"/api/v1/attempts/{exam_data['save']['attempt']}/items/", bearer),
        (BADGE_ROW, f"/partners/{prepared['directory']['badge_slug']}/badge.svg?track=apps", {}),
        (
            "directory API GET /api/v1/directory/partners (1,000 partners, 20 a page, public)",
            "/api/v1/directory/partners",
            {},
        ),
    ]
    if ONLY:  # the baseline and the rows named, nothing else
        rows = [rows[0]] + [r for r in rows[1:] if any(word in r[0] for word in ONLY)]
    scripts = {SAVE_ROW: save_lua}  # rows that are not plain GETs
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in rows}
    try:
        wait_until_up(base + "/bench/empty")
        for name, path, headers in rows:  # warm-up: imports, connections, caches
            run_wrk_quick = [wrk, "-t1", "-c2", "-d1s"]
            if name in scripts:
                run_wrk_quick += ["-s", str(scripts[name])]
            for header, value in headers.items():
                run_wrk_quick += ["-H", f"{header}: {value}"]
            subprocess.run([*run_wrk_quick, base + path], capture_output=True, check=True)
        for round_no in range(1, ROUNDS + 1):
            print(f"Round {round_no}/{ROUNDS} ...", flush=True)
            for name, path, headers in rows:
                results[name].append(run_wrk(wrk, base + path, headers, scripts.get(name)))
        starts = []
        for slug in [] if ONLY else exam_data["start"]["slugs"]:
            print(f"Synchronised start: {slug} ...", flush=True)
            starts.append(exam_bench.synchronised_start(base, exam_data["start"]["tokens"], slug))
    finally:
        server.terminate()
        server.wait(timeout=30)
    analysis = None
    try:
        if not ONLY:  # only the rows named: no item analysis
            print("Item analysis: building 10,000 attempts x 60 questions ...", flush=True)
            analysis = json.loads(
                subprocess.run(
                    [PY, "-m", "bench.exams", "analyse"],
                    cwd=ROOT,
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    baseline = rows[0][0]
    base_rps, base_p95 = median(baseline, "rps"), median(baseline, "p95_ms")
    lines = [
        f"gunicorn 2 workers, loopback, wrk 1 thread x {CONNECTIONS} connections, "
        f"{SECONDS}s x {ROUNDS} interleaved rounds (median), {database}, {cache_name}, "
        f"{os.cpu_count()} cores",
        "",
        "| endpoint | requests/s | p95 ms | req/s ratio to baseline | p95 ratio to baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, _, _ in rows:
        rps, p95 = median(name, "rps"), median(name, "p95_ms")
        lines.append(
            f"| {name} | {rps:,.0f} | {p95:.1f} | {rps / base_rps:.2f} | {p95 / base_p95:.2f} |"
        )
    if analysis is not None:
        lines += exam_lines(starts, analysis)
    counts = prepared["directory"]["queries"]
    badge_ratio = median(BADGE_ROW, "rps") / base_rps if BADGE_ROW in results else float("nan")
    lines += [
        "",
        "| directory figure | 10 partners | 1,000 partners |",
        "|---|---:|---:|",
        f"| queries of GET /api/v1/directory/partners?limit=100 | {counts['10']['api']} | "
        f"{counts['1000']['api']} |",
        f"| queries of /partners/directory/?track=technology | {counts['10']['page']} | "
        f"{counts['1000']['page']} |",
        f"| badge from the cache: requests/s ratio to the bare view (target >= 0.5) | | "
        f"{badge_ratio:.2f} |",
    ]
    if os.environ.get("BENCH_CERTIFICATES", "1") != "0" and not ONLY:
        print("Certificates (render, memory, downloads, bulk of 1,000) ...", flush=True)
        from bench import certificates

        lines += ["", *certificates.run()]
    if os.environ.get("BENCH_PARTNERS", "1") != "0" and not ONLY:
        print("Partners (status recompute at scale, zip of 200 certificates) ...", flush=True)
        from bench import partners

        lines += ["", *partners.run()]
    if os.environ.get("BENCH_WEBHOOKS", "1") != "0":
        print("Webhooks (1,000 events to 10 endpoints, one worker) ...", flush=True)
        from bench import webhooks

        lines += ["", *webhooks.run()]
    table = "\n".join(lines)
    print()
    print(table)
    if os.environ.get("BENCH_WRITE"):
        doc = ROOT / "docs" / "benchmarks.md"
        doc.parent.mkdir(exist_ok=True)
        doc.write_text(
            "# Benchmarks\n\n`make bench` prints this table; ratios compare each row with the "
            "bare Django view measured in the same run.\n\n" + table + "\n"
        )
        print(f"\nwritten to {doc.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
