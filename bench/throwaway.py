"""Shared plumbing for benchmark modules that measure in subprocesses against a
throwaway database and file storage (bench.certificates, bench.partners)."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def throwaway_env(work: Path, **extra: str) -> dict[str, str]:
    """Environment for a subprocess: bench settings, SQLite and files under `work`
    (DATABASE_URL, when set, still switches to PostgreSQL)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SQLITE_PATH": str(work / "bench.sqlite3"),
        "PRIVATE_ROOT": str(work / "private"),
        "MEDIA_ROOT": str(work / "media"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def migrate(env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def run_phase(module: str, env: dict[str, str], name: str, *args: str) -> dict:
    """Run `python -m <module> --phase <name> ...`; its last output line is JSON."""
    out = subprocess.run(
        [PY, "-m", module, "--phase", name, *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def print_table(lines: list[str]) -> None:
    print()
    print("\n".join(lines))


def setup_django() -> None:
    """In a phase's subprocess: Django with the bench settings."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()


def rss_kib() -> int:
    """This process's resident memory in KiB (its peak where /proc is missing)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def fresh_postgres_database(url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty database on the PostgreSQL server of `url`, named after
    `url`'s database with a random suffix, so that runs never meet each
    other's rows; returns its URL and a function that drops it."""
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'academy'}_run_{secrets.token_hex(4)}"
    admin = urlunsplit(parts._replace(path="/postgres"))

    def run(statement: sql.Composed) -> None:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(statement)

    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    return urlunsplit(parts._replace(path=f"/{name}")), drop
