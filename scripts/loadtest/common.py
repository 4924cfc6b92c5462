"""The load test's paths, sizes and small helpers: logging, ports, HTTP probes."""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from pathlib import Path

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
