"""Partner status JSON API (a ninja Router mounted by cms.api at /api/v1/).

Public contract (clients depend on it: keep paths and fields):

- GET /partners/{slug}/status   partner admins of that partner and programme staff
                                (lms.permissions "partner.view"); everyone else and
                                unknown slugs 404 `not_found`. Exactly
                                `{partner, status, tracks, benefits}`:
                                `partner` {slug, name}; `status` the partner's status
                                (applicant|provisional|active|suspended); `tracks`
                                `[{track, verified, technical_verification: {status:
                                passed|expired|failed|missing, decided_on, expires_at},
                                certified_individuals, required, at_risk_until,
                                lapses_on, milestone: build|growth|null (apps only),
                                renewals_that_matter: [{member_id, name, certification,
                                expires_on}]}]` (the current members whose counting
                                credential expires within 180 days and whose expiry
                                would take the track below `required`, soonest first);
                                `benefits` `[{slug, category, name, have, select,
                                unlocked_by}]` in the seed table's order.

Fixed query count whatever the number of members (see partners.status.selectors).
"""

from datetime import date, datetime
from typing import Literal

from django.utils.text import slugify
from ninja import Path, Router, Schema

from lms import permissions
from lms.errors import NotFound

from .. import benefits
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


class PartnerStatusOut(Schema):
    partner: PartnerRefOut
    status: Literal["applicant", "provisional", "active", "suspended"]
    tracks: list[TrackOut]
    benefits: list[BenefitOut]


def partner_visible_or_404(user, slug: str) -> Partner:
    """The partner if `user` may view it; NotFound for unknown slugs and everyone else."""
    if len(slug) > 80 or slug != slugify(slug):
        raise NotFound("Not found.")
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None:
        raise NotFound("Not found.")
    permissions.check_can(user, "partner.view", partner)
    return partner


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
    }


@router.get(
    "/partners/{slug}/status",
    response={200: PartnerStatusOut, 404: ErrorOut},
    summary="A partner's track status and benefits",
)
def partner_status(request, slug: str = Path(...)):
    """Per track: verified, the technical verification, certified individuals vs
    required, the grace deadline when at risk, the date the count would drop
    below the minimum if nobody renews, and the apps milestone."""
    partner = partner_visible_or_404(request.auth, slug)
    return status_payload(partner)
