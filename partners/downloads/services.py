"""Partner downloads: the certificates zip (services + selectors) and the roll-up report.

Contract:
- `bundle_request(*, partner, requested_by)` creates a queued `CertificateBundle`
  and queues `partners.downloads.tasks.build_bundle` after commit.
- `bundle_build(*, bundle_id)` writes the zip: every CURRENT member's ACTIVE
  (not revoked, not past `expires_at`) credential PDF, streamed one file at a
  time into a temporary file on disk (memory stays bounded), then moved into
  private storage. `done`/`total` are updated as it goes. Idempotent: a ready
  bundle is never rebuilt; a failure marks the bundle failed (the caller may
  ask for a new one).
- `bundle_start(*, partner, requested_by)` -> `(bundle, started)`: the fresh
  bundle when there is one (ready or being built; nothing new is built),
  otherwise a newly requested one. Starting a build counts against the
  partner's hourly PARTNER_BUILD_RATE_LIMIT (`lms.ratelimit.RateLimited`, 429
  with `retry_after`); reusing a fresh bundle does not.
- `bundle_latest_fresh(*, partner)` (selector) is the newest bundle created
  after the partner's latest credential/membership change, or None. A ready
  one can be served; a queued/running one is being built.
- `report_rows(*, partner, now)` and `report_tracks(*, partner)` are the
  roll-up report (people × credentials, then track status); `report_csv` and
  `report_pdf` render it, on request: a few queries, and for the PDF one
  WeasyPrint render (~1 s cold, ~0.3 s warm, in the web process). Both are
  bounded: each counts against the partner's hourly PARTNER_BUILD_RATE_LIMIT
  (`check_build_rate`), and a PDF of more than REPORT_PDF_MAX_ROWS rows is
  refused (409 `report_too_large`; the CSV has every row) instead of
  rendering for an unbounded time inside the request.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from certificates.models import Credential, CredentialEvent, CredentialStatus
from certificates.selectors import status_of
from certificates.services import credential_pdf_open
from lms.errors import Conflict
from lms.models import User
from lms.outbox import outbox_enqueue
from lms.ratelimit import rate_limit_hit

from ..membership.selectors import partner_members_current
from ..models import Membership, Partner
from ..status.selectors import partner_status_overview
from .models import BundleStatus, CertificateBundle

logger = logging.getLogger(__name__)

BUILD_TASK = "partners.downloads.tasks.build_bundle"
MAX_NAME_PART = 60
BUILD_WINDOW = timedelta(hours=1)
BUILD_KINDS = {
    "zip": "certificates zips",
    "report_csv": "CSV reports",
    "report_pdf": "PDF reports",
}


def check_build_rate(*, partner: Partner, kind: str, now: datetime | None = None) -> None:
    """Count one build of `kind` for the partner; RateLimited past the hourly limit."""
    limit = int(getattr(settings, "PARTNER_BUILD_RATE_LIMIT", 20))
    rate_limit_hit(
        scope=f"partner_build_{kind}",
        key=str(partner.pk),
        limit=limit,
        window=BUILD_WINDOW,
        message=f"{partner.name} asked for {limit} {BUILD_KINDS[kind]} in the last hour, the "
        "most allowed; try again later.",
        now=now,
    )


# --- selectors ------------------------------------------------------------------


def bundle_credentials(*, partner: Partner, now: datetime | None = None) -> QuerySet[Credential]:
    """Active credentials of the partner's current members (person and certification joined)."""
    now = now or timezone.now()
    current_people = Membership.objects.filter(partner=partner, ended__isnull=True).values(
        "person_id"
    )
    return (
        Credential.objects.select_related("person", "certification")
        .filter(
            person_id__in=current_people,
            status=CredentialStatus.ACTIVE,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by("person__legal_name", "certification__name", "pk")
    )


def partner_credentials_changed_at(
    *, partner: Partner, now: datetime | None = None
) -> datetime | None:
    """The latest moment anything the zip depends on changed (None if nothing ever did).

    Memberships of the partner starting or ending, and for its current members'
    credentials: creation, any event (renewal, revocation, expiry) and expiry by
    the clock (an `expires_at` already past).
    """
    now = now or timezone.now()
    memberships = Membership.objects.filter(partner=partner).aggregate(
        started=Max("started"), ended=Max("ended")
    )
    current_people = Membership.objects.filter(partner=partner, ended__isnull=True).values(
        "person_id"
    )
    credentials = Credential.objects.filter(person_id__in=current_people).aggregate(
        created=Max("created_at"),
        revoked=Max("revoked_at"),
        expired=Max("expires_at", filter=Q(expires_at__lte=now)),
    )
    event = CredentialEvent.objects.filter(credential__person_id__in=current_people).aggregate(
        at=Max("at")
    )
    moments = [*memberships.values(), *credentials.values(), event["at"]]
    moments = [m for m in moments if m is not None]
    return max(moments) if moments else None


def bundle_latest_fresh(
    *, partner: Partner, now: datetime | None = None
) -> CertificateBundle | None:
    """The newest ready/queued/running bundle created after the latest change, or None."""
    bundle = (
        CertificateBundle.objects.filter(partner=partner)
        .exclude(status=BundleStatus.FAILED)
        .order_by("-created_at", "-pk")
        .first()
    )
    if bundle is None:
        return None
    changed = partner_credentials_changed_at(partner=partner, now=now)
    if changed is not None and bundle.created_at <= changed:
        return None
    return bundle


def bundle_latest(*, partner: Partner) -> CertificateBundle | None:
    """The newest bundle of any status (for the downloads page), or None."""
    return CertificateBundle.objects.filter(partner=partner).order_by("-created_at", "-pk").first()


def bundle_get(*, partner: Partner, bundle_id: int) -> CertificateBundle | None:
    return CertificateBundle.objects.filter(partner=partner, pk=bundle_id).first()


def bundle_progress(bundle: CertificateBundle) -> dict[str, Any]:
    """`{status, done, total, bundle_id}` of a bundle (what progress pollers read)."""
    return {
        "status": bundle.status,
        "done": bundle.done,
        "total": bundle.total,
        "bundle_id": bundle.pk,
    }


# --- services -------------------------------------------------------------------


def _queue_build(bundle_id: int) -> None:
    """Recorded with the bundle (lms.outbox); a worker builds it after commit."""
    outbox_enqueue(BUILD_TASK, bundle_id)


@transaction.atomic
def bundle_request(*, partner: Partner, requested_by: User) -> CertificateBundle:
    """A new queued bundle; its build is queued once this transaction commits."""
    bundle = CertificateBundle.objects.create(
        partner=partner,
        requested_by=requested_by if getattr(requested_by, "pk", None) else None,
        status=BundleStatus.QUEUED,
        created_at=timezone.now(),
    )
    _queue_build(bundle.pk)
    return bundle


@transaction.atomic
def bundle_start(*, partner: Partner, requested_by: User) -> tuple[CertificateBundle, bool]:
    """The fresh bundle if there is one (ready or being built), else a newly requested one."""
    fresh = bundle_latest_fresh(partner=partner)
    if fresh is not None:
        return fresh, False
    check_build_rate(partner=partner, kind="zip")
    return bundle_request(partner=partner, requested_by=requested_by), True


def _name_part(value: str) -> str:
    # ASCII only, no path separators or dots that could climb directories.
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-")
    return value[:MAX_NAME_PART] or "unnamed"


def bundle_entry_name(credential: Credential) -> str:
    """`<person legal name>-<certification>-<public id>.pdf`, sanitised for any unzip tool."""
    person = credential.person
    name = person.legal_name or credential.holder_name or person.email
    return (
        f"{_name_part(name)}-{_name_part(credential.certification.name)}-"
        f"{re.sub(r'[^A-Za-z0-9_-]+', '', credential.public_id)[:MAX_NAME_PART]}.pdf"
    )


def _claim(bundle_id: int) -> bool:
    # Conditional update: correct on SQLite too (no select_for_update there).
    # A running bundle may be claimed again (a retry after a worker died).
    return bool(
        CertificateBundle.objects.filter(
            pk=bundle_id, status__in=[BundleStatus.QUEUED, BundleStatus.RUNNING]
        ).update(status=BundleStatus.RUNNING, done=0)
    )


def bundle_build(*, bundle_id: int) -> bool:
    """Build the zip of bundle `bundle_id`. True when it built one now."""
    bundle = CertificateBundle.objects.select_related("partner").get(pk=bundle_id)
    if bundle.status in (BundleStatus.READY, BundleStatus.FAILED):
        return False
    if not _claim(bundle_id):
        return False
    try:
        credentials = list(bundle_credentials(partner=bundle.partner))
        CertificateBundle.objects.filter(pk=bundle_id).update(total=len(credentials), done=0)
        with tempfile.TemporaryFile() as spool:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
                used: set[str] = set()
                for index, credential in enumerate(credentials, start=1):
                    name = bundle_entry_name(credential)
                    if name in used:  # cannot happen (public ids are unique); be safe
                        name = f"{index}-{name}"
                    used.add(name)
                    # PDFs are already compressed: store them; copy in chunks.
                    with credential_pdf_open(credential=credential) as source:
                        with archive.open(name, "w", force_zip64=True) as target:
                            shutil.copyfileobj(source, target, 64 * 1024)
                    CertificateBundle.objects.filter(pk=bundle_id).update(done=index)
            spool.seek(0)
            bundle.refresh_from_db()
            bundle.file.save("certificates.zip", File(spool), save=False)
        finished = CertificateBundle.objects.filter(
            pk=bundle_id, status=BundleStatus.RUNNING
        ).update(
            status=BundleStatus.READY,
            file=bundle.file.name,
            done=len(credentials),
            finished_at=timezone.now(),
        )
        if not finished:  # someone else finished or failed it meanwhile: drop ours
            bundle.file.storage.delete(cast(str, bundle.file.name))  # saved above
            return False
        return True
    except Exception as error:
        logger.exception("Certificates zip %s failed", bundle_id)
        CertificateBundle.objects.filter(pk=bundle_id).exclude(status=BundleStatus.READY).update(
            status=BundleStatus.FAILED,
            error=f"{type(error).__name__}"[:200],
            finished_at=timezone.now(),
        )
        return False


# --- roll-up report ---------------------------------------------------------------

PEOPLE_COLUMNS = ["person", "email", "role", "certification", "status", "issued", "expires"]
TRACK_COLUMNS = [
    "track",
    "status",
    "certified_individuals",
    "required",
    "technical_verification",
    "at_risk_until",
    "lapses_on",
]


@dataclass(frozen=True)
class ReportRow:
    person: str
    email: str
    role: str
    certification: str
    status: str
    issued: datetime | None
    expires: datetime | None


@dataclass(frozen=True)
class ReportTrack:
    track: str
    status: str
    certified_individuals: int
    required: int
    technical_verification: str
    at_risk_until: datetime | None
    lapses_on: datetime | None


def report_rows(*, partner: Partner, now: datetime | None = None) -> list[ReportRow]:
    """One row per credential of each current member (a member without one gets one row)."""
    now = now or timezone.now()
    members = list(partner_members_current(partner))
    credentials: dict[int, list[Credential]] = {}
    for credential in (
        Credential.objects.select_related("certification")
        .filter(person_id__in=[m.person_id for m in members])
        .order_by("certification__name", "-issued_at", "pk")
    ):
        credentials.setdefault(credential.person_id, []).append(credential)
    rows = []
    for membership in members:
        person = membership.person
        held = credentials.get(person.pk, [])
        if not held:
            rows.append(
                ReportRow(
                    person.legal_name,
                    person.email,
                    membership.get_role_display(),
                    "",
                    "",
                    None,
                    None,
                )
            )
        for credential in held:
            rows.append(
                ReportRow(
                    person=person.legal_name,
                    email=person.email,
                    role=membership.get_role_display(),
                    certification=credential.certification.name,
                    status=status_of(credential, now=now),
                    issued=credential.issued_at,
                    expires=credential.expires_at,
                )
            )
    return rows


def report_tracks(*, partner: Partner) -> list[ReportTrack]:
    overview = partner_status_overview(partner=partner)
    return [
        ReportTrack(
            track=t.label,
            status=t.state_label,
            certified_individuals=t.certified_individuals,
            required=t.required,
            technical_verification=t.technical_verification.status,
            at_risk_until=t.at_risk_until,
            lapses_on=t.lapses_on,
        )
        for t in overview.tracks
    ]


def _date(value: datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else ""


def _cell(value: object) -> str:
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(*, partner: Partner, now: datetime | None = None) -> str:
    """People × credentials, a blank line, then one row per track."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(PEOPLE_COLUMNS)
    for r in report_rows(partner=partner, now=now):
        writer.writerow(
            [
                _cell(r.person),
                _cell(r.email),
                r.role,
                _cell(r.certification),
                r.status,
                _date(r.issued),
                _date(r.expires),
            ]
        )
    writer.writerow([])
    writer.writerow(TRACK_COLUMNS)
    for t in report_tracks(partner=partner):
        writer.writerow(
            [
                t.track,
                t.status,
                t.certified_individuals,
                t.required,
                t.technical_verification,
                _date(t.at_risk_until),
                _date(t.lapses_on),
            ]
        )
    return buffer.getvalue()


def report_html(
    *, partner: Partner, now: datetime | None = None, rows: list[ReportRow] | None = None
) -> str:
    now = now or timezone.now()
    return render_to_string(
        "partners/downloads/report_pdf.html",
        {
            "partner": partner,
            "rows": report_rows(partner=partner, now=now) if rows is None else rows,
            "tracks": report_tracks(partner=partner),
            "generated": now,
        },
    )


def report_pdf(*, partner: Partner, now: datetime | None = None) -> bytes:
    """The report as an A4 PDF, rendered through the certificates' restricted URL fetcher."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from certificates.pdf import STATIC_DIR, RestrictedURLFetcher

    now = now or timezone.now()
    rows = report_rows(partner=partner, now=now)
    # Measured on 2 shared cores: 500 rows render in ~3 s, 2,000 in ~18 s (too
    # close to a web worker's timeout); the CSV has no such cost.
    limit = int(getattr(settings, "REPORT_PDF_MAX_ROWS", 500))
    if len(rows) > limit:
        raise Conflict(
            f"The report of {partner.name} has {len(rows)} rows, more than the {limit} a PDF "
            "holds; download the CSV instead.",
            code="report_too_large",
        )
    html = report_html(partner=partner, now=now, rows=rows)
    # base_url is the certificates' static dir so the template's @font-face can
    # load the shipped DejaVu fonts; the fetcher refuses everything else.
    fetcher = RestrictedURLFetcher()  # type: ignore[no-untyped-call]  # WeasyPrint has no types
    pdf: bytes = HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=fetcher
    ).write_pdf(font_config=FontConfiguration(), attachments=[])
    return pdf
