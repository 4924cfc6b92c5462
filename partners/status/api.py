"""Partner status JSON API (a ninja Router mounted by cms.api at /api/v1/).

Public contract (clients depend on it: keep paths and fields):

- GET /partners/{slug}/status   partner admins of that partner, programme staff
                                (lms.permissions "partner.view") and the partner's
                                API keys with `partner:read` (others: 403
                                `insufficient_scope`); everyone else and unknown
                                slugs 404 `not_found`. Exactly
                                `{partner, status, tracks, benefits, history}`:
                                `partner` {slug, name}; `status` the partner's programme
                                status (applicant|provisional|active|suspended|
                                terminated); `tracks`
                                `[{track, verified, technical_verification: {status:
                                passed|expired|failed|missing, decided_on, expires_at},
                                certified_individuals, required, at_risk_until,
                                lapses_on, milestone: build|growth|null (apps only),
                                renewals_that_matter: [{member_id, name, certification,
                                expires_on}]}]` (the current members whose counting
                                credential expires within 180 days and whose expiry
                                would take the track below `required`, soonest first);
                                `benefits` `[{slug, category, name, have, select,
                                unlocked_by}]` in the seed table's order; `history`
                                the programme status changes `[{from, to, reason,
                                by: {kind: person|rule, name}, at}]`, newest first,
                                at most 50. A suspended or terminated partner is
                                verified on no track and has no benefits.

Fixed query count whatever the number of members (see partners.status.selectors).
"""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Path, Router, Schema

from .. import benefits
from ..api_keys.policies import partner_for_api
from ..lifecycle.selectors import partner_status_history
from ..models import Partner
from .selectors import partner_renewals_that_matter, partner_status_overview

router = Router(tags=["partners"])


class ErrorOut(Schema):
    detail: str
    code: str


class PartnerRefOut(Schema):
    slug: str
    name: str


class VerificationOut(Schema):
    status: Literal["passed", "expired", "failed", "missing"]
    decided_on: date | None
    expires_at: datetime | None


class RenewalOut(Schema):
    member_id: int
    name: str
    certification: str
    expires_on: datetime


class TrackOut(Schema):
    track: Literal["apps", "embedded_payments", "services", "technology"]
    verified: bool
    technical_verification: VerificationOut
    certified_individuals: int
    required: int
    at_risk_until: datetime | None
    lapses_on: datetime | None
    milestone: Literal["build", "growth"] | None
    renewals_that_matter: list[RenewalOut]


class BenefitOut(Schema):
    slug: str
    category: Literal["build", "market", "sell", "engage"]
    name: str
    have: bool
    select: bool
    unlocked_by: str


StatusLiteral = Literal["applicant", "provisional", "active", "suspended", "terminated"]


class ChangedByOut(Schema):
    kind: Literal["person", "rule"]
    name: str


class StatusChangeOut(Schema):
    from_: StatusLiteral = Field(..., alias="from")
    to: StatusLiteral
    reason: str
    by: ChangedByOut
    at: datetime


class PartnerStatusOut(Schema):
    partner: PartnerRefOut
    status: StatusLiteral
    tracks: list[TrackOut]
    benefits: list[BenefitOut]
    history: list[StatusChangeOut]


def partner_visible_or_404(request, slug: str, *, scope: str) -> Partner:
    """The partner if the caller may view it (a key: with `scope`); NotFound for
    unknown slugs and everyone else, 403 `insufficient_scope` for a key without it."""
    return partner_for_api(request, slug, rule="partner.view", scope=scope)


def status_payload(partner: Partner) -> dict:
    overview = partner_status_overview(partner=partner)
    renewals = partner_renewals_that_matter(
        partner=partner, tracks=[t.track for t in overview.tracks]
    )
    have = {b.slug for b in overview.benefits_have}
    order = {b.slug: i for i, b in enumerate(benefits.BENEFITS)}
    all_benefits = sorted(
        overview.benefits_have + overview.benefits_locked, key=lambda b: order[b.slug]
    )
    return {
        "partner": {"slug": partner.slug, "name": partner.name},
        "status": partner.status,
        "tracks": [
            {
                "track": t.track,
                "verified": t.verified,
                "technical_verification": {
                    "status": t.technical_verification.status,
                    "decided_on": t.technical_verification.decided_on,
                    "expires_at": t.technical_verification.expires_at,
                },
                "certified_individuals": t.certified_individuals,
                "required": t.required,
                "at_risk_until": t.at_risk_until,
                "lapses_on": t.lapses_on,
                "milestone": t.milestone,
                "renewals_that_matter": [
                    {
                        "member_id": r.member_id,
                        "name": r.name,
                        "certification": r.certification,
                        "expires_on": r.expires_on,
                    }
                    for r in renewals.get(t.track, [])
                ],
            }
            for t in overview.tracks
        ],
        "benefits": [
            {
                "slug": b.slug,
                "category": b.category,
                "name": b.name,
                "have": b.slug in have,
                "select": b.select,
                "unlocked_by": b.unlocked_by,
            }
            for b in all_benefits
        ],
        "history": [
            {
                "from": h.from_status,
                "to": h.to_status,
                "reason": h.reason,
                "by": {"kind": h.by_kind, "name": h.by_name},
                "at": h.at,
            }
            for h in partner_status_history(partner=partner)
        ],
    }


@router.get(
    "/partners/{slug}/status",
    response={200: PartnerStatusOut, 403: ErrorOut, 404: ErrorOut},
    summary="A partner's track status, benefits and programme status history",
    by_alias=True,
)
def partner_status(request, slug: str = Path(...)):
    """Per track: verified, the technical verification, certified individuals vs
    required, the grace deadline when at risk, the date the count would drop
    below the minimum if nobody renews, and the apps milestone."""
    partner = partner_visible_or_404(request, slug, scope="partner:read")
    return status_payload(partner)
