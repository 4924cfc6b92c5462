"""The load test's PostgreSQL: the migrated template, the run's database, a
cluster of its own for the fault run, and the connection budget."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .common import (
    DB,
    HEADROOM,
    PG_ADMIN,
    POOL_MAX,
    PY,
    Q_WORKERS,
    ROOT,
    TEMPLATE,
    VAR,
    WEB_WORKERS,
    log,
)


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


def database_checks(run_dir: Path, plan: dict, env: dict, *, echo_errors: bool = False) -> dict:
    """Run `scripts.loadtest.checks` on the run's database once the load is over.

    Returns its report (`{"checks": [...]}`); when the checks themselves fail
    to run, a single failed check carrying their error output (also written to
    stderr with `echo_errors`).
    """
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
            # The claim of a killed worker's outbox row (150 s) or the requeue
            # time of a killed web node's row (90 s), the sweep (60 s) and the
            # run itself.
            os.environ.get("DRAIN", "240"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if echo_errors and checks.returncode != 0:
        sys.stderr.write(checks.stderr)
    return (
        json.loads(checks.stdout.strip().splitlines()[-1])
        if checks.returncode == 0
        else {"checks": [{"name": "checks ran", "ok": False, "detail": checks.stderr[-2000:]}]}
    )
