"""Certificate figures for `make bench`: `run()` returns markdown table lines.

Everything runs in-process (no gunicorn) against a throwaway SQLite database
(or DATABASE_URL) and a throwaway PRIVATE_ROOT, each phase in a fresh
subprocess with DJANGO_SETTINGS_MODULE=bench.settings:

- render, cold: WeasyPrint import + the first certificate in a fresh process
  (after django.setup()), against the same for a minimal one-page HTML;
  median of BENCH_CERT_COLD_ROUNDS (3) fresh processes each, interleaved.
- render, warm: median of 20 certificates against median of 20 minimal
  HTML renders, interleaved in one process.
- worker memory: RSS after 200 certificate renders (and after 200 minimal
  renders, for comparison) in one process each.
- download of a stored certificate: requests/s of the signed-in page view
  and the bearer-token API view with Django's test Client, against a bare
  view returning {} through the same Client; renders are counted (must be
  zero) and the queries of one request reported.
- bulk: BENCH_CERT_BULK (1,000) people who passed exam and project get
  their credential through certificates.services.credential_issue_if_eligible;
  each PDF is rendered by the django-q2 task (certificates.tasks.render_certificate)
  queued after commit, run inline (django-q2 sync mode). If the first 200
  project past BENCH_CERT_BULK_BUDGET seconds (300), the rest is extrapolated
  and the table says so.

Run standalone: `python -m bench.certificates`.
"""

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.throwaway import migrate, print_table, rss_kib, run_phase, setup_django, throwaway_env

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
COLD_ROUNDS = int(os.environ.get("BENCH_CERT_COLD_ROUNDS", "3"))
WARM = 20
MEMORY_RENDERS = 200
BULK = int(os.environ.get("BENCH_CERT_BULK", "1000"))
BULK_PROBE = min(200, BULK)
BULK_BUDGET = float(os.environ.get("BENCH_CERT_BULK_BUDGET", "300"))

MINIMAL_HTML = (
    "<!doctype html><html><head><title>Minimal</title></head><body><p>Hello.</p></body></html>"
)


# --- parent: orchestration ----------------------------------------------------------


def _mb(kib: float) -> str:
    return f"{kib / 1024:,.0f} MB"


def run() -> list[str]:
    """Measure everything; return the markdown lines (a caption, blank, the table)."""
    work = Path(tempfile.mkdtemp(prefix="academy-bench-certs-"))
    env = throwaway_env(work)
    database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    try:
        print(f"Certificates: preparing a throwaway {database} database ...", flush=True)
        migrate(env)
        prepared = run_phase("bench.certificates", env, "prepare")
        cid = str(prepared["credential_id"])

        print("Certificates: cold renders ...", flush=True)
        cold_cert, cold_min = [], []
        for _ in range(COLD_ROUNDS):
            cold_cert.append(
                run_phase("bench.certificates", env, "cold", "certificate", cid)["seconds"]
            )
            cold_min.append(run_phase("bench.certificates", env, "cold", "minimal", cid)["seconds"])
        print("Certificates: warm renders ...", flush=True)
        warm = run_phase("bench.certificates", env, "warm", cid)
        print("Certificates: memory after 200 renders ...", flush=True)
        mem_cert = run_phase("bench.certificates", env, "memory", "certificate", cid)
        mem_min = run_phase("bench.certificates", env, "memory", "minimal", cid)
        print("Certificates: stored-PDF downloads ...", flush=True)
        download = run_phase("bench.certificates", env, "download", cid)
        print(f"Certificates: bulk issue of {BULK:,} credentials ...", flush=True)
        bulk = run_phase("bench.certificates", env, "bulk")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    c_cold, m_cold = statistics.median(cold_cert), statistics.median(cold_min)
    c_warm, m_warm = warm["certificate"], warm["minimal"]
    lines = [
        f"Certificates: WeasyPrint {warm['weasyprint']}, in-process (no gunicorn), {database}, "
        f"{os.cpu_count()} cores; ratios against WeasyPrint rendering a minimal one-page HTML "
        "or a bare Django view, measured in the same run",
        "",
        "| certificates | measured | baseline (same run) | ratio to baseline |",
        "|---|---:|---:|---:|",
        f"| render, cold: WeasyPrint import + first certificate in a fresh process "
        f"(median of {COLD_ROUNDS}) | {c_cold:.2f} s | minimal HTML, cold: {m_cold:.2f} s "
        f"| {c_cold / m_cold:.2f} |",
        f"| render, warm (median of {WARM}) | {c_warm * 1000:.0f} ms "
        f"| minimal HTML, warm: {m_warm * 1000:.0f} ms | {c_warm / m_warm:.2f} |",
        f"| worker RSS after {MEMORY_RENDERS} certificate renders "
        f"({_mb(mem_cert['rss_first_kib'])} after the first) | {_mb(mem_cert['rss_kib'])} "
        f"| minimal HTML: {_mb(mem_min['rss_kib'])} after {MEMORY_RENDERS} "
        f"({_mb(mem_min['rss_first_kib'])} after the first) "
        f"| {mem_cert['rss_kib'] / mem_min['rss_kib']:.2f} |",
    ]
    base = download["bare"]
    for key, label in (
        ("page", "stored certificate download, /certificates/{id}/pdf (signed in)"),
        ("api", "stored certificate download, /api/v1/credentials/{id}/pdf (bearer token)"),
    ):
        row = download[key]
        lines.append(
            f"| {label}: {row['queries']} queries, {download['renders']} renders "
            f"| {row['rps']:,.0f} req/s | bare view {{}}: {base['rps']:,.0f} req/s "
            f"| {row['rps'] / base['rps']:.2f} |"
        )
    if bulk["done"] == bulk["target"]:
        bulk_text = f"{bulk['seconds']:.0f} s"
        note = ""
    else:
        bulk_text = f"~{bulk['projected_seconds']:.0f} s (extrapolated)"
        note = (
            f"; measured {bulk['done']:,} in {bulk['seconds']:.0f} s and extrapolated, since "
            f"{bulk['target']:,} would exceed {BULK_BUDGET:.0f} s"
        )
    lines.append(
        f"| bulk: {bulk['target']:,} credentials issued, each PDF rendered by the django-q2 "
        f"task (sync){note}: {bulk['failures']} failures, {bulk['stored']:,} of "
        f"{bulk['done']:,} PDFs stored, rendering {bulk['render_seconds']:.0f} s of it "
        f"| {bulk_text} | per credential {bulk['seconds'] / max(bulk['done'], 1) * 1000:.0f} ms "
        f"| {bulk['seconds'] / max(bulk['done'], 1) / c_warm:.2f} x warm render |"
    )
    if download["renders"] or bulk["failures"]:
        lines.append("")
        lines.append(
            f"**Check failed:** {download['renders']} renders during downloads, "
            f"{bulk['failures']} bulk failures."
        )
    return lines


def main() -> None:
    print_table(run())


# --- children: one phase each, in a fresh process ----------------------------------------


def _certification():
    from certificates.models import Certification
    from exams.models import Exam, ProjectBrief

    exam, _ = Exam.objects.get_or_create(slug="bench-developer", defaults={"title": "Developer"})
    brief, _ = ProjectBrief.objects.get_or_create(
        slug="bench-developer-project",
        defaults={
            "title": "Developer project",
            "instructions": "Build a payment integration.",
            "pass_threshold": 10,
            "is_published": True,
        },
    )
    certification, _ = Certification.objects.get_or_create(
        slug="developer",
        defaults={"name": "Developer", "exam": exam, "project_brief": brief},
    )
    return certification


def _people_who_passed(certification, count: int, *, prefix: str) -> list:
    """`count` people with a passed attempt and a passed project (rows, no services)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from exams.models import Attempt, AttemptStatus, Submission, SubmissionStatus

    User = get_user_model()
    now = timezone.now()
    people = User.objects.bulk_create(
        [
            User(
                email=f"{prefix}{n}@example.com",
                legal_name=f"Bench Person {prefix.title()} {n:04d}",
                password="!",
                # Certificates are issued only to confirmed addresses.
                email_confirmed_at=now,
            )
            for n in range(count)
        ]
    )
    people = list(User.objects.filter(email__startswith=prefix).order_by("pk"))
    Attempt.objects.bulk_create(
        [
            Attempt(
                person=person,
                exam=certification.exam,
                status=AttemptStatus.SUBMITTED,
                seed=1,
                started_at=now - timedelta(minutes=30),
                deadline=now + timedelta(minutes=60),
                submitted_at=now,
                pass_mark_percent=Decimal(80),
                score_correct=9,
                score_total=10,
                score_percent=Decimal(90),
                passed=True,
            )
            for person in people
        ]
    )
    Submission.objects.bulk_create(
        [
            Submission(
                person=person,
                brief=certification.project_brief,
                status=SubmissionStatus.PASSED,
                created_at=now - timedelta(days=2),
                decided_at=now,
                score=Decimal(12),
            )
            for person in people
        ]
    )
    return people


def phase_prepare() -> dict:
    from certificates import services, tasks

    certification = _certification()
    (holder,) = _people_who_passed(certification, 1, prefix="holder")
    queued = []
    services._queue_render = queued.append  # render below, by the task function
    credential, created = services.credential_issue_if_eligible(
        person=holder, certification=certification
    )
    assert created, "the holder did not get a credential"
    tasks.render_certificate(credential.pk)
    return {"credential_id": credential.pk, "person_id": holder.pk}


def phase_cold(kind: str, credential_id: int) -> dict:
    from certificates.models import Credential

    credential = Credential.objects.select_related("certification").get(pk=credential_id)
    preloaded = "weasyprint" in sys.modules
    start = time.perf_counter()
    if kind == "certificate":
        from certificates import pdf

        data = pdf.render_certificate_pdf(credential)
    else:
        from weasyprint import HTML

        data = HTML(string=MINIMAL_HTML).write_pdf()
    seconds = time.perf_counter() - start
    assert data.startswith(b"%PDF-")
    return {"seconds": seconds, "weasyprint_preloaded": preloaded}


def phase_warm(credential_id: int) -> dict:
    import weasyprint
    from weasyprint import HTML

    from certificates import pdf
    from certificates.models import Credential

    credential = Credential.objects.select_related("certification").get(pk=credential_id)
    pdf.render_certificate_pdf(credential)  # warm-up: fonts, stylesheet
    HTML(string=MINIMAL_HTML).write_pdf()
    cert, minimal = [], []
    for _ in range(WARM):
        start = time.perf_counter()
        pdf.render_certificate_pdf(credential)
        cert.append(time.perf_counter() - start)
        start = time.perf_counter()
        HTML(string=MINIMAL_HTML).write_pdf()
        minimal.append(time.perf_counter() - start)
    return {
        "certificate": statistics.median(cert),
        "minimal": statistics.median(minimal),
        "weasyprint": weasyprint.__version__,
    }


def phase_memory(kind: str, credential_id: int) -> dict:
    from weasyprint import HTML

    from certificates import pdf
    from certificates.models import Credential

    credential = Credential.objects.select_related("certification").get(pk=credential_id)

    def render():
        if kind == "certificate":
            return pdf.render_certificate_pdf(credential)
        return HTML(string=MINIMAL_HTML).write_pdf()

    render()
    first = rss_kib()
    for _ in range(MEMORY_RENDERS - 1):
        render()
    return {"rss_first_kib": first, "rss_kib": rss_kib()}


def _rps(client, url: str, headers: dict) -> float:
    count, deadline = 0, time.perf_counter() + SECONDS
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
        if response.streaming:
            b"".join(response.streaming_content)
        response.close()
        count += 1
    return count / (time.perf_counter() - start)


def phase_download(credential_id: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from certificates import pdf
    from certificates.models import Credential
    from lms.tokens import token_create

    credential = Credential.objects.select_related("person").get(pk=credential_id)
    assert credential.pdf.name, "prepare stored no PDF"
    renders = []
    for name in ("render_certificate_pdf", "render_html_pdf"):
        original = getattr(pdf, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            renders.append(_name)
            return _original(*args, **kwargs)

        setattr(pdf, name, counted)

    client = Client(SERVER_NAME="localhost")
    client.force_login(credential.person, backend="django.contrib.auth.backends.ModelBackend")
    _, token = token_create(user=credential.person, name="bench")
    rows = {
        "bare": ("/bench/empty", {}),
        "page": (f"/certificates/{credential.public_id}/pdf", {}),
        "api": (
            f"/api/v1/credentials/{credential.public_id}/pdf",
            {"authorization": f"Bearer {token}"},
        ),
    }
    result: dict = {}
    for key, (url, headers) in rows.items():  # warm-up, and one request's queries
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=headers)
            if response.streaming:
                body = b"".join(response.streaming_content)
                assert body.startswith(b"%PDF-"), url
            response.close()
        assert response.status_code == 200, (url, response.status_code)
        result[key] = {"queries": len(queries), "rps": []}
    for _ in range(ROUNDS):
        for key, (url, headers) in rows.items():
            result[key]["rps"].append(_rps(client, url, headers))
    for row in result.values():
        row["rps"] = statistics.median(row["rps"])
    result["renders"] = len(renders)
    return result


def phase_bulk() -> dict:
    from django.conf import settings
    from django_q.conf import Conf
    from django_q.models import Task

    from certificates import pdf, services
    from certificates.models import Credential

    # The queued render runs inline, through django-q2's worker code. The
    # outbox queues with `sync=` from Q_CLUSTER (a per-call argument that
    # overrides Conf.SYNC), so both are set.
    Conf.SYNC = True
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    certification = _certification()
    people = _people_who_passed(certification, BULK, prefix="bulk")
    render_seconds = [0.0]
    original = pdf.render_certificate_pdf

    def timed(credential):
        start = time.perf_counter()
        try:
            return original(credential)
        finally:
            render_seconds[0] += time.perf_counter() - start

    pdf.render_certificate_pdf = timed
    failed: set[int] = set()
    done = 0
    start = time.perf_counter()
    for person in people:
        try:
            _credential, created = services.credential_issue_if_eligible(
                person=person, certification=certification
            )
            if not created:
                failed.add(person.pk)
        except Exception:  # counted and reported, never hidden
            failed.add(person.pk)
        done += 1
        if done == BULK_PROBE and done < BULK:
            projected = (time.perf_counter() - start) / done * BULK
            if projected > BULK_BUDGET:
                break
    seconds = time.perf_counter() - start
    stored = 0
    for person in people[:done]:
        credential = Credential.objects.filter(person=person, certification=certification).first()
        if (
            credential
            and credential.pdf.name
            and credential.pdf.storage.exists(credential.pdf.name)
        ):
            stored += 1
        else:
            failed.add(person.pk)
    task_failures = Task.objects.filter(
        func="certificates.tasks.render_certificate", success=False
    ).count()
    return {
        "target": BULK,
        "done": done,
        "seconds": seconds,
        "projected_seconds": seconds / done * BULK,
        "render_seconds": render_seconds[0],
        "stored": stored,
        "failures": len(failed),
        "task_failures": task_failures,
    }


def _child(argv: list[str]) -> None:
    setup_django()
    name, *args = argv
    phases = {
        "prepare": phase_prepare,
        "cold": lambda kind, cid: phase_cold(kind, int(cid)),
        "warm": lambda cid: phase_warm(int(cid)),
        "memory": lambda kind, cid: phase_memory(kind, int(cid)),
        "download": lambda cid: phase_download(int(cid)),
        "bulk": phase_bulk,
    }
    print(json.dumps(phases[name](*args)))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--phase":
        _child(sys.argv[2:])
    else:
        main()
