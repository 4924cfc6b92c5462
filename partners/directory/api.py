"""Public directory of verified partners (a ninja Router mounted by cms.api at /api/v1/).

- GET /directory/partners   public, no authentication. The partners the
  directory page lists (`Partner.objects.listable()`), by name, paginated
  (lms.pagination: `limit`, `starting_after`, `ending_before`; the cursor
  is an item's `id`). Filters: `track` (verified on it), `country` (ISO
  3166-1 alpha-2), `q` (part of the name). Each item: `{id, slug, name,
  logo_url, website, country: {code, name} | null, description, tracks:
  [{track, label, verified_since}], apps_milestone: build|growth|null,
  verified_url, badge_url}`. Never people, never counts of people.

Three queries per page (four with a cursor), whatever the number of partners.
"""

from datetime import datetime
from typing import Literal

from django.urls import reverse
from ninja import Field, Query, Router, Schema

from lms.pagination import PageParams, list_page, page_of, paginate

from .. import rules
from . import selectors

router = Router(tags=["directory"])

TrackName = Literal["apps", "embedded_payments", "services", "technology"]


class ErrorOut(Schema):
    detail: str
    code: str


class DirectoryFilters(Schema):
    track: TrackName | None = Field(None, description="Only partners verified on this track.")
    country: str | None = Field(
        None, min_length=2, max_length=2, pattern="^[A-Za-z]{2}$", description="ISO 3166-1 code."
    )
    q: str | None = Field(
        None, max_length=100, pattern=r"^[^\x00]*$", description="Part of the company name."
    )


class CountryOut(Schema):
    code: str
    name: str


class VerifiedTrackOut(Schema):
    track: TrackName
    label: str
    verified_since: datetime | None


class DirectoryPartnerOut(Schema):
    id: int
    slug: str
    name: str
    logo_url: str | None
    website: str
    country: CountryOut | None
    description: str
    tracks: list[VerifiedTrackOut]
    apps_milestone: Literal["build", "growth"] | None
    verified_url: str
    badge_url: str


def entry_payload(entry: selectors.DirectoryEntry) -> dict:
    partner = entry.partner
    return {
        "id": partner.pk,
        "slug": partner.slug,
        "name": partner.name,
        "logo_url": entry.logo_url,
        "website": partner.website,
        "country": {"code": partner.country, "name": entry.country_name}
        if partner.country
        else None,
        "description": partner.description,
        "tracks": [
            {"track": t.track, "label": t.label, "verified_since": t.since} for t in entry.tracks
        ],
        "apps_milestone": entry.apps_milestone,
        "verified_url": reverse("partner_directory:verified", args=[partner.slug]),
        "badge_url": reverse("partner_directory:badge", args=[partner.slug]),
    }


@router.get(
    "/directory/partners",
    auth=None,
    response={200: page_of(DirectoryPartnerOut), 400: ErrorOut},
    summary="Verified partners (public directory)",
)
def directory_partners(request, filters: Query[DirectoryFilters], page: Query[PageParams]):
    """Partner companies verified on at least one track, listed by their admins."""
    partners = selectors.directory_partners(
        track=filters.track,
        country=rules.normalise_country_code(filters.country) or None,
        q=(filters.q or "").strip() or None,
    )
    rows, has_more = paginate(partners, page, order=("name", "id"))
    return list_page([entry_payload(e) for e in selectors.directory_entries(rows)], has_more)
