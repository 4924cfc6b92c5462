"""Track status workflows: recompute, record verifications and apps figures.

Contract:
- `partner_statuses_recompute(*, partner_ids=None, now=None)` recomputes every
  joined track of the given partners (all partners when None) with
  `partners.rollup.track_status`, set-based: per chunk of partners a fixed
  number of queries (partners locked, tracks, memberships, the members'
  credentials, verifications, apps figures, stored records, writes), never one
  per partner. Rule settings are read once.
- Stored: one `TrackStatusRecord` per (partner, track), updated only when a
  computed value changed. A change of state or apps milestone also writes a
  `TrackStatusChange` (from, to, reason, explanation, at) and, after commit,
  queues one background job per chunk (`partners.status.tasks.track_status_changes_mail`)
  that e-mails each partner's current admins once per partner. A record for a
  track the partner no longer has is deleted (its history stays).
- Reads are values tuples, never model instances, with timestamps parsed in C
  on PostgreSQL (`lms.db.c_timestamp_loader`): 10,000 partners x 20 members are
  350,000 memberships and credentials.
- Idempotent: recomputing with nothing changed writes nothing and mails no one.
  Partners' rows are locked (select_for_update) for the chunk, so concurrent
  recomputes of the same partner serialise on PostgreSQL (SQLite serialises
  writers anyway).
- `partner_status_recompute(*, partner, now=None)` is the one-partner form.
- `technical_verification_record(...)` and `app_milestone_figures_record(...)`
  append history rows (never update in place), validate input (DomainError,
  422, stable codes) and recompute the partner after commit.
- `schedule_partner_recompute(partner_id)` runs the recompute after the current
  transaction commits (used by the receivers).
- `track_status_changes_mail(*, change_ids)` sends those e-mails, at most once
  per change (`TrackStatusChange.emailed_at` is claimed before sending).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import get_template
from django.utils import timezone

from certificates.models import Credential
from lms.db import bulk_insert, c_timestamp_loader
from lms.errors import DomainError
from lms.models import User
from lms.outbox import outbox_enqueue

from .. import benefits, rollup, signals
from ..directory.selectors import badge_cache_forget
from ..models import (
    AppMilestoneFigure,
    Membership,
    Partner,
    PartnerTrack,
    TechnicalVerification,
    Track,
    TrackRuleSetting,
    TrackStatusChange,
    TrackStatusRecord,
    VerificationStatus,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
MAIL_TASK = "partners.status.tasks.track_status_changes_mail"
DEFAULT_COUNTING = ("developer", "architect")

# Fields copied from the computed status; a difference in any of them is a change.
_VALUE_FIELDS = (
    "state",
    "verified",
    "certified_individuals",
    "required",
    "technical_verification",
    "at_risk_until",
    "lapses_on",
    "below_required_since",
    "renewals_that_matter",
    "milestone",
    "reason",
    "explanation",
)


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


@dataclass(frozen=True)
class RecomputeResult:
    partners: int
    records_written: int
    changes: int


# --- rules ------------------------------------------------------------------


def track_rules() -> dict[str, rollup.TrackRule]:
    """The rule of every track (one query); tracks without a row use the defaults."""
    rows = {r.track: r for r in TrackRuleSetting.objects.all()}
    rules = {}
    for track in Track.values:
        row = rows.get(track)
        if row is None:
            rules[track] = rollup.TrackRule(counting_certifications=frozenset(DEFAULT_COUNTING))
        else:
            rules[track] = rollup.TrackRule(
                counting_certifications=frozenset(row.counting_certifications or ()),
                required=row.required,
                grace_days=row.grace_days,
            )
    return rules


# --- recompute ----------------------------------------------------------------


def _latest_figures(partner_ids: list[int]) -> dict[int, AppMilestoneFigure]:
    latest: dict[int, AppMilestoneFigure] = {}
    for fig in AppMilestoneFigure.objects.filter(partner_id__in=partner_ids).order_by(
        "partner_id", "-recorded_on", "-created_at", "-pk"
    ):
        latest.setdefault(fig.partner_id, fig)
    return latest


def milestone_of(figure: AppMilestoneFigure | None) -> str:
    if figure is None:
        return ""
    return benefits.app_milestone(
        app_review_passed=figure.app_review_passed,
        installs=figure.installs,
        payment_volume_usd=figure.payment_volume_usd,
    )


def _renewals_json(status: rollup.TrackStatus) -> list[dict[str, Any]]:
    return [
        {
            "person": h.person,
            "counts_until": h.counts_until.isoformat() if h.counts_until else None,
            "ends_by": h.ends_by,
        }
        for h in status.renewals_that_matter
    ]


def is_announced(change: TrackStatusChange) -> bool:
    """Whether the partner's admins hear of `change`: not a first computation that
    found the track not verified (every new track starts there)."""
    return bool(change.from_state or change.to_state != "not_verified" or change.to_milestone)


@dataclass
class _ChunkResult:
    partners: int = 0
    written: int = 0
    changes: int = 0
    announce: list[int] = field(default_factory=list)  # ids of changes to e-mail
    badges: list[str] = field(default_factory=list)  # slugs whose public badge changed


def _recompute_chunk(
    partner_ids: list[int], rules: dict[str, rollup.TrackRule], now: datetime
) -> _ChunkResult:
    # Plain tuples, no model instances, for the reads (200,000 memberships and
    # 150,000 credentials for 10,000 partners); timestamps parsed in C on PostgreSQL.
    with c_timestamp_loader():
        # Lock the partners (in pk order: no deadlocks between concurrent recomputes).
        locked = list(
            Partner.objects.select_for_update()
            .filter(pk__in=partner_ids)
            .order_by("pk")
            .values_list("pk", "status", "slug")
        )
        standing = {pk: status for pk, status, _ in locked}
        slugs = {pk: slug for pk, _, slug in locked}
        partner_ids = list(standing)
        if not partner_ids:
            return _ChunkResult()
        tracks: dict[int, list[str]] = defaultdict(list)
        for pid, track in PartnerTrack.objects.filter(partner_id__in=partner_ids).values_list(
            "partner_id", "track"
        ):
            tracks[pid].append(track)

        # Rows, not spans: the spans are made per partner just before its roll-up,
        # so they die young instead of piling up for the garbage collector's full
        # passes (measured at 10,000 partners: ~1 s of a run before, ~0.3 s after).
        members: dict[int, list[tuple[int, datetime, datetime | None]]] = defaultdict(list)
        people_of: dict[int, set[int]] = defaultdict(set)
        for pid, person, started, ended in Membership.objects.filter(
            partner_id__in=partner_ids
        ).values_list("partner_id", "person_id", "started", "ended"):
            members[pid].append((person, started, ended))
            people_of[pid].add(person)

        counting = set().union(*(r.counting_certifications for r in rules.values()))
        creds_of = {
            person: tuple(rows)
            for person, rows in groupby(
                Credential.objects.filter(
                    person_id__in=Membership.objects.filter(partner_id__in=partner_ids).values(
                        "person_id"
                    ),
                    certification__slug__in=counting,
                )
                .order_by("person_id")
                .values_list(
                    "person_id", "certification__slug", "issued_at", "expires_at", "revoked_at"
                ),
                key=itemgetter(0),
            )
        }

        verification: dict[tuple[int, str], rollup.TechnicalVerification] = {}
        for pid, track, tv_status, expires in (
            TechnicalVerification.objects.filter(partner_id__in=partner_ids)
            .order_by("partner_id", "track", "-decided_on", "-created_at", "-pk")
            .values_list("partner_id", "track", "status", "expires_at")
        ):
            verification.setdefault((pid, track), rollup.TechnicalVerification(tv_status, expires))

        apps_partners = [pid for pid in partner_ids if "apps" in tracks.get(pid, ())]
        figures = _latest_figures(apps_partners) if apps_partners else {}

        # (pk, changed_at, *values) by (partner, track)
        stored = {
            (row[0], row[1]): row[2:]
            for row in TrackStatusRecord.objects.filter(partner_id__in=partner_ids).values_list(
                "partner_id", "track", "pk", "changed_at", *_VALUE_FIELDS
            )
        }

    to_create: list[TrackStatusRecord] = []
    to_update: list[TrackStatusRecord] = []
    badges: set[int] = set()
    changes: list[TrackStatusChange] = []
    # (at_risk_until, lapses_on) of changed tracks
    risk: dict[tuple[int, str], tuple[datetime | None, date | None]] = {}
    for pid in partner_ids:
        spans = [rollup.MemberSpan(*row) for row in members.get(pid, ())]
        creds = [
            rollup.CredentialSpan(*row)
            for person in people_of.get(pid, ())
            for row in creds_of.get(person, ())
        ]
        for track in sorted(tracks.get(pid, ())):
            status = rollup.track_status(
                now=now,
                rule=rules[track],
                verification=verification.get((pid, track)),
                members=spans,
                credentials=creds,
                partner_status=standing[pid],
            )
            values: dict[str, Any] = {  # column: value
                "state": status.state,
                "verified": status.verified,
                "certified_individuals": status.certified_individuals,
                "required": status.required,
                "technical_verification": status.technical_verification,
                "at_risk_until": status.at_risk_until,
                "lapses_on": status.lapses_on,
                "below_required_since": status.below_required_since,
                "renewals_that_matter": _renewals_json(status),
                "milestone": milestone_of(figures.get(pid)) if track == "apps" else "",
                "reason": status.reason,
                "explanation": status.explanation,
            }
            row = stored.pop((pid, track), None)
            if row is None:
                pk, changed_at, old = None, now, {"state": "", "milestone": ""}
            else:
                pk, changed_at, *old_values = row
                old = dict(zip(_VALUE_FIELDS, old_values, strict=True))
                if old == values:
                    continue
            if old.get("verified", False) != values["verified"]:
                badges.add(pid)  # what the public badge shows changed
            if old["state"] != values["state"] or old["milestone"] != values["milestone"]:
                changed_at = now
                changes.append(
                    TrackStatusChange(
                        partner_id=pid,
                        track=track,
                        from_state=old["state"],
                        to_state=values["state"],
                        from_milestone=old["milestone"],
                        to_milestone=values["milestone"],
                        reason=values["reason"],
                        explanation=values["explanation"],
                        at=now,
                    )
                )
            risk[(pid, track)] = (values["at_risk_until"], values["lapses_on"])
            record = TrackStatusRecord(
                pk=pk, partner_id=pid, track=track, computed_at=now, changed_at=changed_at, **values
            )
            (to_create if pk is None else to_update).append(record)

    if to_create:
        bulk_insert(to_create)  # COPY on PostgreSQL: see lms.db
    if to_update:
        TrackStatusRecord.objects.bulk_update(
            to_update, [*_VALUE_FIELDS, "computed_at", "changed_at"], batch_size=500
        )
    verified_at = _VALUE_FIELDS.index("verified") + 2  # after pk and changed_at
    badges |= {pid for (pid, _), row in stored.items() if row[verified_at]}
    if stored:  # tracks the partners left
        TrackStatusRecord.objects.filter(pk__in=[row[0] for row in stored.values()]).delete()
    if changes:
        TrackStatusChange.objects.bulk_create(changes, batch_size=500)
        state_changes = [
            {
                "partner_id": c.partner_id,
                "track": c.track,
                "from": c.from_state or None,
                "to": c.to_state,
                "reason": c.reason,
                "at_risk_until": risk[(c.partner_id, c.track)][0],
                "lapses_on": risk[(c.partner_id, c.track)][1],
                "at": c.at,
            }
            for c in changes
            if c.from_state != c.to_state and is_announced(c)
        ]
        if state_changes:  # inside the transaction: see partners.signals
            signals.track_statuses_changed.send(sender=TrackStatusChange, changes=state_changes)
    return _ChunkResult(
        partners=len(partner_ids),
        written=len(to_create) + len(to_update),
        changes=len(changes),
        announce=[c.pk for c in changes if is_announced(c)],
        badges=sorted(slugs[pid] for pid in badges),
    )


def partner_statuses_recompute(
    *, partner_ids: Iterable[int] | None = None, now: datetime | None = None
) -> RecomputeResult:
    """Recompute the track status of many partners (all when None); see the contract."""
    now = now or timezone.now()
    rules = track_rules()
    if partner_ids is None:
        ids = list(
            PartnerTrack.objects.order_by("partner_id")
            .values_list("partner_id", flat=True)
            .distinct()
        )
        # Partners with records but no tracks left: their stale records go too.
        ids = sorted(
            set(ids)
            | set(TrackStatusRecord.objects.values_list("partner_id", flat=True).distinct())
        )
    else:
        ids = sorted(set(partner_ids))
    partners = written = changed = 0
    for start in range(0, len(ids), CHUNK_SIZE):
        with transaction.atomic():
            chunk = _recompute_chunk(ids[start : start + CHUNK_SIZE], rules, now)
            if chunk.announce:
                _queue_change_mails(chunk.announce)  # recorded with the chunk (outbox)
            if chunk.badges:
                transaction.on_commit(partial(badge_cache_forget, slugs=chunk.badges))
        partners += chunk.partners
        written += chunk.written
        changed += chunk.changes
    return RecomputeResult(partners=partners, records_written=written, changes=changed)


def partner_status_recompute(*, partner: Partner, now: datetime | None = None) -> RecomputeResult:
    """Recompute one partner's tracks (the inputs' receivers call this)."""
    return partner_statuses_recompute(partner_ids=[partner.pk], now=now)


def _queue_change_mails(change_ids: list[int]) -> None:
    """One background job per chunk, recorded with the chunk's changes (lms.outbox):
    rendering and sending 1,000 e-mails is seconds of work the recompute (and
    the request that caused it) need not wait for."""
    outbox_enqueue(MAIL_TASK, list(change_ids))


def track_status_changes_mail(*, change_ids: Iterable[int], now: datetime | None = None) -> int:
    """E-mail each partner's current admins about its changes in `change_ids`
    (one e-mail per partner); returns the number of e-mails sent.

    Once per change: a change is claimed (`emailed_at`) in the same
    transaction that finds it unclaimed (locking it) and sends the mail, so a
    job run twice mails nobody twice, and a send that fails (or a worker
    killed before the commit) leaves the changes unclaimed for the next run
    (lms.outbox). Changes of partners without a current admin are left
    unclaimed. 3 queries and one mail connection.
    """
    now = now or timezone.now()
    change_ids = list(change_ids)
    admins: dict[int, list[str]] = defaultdict(list)
    names: dict[int, str] = {}
    for pid, email, name in Membership.objects.filter(
        partner_id__in=TrackStatusChange.objects.filter(pk__in=change_ids).values("partner_id"),
        role=Membership.Role.ADMIN,
        ended__isnull=True,
    ).values_list("partner_id", "person__email", "partner__name"):
        admins[pid].append(email)
        names[pid] = name
    with transaction.atomic():
        claimed = list(
            TrackStatusChange.objects.select_for_update()
            .filter(pk__in=change_ids, partner_id__in=list(admins), emailed_at__isnull=True)
            .order_by("partner_id", "track", "pk")
        )
        if not claimed:
            return 0
        TrackStatusChange.objects.filter(pk__in=[c.pk for c in claimed]).update(emailed_at=now)
        by_partner: dict[int, list[TrackStatusChange]] = defaultdict(list)
        for change in claimed:
            if is_announced(change):
                by_partner[change.partner_id].append(change)
        template = get_template("partners/email/track_status_changed.txt")
        messages = [
            EmailMessage(
                subject=f"{names[pid]}: partner track status changed",
                body=template.render({"partner_name": names[pid], "changes": rows}),
                to=sorted(admins[pid]),
            )
            for pid, rows in by_partner.items()
        ]
        if not messages:
            return 0
        with get_connection() as connection:
            return connection.send_messages(messages) or 0


def schedule_partner_recompute(partner_id: int) -> None:
    """Recompute the partner after the current transaction commits (now if none)."""

    def run() -> None:
        try:
            partner_statuses_recompute(partner_ids=[partner_id])
        except Exception:  # the daily job catches up; the caller's work is committed
            logger.exception("Recomputing the track status of partner %s failed", partner_id)

    transaction.on_commit(run)


# --- staff input --------------------------------------------------------------


def _check_track(track: str) -> None:
    if track not in Track.values:
        raise InvalidInput(
            f"Unknown track {track!r}; use one of: {', '.join(Track.values)}.",
            code="invalid_track",
        )


@transaction.atomic
def technical_verification_record(
    *,
    partner: Partner,
    track: str,
    status: str,
    decided_on: date,
    reviewer: User | None = None,
    notes: str = "",
    expires_at: datetime | None = None,
) -> TechnicalVerification:
    """Append a technical verification decision (the latest one counts)."""
    _check_track(track)
    if status not in VerificationStatus.values:
        raise InvalidInput(
            f"Unknown verification status {status!r}; use passed or failed.",
            code="invalid_verification_status",
        )
    if not isinstance(decided_on, date) or isinstance(decided_on, datetime):
        raise InvalidInput("decided_on must be a date.", code="invalid_date")
    if decided_on > timezone.localdate():
        raise InvalidInput("A verification cannot be decided in the future.", code="invalid_date")
    if expires_at is not None:
        if not isinstance(expires_at, datetime) or timezone.is_naive(expires_at):
            raise InvalidInput(
                "expires_at must be a date and time with a time zone.", code="invalid_date"
            )
        if expires_at.date() <= decided_on:
            raise InvalidInput(
                "A verification must expire after the day it was decided.", code="invalid_date"
            )
    verification = TechnicalVerification.objects.create(
        partner=partner,
        track=track,
        status=status,
        decided_on=decided_on,
        reviewer=reviewer,
        notes=(notes or "").strip(),
        expires_at=expires_at,
    )
    schedule_partner_recompute(partner.pk)
    return verification


# A figure as a form or JSON body gives it, checked here.
RawNumber = int | float | str | Decimal


def _non_negative_int(value: RawNumber, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a whole number.", code="invalid_figures")
    try:
        number = int(value)
        if number != Decimal(str(value)):
            raise ValueError
    except (TypeError, ValueError, InvalidOperation):
        raise InvalidInput(f"{name} must be a whole number.", code="invalid_figures") from None
    if number < 0:
        raise InvalidInput(f"{name} cannot be negative.", code="invalid_figures")
    return number


@transaction.atomic
def app_milestone_figures_record(
    *,
    partner: Partner,
    installs: RawNumber,
    payment_volume_usd: RawNumber,
    app_review_passed: bool,
    recorded_on: date,
    recorded_by: User | None = None,
    notes: str = "",
) -> AppMilestoneFigure:
    """Append the apps figures of `partner` (the latest by `recorded_on` counts).

    Negative or non-numeric figures are refused (422 `invalid_figures`).
    """
    installs = _non_negative_int(installs, "installs")
    try:
        volume = Decimal(str(payment_volume_usd))
    except InvalidOperation:
        raise InvalidInput("payment volume must be a number.", code="invalid_figures") from None
    if not volume.is_finite() or volume < 0 or volume >= Decimal(10) ** 16:
        raise InvalidInput(
            "payment volume must be a non-negative amount in USD.", code="invalid_figures"
        )
    if not isinstance(recorded_on, date) or isinstance(recorded_on, datetime):
        raise InvalidInput("recorded_on must be a date.", code="invalid_date")
    if recorded_on > timezone.localdate():
        raise InvalidInput("Figures cannot be recorded for a future date.", code="invalid_date")
    figure = AppMilestoneFigure.objects.create(
        partner=partner,
        installs=installs,
        payment_volume_usd=volume.quantize(Decimal("0.01")),
        app_review_passed=bool(app_review_passed),
        recorded_on=recorded_on,
        recorded_by=recorded_by,
        notes=(notes or "").strip(),
    )
    schedule_partner_recompute(partner.pk)
    return figure
