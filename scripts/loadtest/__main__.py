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

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .cluster import collect_static
from .common import VAR, Ports, log, seconds
from .database import OwnPostgres, ensure_template, fresh_database
from .report import print_report
from .scenarios import cluster_scenario, single_node_scenario


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
