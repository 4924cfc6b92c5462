"""Instructions per request: the server rows counted by valgrind, not timed.

`python -m bench.instructions` (or `make bench-instructions`) builds the
benchmark's data in a throwaway SQLite database (`bench.prepare`, as `make
bench` does), then runs one Django process under valgrind's callgrind and
sends each row's request through Django's WSGI handler 20 times (after 10 to
warm up). Only those requests are counted: they run inside a ctypes callback,
and callgrind collects inside `closure_fcn` (the C entry of such callbacks)
and nowhere else, one profile part per row.

An instruction count does not depend on what else the machine is doing, so
two trees can be compared on a busy machine: run this module in each, with
the same settings, and compare the ratios to the bare view. What it leaves
out is what happens outside the Python process (the database server for
PostgreSQL, Redis, the network, waiting); on SQLite the database's own work
is inside it and counted. It needs `valgrind` (Debian's package).

Environment: BENCH_INSTRUCTION_REQUESTS (20), REDIS_URL as for `make bench`
(the Redis cache when 127.0.0.1:6379 answers).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.throwaway import migrate, throwaway_env

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
REQUESTS = int(os.environ.get("BENCH_INSTRUCTION_REQUESTS", "20"))
WARM_UP = 10


def rows_for(prepared: dict) -> list[tuple[str, str, str, dict[str, str], bytes]]:
    """(name, method, path, headers, body) of each row, as `make bench` sends them."""
    token, cookie = prepared["token"], prepared["cookie"]
    save = prepared["exams"]["save"]
    item_id, order = save["items"][0]
    bearer = {"Authorization": f"Bearer {token}"}
    page = {"Cookie": cookie}
    body = json.dumps({"choice_ids": [order[0]], "flagged": False}).encode()
    return [
        ("bare Django view returning {} (baseline)", "GET", "/bench/empty", {}, b""),
        ("reference: one prepared SELECT", "GET", f"/bench/select-item/{item_id}", {}, b""),
        ("reference: one durable UPDATE", "GET", f"/bench/update-item/{item_id}", {}, b""),
        ("GET /healthz (details, loopback)", "GET", "/healthz", {}, b""),
        ("GET /api/v1/me (bearer token)", "GET", "/api/v1/me", bearer, b""),
        ("lesson page, repeat view", "GET", prepared["lesson_url"], page, b""),
        ("lesson page, rendered", "GET", prepared["lesson_url"] + "?render", page, b""),
        ("course page", "GET", prepared["course_url"], page, b""),
        ("catalogue /courses/", "GET", "/courses/", page, b""),
        ("dashboard /dashboard/", "GET", "/dashboard/", page, b""),
        (
            "answer save PUT /api/v1/attempts/{id}/items/{item_id}",
            "PUT",
            f"/api/v1/attempts/{save['attempt']}/items/{item_id}",
            {**bearer, "Content-Type": "application/json"},
            body,
        ),
    ]


def child(rows_file: str) -> None:
    """Under valgrind: send each row's requests inside a ctypes callback."""
    import ctypes
    import io

    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    # Valgrind started without instrumenting (Django's start-up would take
    # minutes under it); from here on it instruments, still collecting nothing.
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, timeout=300)

    def environ(method: str, path: str, headers: dict[str, str], body: bytes) -> dict:
        path, _, query = path.partition("?")
        env = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1",
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            env[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
        return env

    def send(method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        statuses = []
        response = handler(environ(method, path, headers, body), lambda s, h: statuses.append(s))
        b"".join(response)
        response.close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{method} {path}: {statuses[0]}")

    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    libc = ctypes.CDLL(None)
    libc.bsearch.restype = ctypes.c_void_p
    key, array = ctypes.c_int(0), (ctypes.c_int * 1)(0)
    for _name, method, path, headers, body in json.loads(Path(rows_file).read_text()):
        for _ in range(WARM_UP):
            send(method, path, headers, body.encode("latin-1"))

        def measured(_a: int, _b: int, method=method, path=path, headers=headers, body=body) -> int:
            for _ in range(REQUESTS):
                send(method, path, headers, body.encode("latin-1"))
            return 0

        # bsearch over one element calls the comparison once: the counted part.
        libc.bsearch(
            ctypes.byref(key), array, 1, ctypes.sizeof(ctypes.c_int), callback_type(measured)
        )


def _redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed: apt-get install -y valgrind")
    work = Path(tempfile.mkdtemp(prefix="academy-instructions-"))
    env = throwaway_env(work, PYTHONHASHSEED="0")
    env.pop("DATABASE_URL", None)  # SQLite: the counts compare trees, not databases
    if not env.get("REDIS_URL") and _redis_answers():
        env["REDIS_URL"] = "redis://127.0.0.1:6379/1"  # as `make bench` does
    try:
        print("Preparing a throwaway SQLite database ...", flush=True)
        migrate(env)
        out = subprocess.run(
            [PY, "-m", "bench.prepare"], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE
        ).stdout
        prepared = json.loads(out.decode().strip().splitlines()[-1])
        rows = rows_for(prepared)
        rows_file = work / "rows.json"
        rows_file.write_text(
            json.dumps([(n, m, p, h, b.decode("latin-1")) for n, m, p, h, b in rows])
        )
        print(f"Counting {len(rows)} rows under callgrind (a few minutes) ...", flush=True)
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                "--collect-atstart=no",
                "--toggle-collect=closure_fcn",
                "--dump-after=closure_fcn",
                f"--callgrind-out-file={work}/callgrind.out",
                PY,
                "-m",
                "bench.instructions",
                "--child",
                str(rows_file),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        parts = sorted(work.glob("callgrind.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[-1]))
        totals = []
        for part in parts:
            found = re.search(r"^totals:\s*(\d+)", part.read_text(), re.M)
            if found and int(found.group(1)):
                totals.append(int(found.group(1)))
        if len(totals) != len(rows):
            raise SystemExit(f"expected {len(rows)} profile parts, got {len(totals)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = totals[0] / REQUESTS
    print()
    print(
        f"Instructions per request (valgrind callgrind, Django's WSGI handler in one process, "
        f"{REQUESTS} requests after {WARM_UP}, SQLite, "
        f"{'Redis cache' if env.get('REDIS_URL') else 'cache as configured'})"
    )
    print()
    print("| endpoint | instructions per request | ratio to the bare view |")
    print("|---|---:|---:|")
    for (name, *_), total in zip(rows, totals, strict=True):
        per = total / REQUESTS
        print(f"| {name} | {per:,.0f} | {per / base:.2f} |")


if __name__ == "__main__":
    main()
