"""Reads of partner track status for the API and the partner dashboard.

Contract: never writes (the stored `TrackStatusRecord`s are kept current by
`partners.status.services`). A joined track without a record yet reads as not
verified, "not computed yet". Each function runs a fixed number of queries
whatever the number of members, tracks or credentials:
- `partner_status_overview(partner=)`: 3 (tracks, records, verifications).
- `partner_renewals_that_matter(partner=, tracks=, now=)`: 3 (track rules,
  memberships with names, credentials), from the records at `now` with the
  pure rule `partners.rollup.renewals_that_matter`.
- `partner_dashboard(partner=, now=)`: the overview + 6 (apps figure, people
  whose renewals matter, recent history, application and acceptance, current
  members, Business Foundations completions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from certificates.models import Credential
from courses.selectors import BUSINESS_FOUNDATIONS_SLUG, people_who_completed

from .. import benefits, rollup
from ..models import (
    AppMilestoneFigure,
    Membership,
    Partner,
    PartnerTrack,
    TechnicalVerification,
    Track,
    TrackStatusChange,
    TrackStatusRecord,
)

if TYPE_CHECKING:
    from ..models import PartnerApplication

STATE_LABELS = {"verified": "Verified", "at_risk": "At risk", "not_verified": "Not verified"}


@dataclass
class VerificationView:
    status: str  # passed | expired | failed | missing
    decided_on: date | None = None
    expires_at: datetime | None = None
    notes: str = ""


@dataclass
class TrackView:
    track: str
    label: str
    state: str
    state_label: str
    verified: bool
    certified_individuals: int
    required: int
    technical_verification: VerificationView
    at_risk_until: datetime | None
    lapses_on: datetime | None
    milestone: str | None
    reason: str
    explanation: str
    renewals_that_matter: list[dict[str, Any]] = field(default_factory=list)
    people_who_matter: list[dict[str, Any]] = field(default_factory=list)  # filled by the dashboard


@dataclass
class StatusOverview:
    partner: Partner
    tracks: list[TrackView]
    standing: benefits.PartnerStanding
    benefits_have: list[benefits.BenefitView]
    benefits_locked: list[benefits.BenefitView]


def partner_status_overview(*, partner: Partner) -> StatusOverview:
    tracks = sorted(
        PartnerTrack.objects.filter(partner=partner).values_list("track", flat=True),
        key=Track.values.index,
    )
    records = {r.track: r for r in TrackStatusRecord.objects.filter(partner=partner)}
    latest: dict[str, TechnicalVerification] = {}
    for verification in TechnicalVerification.objects.filter(partner=partner).order_by(
        "track", "-decided_on", "-created_at", "-pk"
    ):
        latest.setdefault(verification.track, verification)
    labels = dict(Track.choices)
    views = []
    for track in tracks:
        r = records.get(track)
        v = latest.get(track)
        tv_state = r.technical_verification if r else ("missing" if v is None else v.status)
        views.append(
            TrackView(
                track=track,
                label=labels[track],
                state=r.state if r else "not_verified",
                state_label=STATE_LABELS[r.state if r else "not_verified"],
                verified=r.verified if r else False,
                certified_individuals=r.certified_individuals if r else 0,
                required=r.required if r else 0,
                technical_verification=VerificationView(
                    status=tv_state,
                    decided_on=v.decided_on if v else None,
                    expires_at=v.expires_at if v else None,
                    notes=v.notes if v else "",
                ),
                at_risk_until=r.at_risk_until if r else None,
                lapses_on=r.lapses_on if r else None,
                milestone=(r.milestone or None) if (r and track == "apps") else None,
                reason=r.reason if r else "not_computed",
                explanation=r.explanation if r else "Not computed yet.",
                renewals_that_matter=list(r.renewals_that_matter) if r else [],
            )
        )
    standing = benefits.PartnerStanding(
        status=partner.status,
        verified_tracks=frozenset(t.track for t in views if t.verified),
        growth=any(t.milestone == benefits.MILESTONE_GROWTH for t in views),
    )
    have, locked = benefits.benefits_for(standing)
    return StatusOverview(partner, views, standing, have, locked)


# --- renewals that matter --------------------------------------------------------


@dataclass(frozen=True)
class RenewalView:
    member_id: int  # the current membership's id (as in the members API)
    name: str
    certification: str  # certification slug
    expires_on: datetime


def partner_renewals_that_matter(
    *, partner: Partner, tracks: list[str], now: datetime | None = None
) -> dict[str, list[RenewalView]]:
    """Per track: the current members whose counting credential expires within
    180 days and whose expiry would take the track below `required`, soonest
    first (see `partners.rollup.renewals_that_matter`). Computed from the records
    at `now`, so it moves with time between two recomputes."""
    from .services import track_rules

    now = now or timezone.now()
    if not tracks:
        return {}
    rules = track_rules()
    spans = []
    current: dict[int, tuple[int, str]] = {}  # person -> (membership id, name)
    for pk, person, started, ended, name in Membership.objects.filter(partner=partner).values_list(
        "pk", "person_id", "started", "ended", "person__legal_name"
    ):
        spans.append(rollup.MemberSpan(person, started, ended))
        if ended is None:
            current[person] = (pk, name)
    counting = set().union(*(rules[t].counting_certifications for t in tracks))
    credentials = (
        [
            rollup.CredentialSpan(*row)
            for row in Credential.objects.filter(
                person_id__in=list(current), certification__slug__in=counting
            ).values_list(
                "person_id", "certification__slug", "issued_at", "expires_at", "revoked_at"
            )
        ]
        if current
        else []
    )
    result = {}
    for track in tracks:
        due = rollup.renewals_that_matter(
            now=now, rule=rules[track], members=spans, credentials=credentials
        )
        result[track] = [
            RenewalView(
                current[r.person][0], current[r.person][1], str(r.certification), r.expires_at
            )
            for r in due
            if r.person in current
        ]
    return result


# --- dashboard ----------------------------------------------------------------


@dataclass
class ChecklistItem:
    key: str
    label: str
    state: str  # done | missing | coming (the record type does not exist yet)
    detail: str = ""


@dataclass
class Dashboard:
    overview: StatusOverview
    apps_figure: AppMilestoneFigure | None
    history: list[TrackStatusChange]
    checklist: list[ChecklistItem] | None  # None unless provisional
    provisional_deadline: datetime | None


def _application_of(partner: Partner) -> PartnerApplication | None:
    """The partner's application with its agreement acceptance, or None (one query)."""
    try:
        from ..models import PartnerApplication
    except ImportError:  # applications not built yet
        return None
    return (
        PartnerApplication.objects.select_related(
            "agreement_acceptance__agreement", "agreement_acceptance__accepted_by"
        )
        .filter(partner=partner)
        .first()
    )


def provisional_checklist(
    *, partner: Partner, tracks: list[str]
) -> tuple[list[ChecklistItem], datetime | None]:
    """The partner requirements with their state, and the provisional deadline (3 queries).

    Computed live from the records; the items are those of
    `partners.lifecycle.rules.unmet_requirements` (plus the embedded payments
    attestation for that track), which activates the partner once all are met."""
    application = _application_of(partner)
    items: list[ChecklistItem] = []
    if application is None:
        items.append(
            ChecklistItem("agreement", "Partner agreement accepted", "coming", "No application.")
        )
        items.append(
            ChecklistItem("restricted_business", "Not a restricted business (attested)", "coming")
        )
        deadline = None
    else:
        acceptance = getattr(application, "agreement_acceptance", None)
        if acceptance is not None:
            detail = (
                f"Version {acceptance.agreement.version} accepted by "
                f"{acceptance.accepted_by.email} on {acceptance.accepted_at:%Y-%m-%d}."
            )
            items.append(ChecklistItem("agreement", "Partner agreement accepted", "done", detail))
        else:
            items.append(ChecklistItem("agreement", "Partner agreement accepted", "missing"))
        attested = getattr(application, "restricted_business_attested_at", None)
        items.append(
            ChecklistItem(
                "restricted_business",
                "Not a restricted business (attested)",
                "done" if attested else "missing",
                f"Attested on {attested:%Y-%m-%d}." if attested else "",
            )
        )
        if "embedded_payments" in tracks:
            ep = getattr(application, "embedded_payments_attested_at", None)
            items.append(
                ChecklistItem(
                    "embedded_payments",
                    "Uses the platform-payments product (embedded payments attestation)",
                    "done" if ep else "missing",
                    f"Attested on {ep:%Y-%m-%d}." if ep else "",
                )
            )
        deadline = partner.provisional_deadline or getattr(
            application, "provisional_deadline", None
        )
    member_ids = list(
        Membership.objects.filter(partner=partner, ended__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    completed = people_who_completed(course_slug=BUSINESS_FOUNDATIONS_SLUG, person_ids=member_ids)
    items.append(
        ChecklistItem(
            "business_foundations",
            "At least one person completed Business Foundations",
            "done" if completed else "missing",
            f"{len(completed)} current member{'s' if len(completed) != 1 else ''} completed it."
            if completed
            else "",
        )
    )
    confirmed = partner.payments_account_confirmed_at
    items.append(
        ChecklistItem(
            "payments_account",
            "Payments account created and activated (confirmed by programme staff)",
            "done" if confirmed else "missing",
            f"Confirmed on {confirmed:%Y-%m-%d}." if confirmed else "",
        )
    )
    return items, deadline


def partner_dashboard(*, partner: Partner, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    overview = partner_status_overview(partner=partner)
    tracks = [t.track for t in overview.tracks]
    apps_figure = None
    if "apps" in tracks:
        apps_figure = (
            AppMilestoneFigure.objects.filter(partner=partner)
            .order_by("-recorded_on", "-created_at", "-pk")
            .first()
        )
    # People whose renewals matter, with names (one query for all tracks).
    ids = {h["person"] for t in overview.tracks for h in t.renewals_that_matter}
    people = {}
    if ids:
        people = {
            u.pk: u for u in get_user_model().objects.filter(pk__in=ids).only("legal_name", "email")
        }
    for t in overview.tracks:
        t.people_who_matter = [
            {
                "person": people.get(h["person"]),
                "counts_until": parse_datetime(h["counts_until"]) if h["counts_until"] else None,
                "ends_by": h["ends_by"],
            }
            for h in t.renewals_that_matter
        ]
    history = list(TrackStatusChange.objects.filter(partner=partner).order_by("-at", "-pk")[:20])
    checklist = deadline = None
    if partner.status == Partner.Status.PROVISIONAL:
        checklist, deadline = provisional_checklist(partner=partner, tracks=tracks)
    return Dashboard(overview, apps_figure, history, checklist, deadline)
