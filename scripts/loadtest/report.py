"""The load test's figures from locust's CSVs, and the printed report."""

from __future__ import annotations

import csv
import json
from pathlib import Path


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
