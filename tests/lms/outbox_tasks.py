"""Functions the outbox tests queue (lms.outbox finds them by dotted path)."""

import os
import threading
import time
from pathlib import Path

RUNS: list[str] = []
_lock = threading.Lock()


def record(label: str, *, pause: float = 0.0) -> str:
    """Note one completed run of `label` (after `pause` seconds of "work")."""
    if pause:
        time.sleep(pause)
    with _lock:
        RUNS.append(label)
    return label


class WorkerKilled(BaseException):
    """Stands for the worker process dying mid-run: nothing after it runs,
    not even the outbox's failure handling (it is not an Exception)."""


_died: set[str] = set()


def die_once(label: str) -> str:
    """The first run of `label` is killed mid-way; later ones complete."""
    with _lock:
        first = label not in _died
        _died.add(label)
    if first:
        raise WorkerKilled(label)
    return record(label)


def fail(label: str) -> None:
    raise RuntimeError(f"{label} failed")


def write_after(path: str, seconds: float) -> None:
    """For the worker-stop test: append one line to `path` when done. The
    first run works `seconds` first (long enough to be running when the
    worker is told to stop); a run after that one was cut short is quick."""
    started = Path(path).with_suffix(".started")
    first = not started.exists()
    with open(started, "a") as out:
        out.write(f"started by {os.getpid()}\n")
    if first:
        time.sleep(seconds)
    with open(path, "a") as out:
        out.write(f"done by {os.getpid()}\n")
