"""Partner figures for `make bench`: `run()` returns markdown table lines.

Everything runs in-process against a throwaway SQLite database (or
DATABASE_URL) and a throwaway PRIVATE_ROOT, each phase in a fresh subprocess
with DJANGO_SETTINGS_MODULE=bench.settings (e-mail to Django's locmem backend):

- status recompute: BENCH_PARTNERS_SCALE (10,000) partners x 20 current
  members (member 0 a partner admin), each partner on the technology track
  with a passed technical verification; 3 of every 4 members hold a
  developer or architect credential (random issue/expiry dates, seeded), built
  with bulk_create (then ANALYZE on PostgreSQL, see `_analyze`).
  `partners.status.services.partner_statuses_recompute()` is timed
  first run (everything written, one admin e-mail job queued per chunk) and
  repeat run (nothing changed), with its query count; the queued jobs' work
  (`track_status_changes_mail`, rendering and sending the e-mails) is run and
  timed after it, apart; the same is measured at 1,000 partners first
  (then the stored statuses are wiped and the data grown to full size), to show
  the queries grow per chunk of 1,000 partners, not per partner.
- analytics: on the same data, the programme analytics page and one
  partner's, timed through Django's test client in one process against the
  bare view (`/bench/empty`), as a ratio, with their query counts.
- certificates zip: a partner with 200 current members, each with an active
  credential whose PDF is stored. ONE real PDF is rendered with
  certificates.pdf; the other 199 are copies of it (saves ~1 minute of
  WeasyPrint). `partners.downloads.services.bundle_build(bundle_id=...)` is timed in a
  fresh process and its peak RSS growth reported (getrusage high-water mark
  against the RSS before the build), then a second bundle is built under
  tracemalloc for the Python heap peak, set against the zip's size.

Run standalone: `python -m bench.partners`.
"""

import gc
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.throwaway import migrate, print_table, rss_kib, run_phase, setup_django, throwaway_env

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SCALE = int(os.environ.get("BENCH_PARTNERS_SCALE", "10000"))
MEMBERS = 20
SMALL = 1000
ZIP_MEMBERS = 200
BLOCK = 1000  # partners built per bulk_create round (bounded memory)


# --- parent: orchestration ----------------------------------------------------------


def _mb(kib: float) -> str:
    return f"{kib / 1024:,.1f} MB"


def run() -> list[str]:
    """Measure everything; return the markdown lines (a caption, blank, the table)."""
    work = Path(tempfile.mkdtemp(prefix="academy-bench-partners-"))
    env = throwaway_env(work, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    database = "PostgreSQL" if env.get("DATABASE_URL") else "SQLite"
    tag = f"b{int(time.time())}"  # unique names, should DATABASE_URL not be empty
    try:
        print(f"Partners: preparing a throwaway {database} database ...", flush=True)
        migrate(env)
        print(f"Partners: status recompute, {SCALE:,} partners x {MEMBERS} ...", flush=True)
        status = run_phase("bench.partners", env, "status", str(SCALE), tag)
        print(f"Partners: analytics page on {SCALE:,} partners ...", flush=True)
        analytics = run_phase("bench.partners", env, "analytics", tag)
        print(f"Partners: zip of {ZIP_MEMBERS} certificates ...", flush=True)
        prepared = run_phase("bench.partners", env, "zip_prepare", tag)
        zipped = run_phase("bench.partners", env, "zip_build", str(prepared["partner_id"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    small, full = status["small"], status["full"]
    people = SCALE * MEMBERS
    lines = [
        f"Partners: in-process, {database}, {os.cpu_count()} cores; data built with "
        f"bulk_create ({people:,} people and {status['credentials']:,} credentials in "
        f"{status['build_seconds']:.0f} s, not counted)",
        "",
        "| partner figure | result |",
        "|---|---:|",
    ]
    for row, count in ((full, SCALE), (small, min(SMALL, SCALE))):
        lines.append(
            f"| recompute every partner's status, {count:,} partners x {MEMBERS} members"
            f", first run ({row['first']['records']:,} statuses written, "
            f"{row['first']['changes']:,} changes; {row['first']['mails']:,} admin e-mails "
            f"sent by the {row['first']['mail_jobs']} jobs it queued in "
            f"{row['first']['mail_seconds']:.1f} s, not counted) "
            f"| {row['first']['seconds']:.1f} s, {row['first']['queries']:,} queries |"
        )
        lines.append(
            f"| recompute every partner's status, {count:,} partners, repeat run "
            f"({row['repeat']['records']:,} written) "
            f"| {row['repeat']['seconds']:.1f} s, {row['repeat']['queries']:,} queries |"
        )
    if SCALE > SMALL:
        lines.append(
            f"| queries per 1,000 partners, first / repeat run: at {SMALL:,} vs at {SCALE:,} "
            f"partners (a fixed number per chunk of {status['chunk']:,}, none per partner) "
            f"| {small['first']['queries'] * 1000 / SMALL:.0f} / "
            f"{small['repeat']['queries'] * 1000 / SMALL:.0f} vs "
            f"{full['first']['queries'] * 1000 / SCALE:.0f} / "
            f"{full['repeat']['queries'] * 1000 / SCALE:.0f} |"
        )
    lines.append(
        f"| programme analytics page /partners/staff/analytics/ on {analytics['partners']:,} "
        f"partners, {analytics['credentials']:,} credentials, {analytics['changes']:,} track "
        f"status changes (in-process test client, median of {analytics['rounds']}; bare "
        f"view {analytics['bare_ms']:.2f} ms) | {analytics['page_ms']:,.0f} ms, "
        f"{analytics['page_ratio']:,.0f}x the bare view, {analytics['queries']} queries |"
    )
    lines.append(
        f"| a partner's analytics page /partners/<slug>/analytics/ (20 members), same data "
        f"| {analytics['partner_ms']:,.0f} ms, {analytics['partner_ratio']:,.0f}x the bare view, "
        f"{analytics['partner_queries']} queries |"
    )
    lines.append(
        f"| zip of {zipped['entries']} certificates ({_mb(zipped['zip_kib'])}; one real "
        f"PDF of {zipped['pdf_kib']:.0f} KB rendered with certificates.pdf, {ZIP_MEMBERS - 1} "
        f"stored copies of it), bundle_build | {zipped['seconds']:.2f} s, "
        f"{zipped['queries']} queries |"
    )
    lines.append(
        f"| zip memory: peak RSS growth during bundle_build (RSS {_mb(zipped['rss_before_kib'])} "
        f"before); Python heap peak under tracemalloc "
        f"| +{_mb(zipped['rss_growth_kib'])}; {_mb(zipped['tracemalloc_peak_kib'])} "
        f"(zip {_mb(zipped['zip_kib'])}) |"
    )
    if SCALE > SMALL and full["first"]["seconds"] > 10:
        lines.append("")
        lines.append(f"**Over the 10 s aim:** first run took {full['first']['seconds']:.1f} s.")
    if not zipped["built"] or zipped["entries"] != ZIP_MEMBERS:
        lines.append("")
        lines.append(f"**Check failed:** zip built={zipped['built']}, {zipped['entries']} entries.")
    return lines


def main() -> None:
    print_table(run())


# --- children: one phase each, in a fresh process ----------------------------------------


def _certifications() -> list:
    from certificates.models import Certification
    from exams.models import Exam

    found = []
    for slug, name in (("developer", "Developer"), ("architect", "Architect")):
        exam, _ = Exam.objects.get_or_create(slug=f"bench-{slug}", defaults={"title": name})
        certification, _ = Certification.objects.get_or_create(
            slug=slug, defaults={"name": name, "exam": exam}
        )
        found.append(certification)
    return found


def _build_partners(first: int, last: int, tag: str, certifications: list) -> int:
    """Partners first..last-1 with members, track, verification, credentials. Credentials made."""
    from datetime import timedelta

    from django.utils import timezone

    from certificates.models import Credential
    from lms.models import User
    from partners.models import Membership, Partner, PartnerTrack, TechnicalVerification

    rng = random.Random(first)
    now = timezone.now()
    made = 0
    for block in range(first, last, BLOCK):
        numbers = range(block, min(block + BLOCK, last))
        partners = Partner.objects.bulk_create(
            [Partner(name=f"Partner {n:05d}", slug=f"{tag}-p{n}", status="active") for n in numbers]
        )
        PartnerTrack.objects.bulk_create(
            [PartnerTrack(partner=p, track="technology") for p in partners]
        )
        TechnicalVerification.objects.bulk_create(
            [
                TechnicalVerification(
                    partner=p,
                    track="technology",
                    status="passed",
                    decided_on=now.date() - timedelta(days=100),
                )
                for p in partners
            ]
        )
        users = User.objects.bulk_create(
            [
                User(
                    email=f"{tag}-u{n}-{m}@example.com",
                    legal_name=f"Person {n} {m}",
                    password="!",
                )
                for n in numbers
                for m in range(MEMBERS)
            ],
            batch_size=5000,
        )
        Membership.objects.bulk_create(
            [
                Membership(
                    person=u,
                    partner=partners[i // MEMBERS],
                    role="admin" if i % MEMBERS == 0 else "employee",
                    started=now - timedelta(days=300),
                )
                for i, u in enumerate(users)
            ],
            batch_size=5000,
        )
        credentials = []
        for i, u in enumerate(users):
            if i % 4 == 3:
                continue
            issued = now - timedelta(days=rng.randint(1, 700))
            credentials.append(
                Credential(
                    person=u,
                    certification=certifications[i % 2],
                    holder_name=u.legal_name,
                    issued_at=issued,
                    expires_at=now + timedelta(days=rng.randint(-60, 700)),
                )
            )
            if credentials[-1].expires_at <= issued:
                credentials[-1].expires_at = issued + timedelta(days=1)
        Credential.objects.bulk_create(credentials, batch_size=5000)
        made += len(credentials)
    return made


def _analyze() -> None:
    """PostgreSQL: refresh the planner's statistics after the bulk load, as
    autovacuum does within a minute of it in production. Autovacuum is off on
    the benchmark machine, and without statistics the planner reads the whole
    membership and credential tables for every chunk of 1,000 partners."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _recompute() -> dict:
    """Time one recompute; then send the admin e-mails it queued (the background
    job's work, timed apart: the recompute only queues one job per chunk)."""
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partners.status import services as status

    mail.outbox = []
    queued: list[list[int]] = []
    original = status._queue_change_mails

    def queue(change_ids):
        queued.append(list(change_ids))
        return original(change_ids)

    status._queue_change_mails = queue
    gc.collect()  # not the previous measurement's garbage (10,000 sent e-mails)
    start = time.perf_counter()
    try:
        with CaptureQueriesContext(connection) as queries:
            result = status.partner_statuses_recompute()
    finally:
        status._queue_change_mails = original
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    for change_ids in queued:
        status.track_status_changes_mail(change_ids=change_ids)
    mails = len(mail.outbox)
    mail.outbox = []
    return {
        "seconds": seconds,
        "mail_jobs": len(queued),
        "mail_seconds": time.perf_counter() - start,
        "queries": len(queries),
        "partners": result.partners,
        "records": result.records_written,
        "changes": result.changes,
        "mails": mails,
    }


def phase_status(scale: int, tag: str) -> dict:
    from django.core import mail

    from partners.models import TrackStatusChange, TrackStatusRecord
    from partners.status import services as status

    mail.outbox = []
    certifications = _certifications()
    small_size = min(SMALL, scale)
    start = time.perf_counter()
    credentials = _build_partners(0, small_size, tag, certifications)
    _analyze()
    build = time.perf_counter() - start
    small = {"first": _recompute(), "repeat": _recompute()}
    full = small
    if scale > small_size:
        # Start the full-size first run from nothing stored, as the small one did.
        TrackStatusChange.objects.all().delete()
        TrackStatusRecord.objects.all().delete()
        start = time.perf_counter()
        credentials += _build_partners(small_size, scale, tag, certifications)
        _analyze()
        build += time.perf_counter() - start
        full = {"first": _recompute(), "repeat": _recompute()}
    return {
        "small": small,
        "full": full,
        "credentials": credentials,
        "build_seconds": build,
        "chunk": status.CHUNK_SIZE,
    }


ANALYTICS_ROUNDS = 5


def phase_analytics(tag: str) -> dict:
    """The analytics pages on the data the status phase left, against the bare view,
    both through Django's test client in this process (same middleware and session)."""
    import statistics

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from certificates.models import Credential
    from lms.models import User
    from lms.permissions import PROGRAMME_STAFF
    from partners.models import Partner, TrackStatusChange

    staff, _ = User.objects.get_or_create(
        email=f"{tag}-staff@example.com", defaults={"legal_name": "Bench Staff"}
    )
    staff.groups.add(Group.objects.get(name=PROGRAMME_STAFF))
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(staff)
    partner_page = f"/partners/{tag}-p0/analytics/"

    def timed(path: str, rounds: int) -> float:
        client.get(path)  # warm-up
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
        return statistics.median(times) * 1000

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        return len(captured)

    bare = timed("/bench/empty", 200)
    page = timed("/partners/staff/analytics/", ANALYTICS_ROUNDS)
    partner = timed(partner_page, ANALYTICS_ROUNDS)
    return {
        "partners": Partner.objects.count(),
        "credentials": Credential.objects.count(),
        "changes": TrackStatusChange.objects.count(),
        "rounds": ANALYTICS_ROUNDS,
        "bare_ms": bare,
        "page_ms": page,
        "page_ratio": page / bare,
        "queries": queries("/partners/staff/analytics/"),
        "partner_ms": partner,
        "partner_ratio": partner / bare,
        "partner_queries": queries(partner_page),
    }


def phase_zip_prepare(tag: str) -> dict:
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from certificates import pdf
    from certificates.models import Credential
    from lms.models import User
    from partners.models import Membership, Partner

    developer = _certifications()[0]
    now = timezone.now()
    partner = Partner.objects.create(name="Zip Partner", slug=f"{tag}-zip", status="active")
    users = User.objects.bulk_create(
        [
            User(email=f"{tag}-zip{m}@example.com", legal_name=f"Zip Person {m:03d}", password="!")
            for m in range(ZIP_MEMBERS)
        ]
    )
    Membership.objects.bulk_create(
        [Membership(person=u, partner=partner, started=now - timedelta(days=30)) for u in users]
    )
    credentials = Credential.objects.bulk_create(
        [
            Credential(
                person=u,
                certification=developer,
                holder_name=u.legal_name,
                issued_at=now - timedelta(days=10),
                expires_at=now + timedelta(days=700),
            )
            for u in users
        ]
    )
    credentials = list(
        Credential.objects.select_related("certification").filter(person__in=users).order_by("pk")
    )
    data = pdf.render_certificate_pdf(credentials[0])
    assert data.startswith(b"%PDF-")
    for credential in credentials:
        credential.pdf.save("certificate.pdf", ContentFile(data), save=False)
        credential.pdf_rendered_at = now
    Credential.objects.bulk_update(credentials, ["pdf", "pdf_rendered_at"])
    return {"partner_id": partner.pk, "pdf_kib": len(data) / 1024}


def phase_zip_build(partner_id: int) -> dict:
    import resource
    import tracemalloc
    import zipfile

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partners.downloads import services as downloads
    from partners.models import CertificateBundle, Partner

    partner = Partner.objects.get(pk=partner_id)
    pdf_size = 0
    for credential in downloads.bundle_credentials(partner=partner)[:1]:
        pdf_size = credential.pdf.size
    first = CertificateBundle.objects.create(partner=partner)
    second = CertificateBundle.objects.create(partner=partner)
    rss_before = rss_kib()
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        built = downloads.bundle_build(bundle_id=first.pk)
    seconds = time.perf_counter() - start
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    downloads.bundle_build(bundle_id=second.pk)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    first.refresh_from_db()
    with first.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        entries = len(archive.namelist())
    return {
        "built": built,
        "seconds": seconds,
        "queries": len(queries),
        "entries": entries,
        "zip_kib": first.file.size / 1024,
        "pdf_kib": pdf_size / 1024,
        "rss_before_kib": rss_before,
        "rss_growth_kib": max(peak_after - rss_before, 0),
        "tracemalloc_peak_kib": heap_peak / 1024,
    }


def _child(argv: list[str]) -> None:
    setup_django()
    name, *args = argv
    phases = {
        "status": lambda scale, tag: phase_status(int(scale), tag),
        "analytics": phase_analytics,
        "zip_prepare": phase_zip_prepare,
        "zip_build": lambda pid: phase_zip_build(int(pid)),
    }
    print(json.dumps(phases[name](*args)))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--phase":
        _child(sys.argv[2:])
    else:
        main()
