"""The database checks after a load-test run (a Django process on the run's database).

`python -m scripts.loadtest.checks --plan plan.json --dir RUN_DIR --drain SECONDS`
waits (up to --drain seconds) for the queue to empty and every passed
candidate's certificate to be rendered, then prints one JSON object:
{"checks": [{"name", "ok", "detail"}], "drain_seconds": ...}. The rules:
- every answer save acknowledged with 200 is in the database with the value
  last acknowledged for that question, or with one the client sent after it
  and never heard back about (counted apart);
- exactly one attempt per person and exam;
- each acknowledged submit is scored once, with the score the client was shown;
- each credential is issued once (one issue event, one active credential per
  person) with exactly one PDF (the file exists; no other certificate file);
- the queue is drained: django-q2's queue (Redis or the database) is empty and,
  where an outbox table exists, none of its rows is waiting.
"""

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

import django


def _load_jsonl(folder: Path, prefix: str) -> list[dict]:
    rows = []
    for path in sorted(folder.glob(f"{prefix}-*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    return rows


def _pending_queue() -> dict:
    from django.db import connection
    from django_q.brokers import get_broker
    from django_q.models import OrmQ

    pending = {"broker": None, "orm": OrmQ.objects.count(), "outbox": None}
    try:
        pending["broker"] = get_broker().queue_size()
    except Exception as error:  # Redis unreachable: reported, not hidden
        pending["broker"] = f"unreachable: {error}"
    outbox_tables = [t for t in connection.introspection.table_names() if "outbox" in t]
    if outbox_tables:
        waiting = 0
        with connection.cursor() as cursor:
            for table in outbox_tables:
                columns = {
                    c.name for c in connection.introspection.get_table_description(cursor, table)
                }
                quoted = connection.ops.quote_name(table)
                for column in ("done_at", "completed_at", "processed_at", "sent_at"):
                    if column in columns:
                        cursor.execute(
                            f"SELECT count(*) FROM {quoted} WHERE {column} IS NULL"  # noqa: S608
                        )
                        waiting += cursor.fetchone()[0]
                        break
        pending["outbox"] = waiting
    return pending


def _drained(pending: dict) -> bool:
    return pending["broker"] in (0, None) and pending["orm"] == 0 and not pending["outbox"]


def _unrendered(certification) -> int:
    from certificates.models import Credential

    return Credential.objects.filter(certification=certification, pdf="").count()


def run_checks(plan: dict, folder: Path, drain: float) -> dict:
    from django.conf import settings
    from django.db.models import Count

    from certificates.models import Certification, Credential, CredentialEvent, EventKind
    from exams.models import Attempt, AttemptItem, Exam

    exam = Exam.objects.get(slug=plan["exam"])
    certification = Certification.objects.get(slug=plan["certification"])
    began = time.monotonic()
    while True:
        pending = _pending_queue()
        unrendered = _unrendered(certification)
        if (_drained(pending) and unrendered == 0) or time.monotonic() - began > drain:
            break
        time.sleep(1)
    drain_seconds = round(time.monotonic() - began, 1)
    checks = []

    def check(name: str, ok: bool, detail) -> None:
        checks.append({"name": name, "ok": bool(ok), "detail": detail})

    # 1. acknowledged saves
    acks = _load_jsonl(folder, "acks")
    last = {}
    for row in sorted(acks, key=lambda r: r["seq"]):
        last[(row["attempt"], row["item"])] = (row["seq"], sorted(row["choices"]))
    # A save sent after the last acknowledged one, never answered (its reply
    # lost, the run over), may have been stored: that is not a lost answer.
    later: dict = {}
    for row in _load_jsonl(folder, "sends"):
        key = (row["attempt"], row["item"])
        if key in last and row["seq"] > last[key][0]:
            later.setdefault(key, []).append(sorted(row["choices"]))
    stored = {
        (a, i): sorted(v or [])
        for a, i, v in AttemptItem.objects.filter(
            attempt__exam=exam, attempt_id__in={a for a, _ in last}
        ).values_list("attempt_id", "id", "selected_choice_ids")
    }
    lost = [
        {"attempt": a, "item": i, "acked": v, "stored": stored.get((a, i))}
        for (a, i), (_, v) in last.items()
        if stored.get((a, i)) != v and stored.get((a, i)) not in later.get((a, i), [])
    ]
    newer_unacknowledged = sum(
        1
        for key, (_, v) in last.items()
        if stored.get(key) != v and stored.get(key) in later.get(key, [])
    )
    check(
        "acknowledged saves are in the database with that value",
        not lost,
        {
            "acked_saves": len(acks),
            "questions": len(last),
            "lost": len(lost),
            "newer_unacknowledged_save_stored": newer_unacknowledged,
            "examples": lost[:5],
        },
    )

    # 2. one attempt per person and exam
    per_person = Counter(
        dict(
            Attempt.objects.filter(exam=exam)
            .values_list("person_id")
            .annotate(n=Count("id"))
            .values_list("person_id", "n")
        )
    )
    doubles = {pid: n for pid, n in per_person.items() if n != 1}
    check(
        "exactly one attempt per person and exam",
        not doubles,
        {"people_with_an_attempt": len(per_person), "more_than_one": len(doubles)},
    )

    # 3. each acknowledged submit scored once, as shown
    submits = _load_jsonl(folder, "submits")
    shown = {}
    for row in submits:
        shown.setdefault(row["attempt"], row)
    attempts = {a.pk: a for a in Attempt.objects.filter(exam=exam).select_related("person")}
    wrong = []
    for attempt_id, row in shown.items():
        attempt = attempts.get(attempt_id)
        if (
            attempt is None
            or attempt.submitted_at is None
            or attempt.score_percent is None
            or float(attempt.score_percent) != float(row["score_percent"])
            or attempt.score_correct != row["correct"]
        ):
            wrong.append({"attempt": attempt_id, "shown": row["score_percent"]})
    unscored = [
        a.pk for a in attempts.values() if a.submitted_at is not None and a.score_percent is None
    ]
    check(
        "each submit scored once, with the score shown",
        not wrong and not unscored,
        {
            "submits_acknowledged": len(shown),
            "submitted_in_db": sum(1 for a in attempts.values() if a.submitted_at),
            "different_from_shown": len(wrong),
            "unscored": len(unscored),
            "examples": wrong[:5],
        },
    )

    # 4. credentials: issued once, one PDF each
    passed_people = {a.person_id for a in attempts.values() if a.passed}
    credentials = list(Credential.objects.filter(certification=certification))
    per_holder = Counter(c.person_id for c in credentials)
    issue_events = Counter(
        CredentialEvent.objects.filter(
            credential__certification=certification, kind=EventKind.ISSUED
        ).values_list("credential_id", flat=True)
    )
    missing = passed_people - set(per_holder)
    twice = [pid for pid, n in per_holder.items() if n != 1]
    events_not_one = [c.pk for c in credentials if issue_events[c.pk] != 1]
    no_pdf = [c.pk for c in credentials if not c.pdf or not c.pdf.storage.exists(c.pdf.name)]
    folder_files = {
        str(p.relative_to(settings.PRIVATE_ROOT))
        for p in (Path(settings.PRIVATE_ROOT) / "certificates").glob("*.pdf")
    }
    referenced = {c.pdf.name for c in Credential.objects.exclude(pdf="")}
    orphans = sorted(folder_files - referenced)
    check(
        "each credential issued once, with exactly one PDF",
        not (missing or twice or events_not_one or no_pdf or orphans),
        {
            "credentials": len(credentials),
            "issued_in_run": len(credentials) - len(plan["learners"]),
            "passed_without_credential": len(missing),
            "people_with_two": len(twice),
            "issue_events_not_one": len(events_not_one),
            "without_pdf": len(no_pdf),
            "orphan_pdf_files": len(orphans),
        },
    )

    # 5. the queue
    check("the queue drained", _drained(pending), pending)
    return {"checks": checks, "drain_seconds": drain_seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--drain", type=float, default=60)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scripts.loadtest.settings")
    django.setup()
    result = run_checks(json.loads(Path(args.plan).read_text()), Path(args.dir), args.drain)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
