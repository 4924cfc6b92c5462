"""Public reads of verified partners: the directory, the verified page, the badge.

Contract: never writes. Only partners in good standing
(`Partner.objects.in_good_standing()`) show a verified track; the directory
lists only `Partner.objects.listable()` (also listed by their admins and
verified on a track now). Nothing about people is read or shown: no names,
no counts. Fixed query counts whatever the number of partners:
- `directory_page(...)`: the page's partners, their verified tracks (2).
- `verified_tracks_of(partner_ids=)`: 1.
- `public_verification(slug=)`: 2 (the partner in good standing, its tracks).
- `badge_svg(slug=, track=)`: 0 from the cache, else `public_verification`.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import pycountry
from django.conf import settings
from django.core.cache import cache
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.urls import reverse

from ..models import Partner, Track, TrackState, TrackStatusChange, TrackStatusRecord

BADGE_CACHE_SECONDS = 300
TRACK_LABELS = dict(Track.choices)
_VERIFIED_STATES = (TrackState.VERIFIED, TrackState.AT_RISK)


@dataclass(frozen=True)
class VerifiedTrack:
    track: str
    label: str
    since: datetime | None  # start of the current verified stretch (status history)


@dataclass
class DirectoryEntry:
    partner: Partner
    tracks: list[VerifiedTrack] = field(default_factory=list)
    apps_milestone: str | None = None  # build | growth, apps-verified partners only

    @property
    def country_name(self) -> str:
        return country_name(self.partner.country)

    @property
    def logo_url(self) -> str | None:
        return logo_url(self.partner)


def country_name(code: str) -> str:
    """The ISO 3166-1 short name of `code` ("" when empty or unknown)."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)


def logo_url(partner: Partner) -> str | None:
    if not partner.logo:
        return None
    name = partner.logo.name.rsplit("/", 1)[-1]
    return reverse("partner_directory:logo", args=[partner.slug, name])


# --- verified tracks ------------------------------------------------------------


def verified_tracks_of(*, partner_ids: list[int]) -> dict[int, tuple[list[VerifiedTrack], str]]:
    """Per partner: its verified tracks (in track order) and the apps milestone
    ("" unless verified on apps). One query; `since` is the latest move into
    a verified state (verified or at risk) from anything else."""
    if not partner_ids:
        return {}
    entered = (
        TrackStatusChange.objects.filter(
            partner_id=OuterRef("partner_id"),
            track=OuterRef("track"),
            to_state__in=_VERIFIED_STATES,
        )
        .exclude(from_state__in=_VERIFIED_STATES)
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    rows = (
        TrackStatusRecord.objects.filter(partner_id__in=partner_ids, verified=True)
        .annotate(since=Subquery(entered))
        .values_list("partner_id", "track", "since", "changed_at", "milestone")
    )
    found: dict[int, tuple[list[VerifiedTrack], str]] = defaultdict(lambda: ([], ""))
    order = Track.values.index
    for pid, track, since, changed_at, milestone in sorted(rows, key=lambda r: order(r[1])):
        tracks, apps_milestone = found[pid]
        tracks.append(VerifiedTrack(track, TRACK_LABELS[track], since or changed_at))
        if track == Track.APPS:
            found[pid] = (tracks, milestone or "")
    return dict(found)


# --- directory ------------------------------------------------------------------


def directory_partners(
    *, track: str | None = None, country: str | None = None, q: str | None = None
) -> QuerySet[Partner]:
    """Listable partners, filtered (a track they are verified on, a country,
    part of the name); not yet ordered or evaluated."""
    partners = Partner.objects.listable()
    if track:
        partners = partners.filter(
            Q(track_statuses__track=track) & Q(track_statuses__verified=True)
        )
    if country:
        partners = partners.filter(country=country)
    if q:
        partners = partners.filter(name__icontains=q)
    return partners.only("pk", "name", "slug", "website", "country", "description", "logo")


def directory_entries(partners: list[Partner]) -> list[DirectoryEntry]:
    """The entries of one page of partners (one query for their tracks)."""
    tracks = verified_tracks_of(partner_ids=[p.pk for p in partners])
    entries = []
    for partner in partners:
        verified, milestone = tracks.get(partner.pk, ([], ""))
        entries.append(DirectoryEntry(partner, verified, milestone or None))
    return entries


def directory_countries() -> list[tuple[str, str]]:
    """(code, name) of the countries of listed partners, by name (one query)."""
    codes = (
        Partner.objects.listable()
        .exclude(country="")
        .order_by()
        .values_list("country", flat=True)
        .distinct()
    )
    return sorted(((c, country_name(c)) for c in codes), key=lambda pair: pair[1])


# --- one partner: the verified page and the badge --------------------------------


@dataclass(frozen=True)
class PublicVerification:
    partner: Partner
    in_good_standing: bool
    tracks: list[VerifiedTrack]
    apps_milestone: str | None


def public_verification(*, slug: str) -> PublicVerification | None:
    """What the public may know of the partner `slug` (None: no such partner).

    A partner outside good standing (suspended...) shows no verified track."""
    partner = (
        Partner.objects.filter(slug=slug)
        .annotate(good=Q(pk__in=Partner.objects.in_good_standing().values("pk")))
        .only("pk", "name", "slug", "status")
        .first()
    )
    if partner is None:
        return None
    if not partner.good:
        return PublicVerification(partner, False, [], None)
    tracks, milestone = verified_tracks_of(partner_ids=[partner.pk]).get(partner.pk, ([], ""))
    return PublicVerification(partner, True, tracks, milestone or None)


@dataclass(frozen=True)
class Badge:
    svg: str
    etag: str


def _badge_key(slug: str, track: str | None) -> str:
    return f"partners:badge:{slug}:{track or 'all'}"


def absolute_url(name: str, slug: str) -> str:
    """A public page's address on SITE_URL (badges are shown on other sites)."""
    return settings.SITE_URL.rstrip("/") + reverse(name, args=[slug])


# A few seconds' copy in the process in front of the shared cache: a badge is
# fetched by every page view of every partner site that shows it, and a hit
# here costs no round trip to the cache server (docs/benchmarks.md). Another
# process may show a changed badge up to LOCAL_SECONDS late; browsers keep it
# BADGE_CACHE_SECONDS anyway.
LOCAL_SECONDS = 10
LOCAL_MAX_ENTRIES = 10_000
_local: dict[str, tuple[float, tuple[str, str]]] = {}


def badge_svg(*, slug: str, track: str | None) -> Badge | None:
    """The partner's badge for `track` (every verified track when None), from
    the cache when there (kept BADGE_CACHE_SECONDS, dropped sooner by
    `badge_cache_forget` when the status changes). None: no such partner."""
    key = _badge_key(slug, track)
    now = time.monotonic()
    local = _local.get(key)
    if local is not None and local[0] > now:
        return Badge(*local[1])
    cached = cache.get(key)
    if cached is not None:
        _remember(key, cached, now)
        return Badge(*cached)
    public = public_verification(slug=slug)
    if public is None:
        return None
    tracks = [t for t in public.tracks if track is None or t.track == track]
    if tracks:
        label = " · ".join(t.label for t in tracks)
        text = ("Verified partner", label)
    else:
        label = TRACK_LABELS[track] if track else ""
        text = ("Not verified", label)
    title = f"{public.partner.name}: {text[0].lower()}" + (f" · {label}" if label else "")
    svg = render_to_string(
        "partners/directory/badge.svg",
        {
            "verified": bool(tracks),
            "title": title,
            "status": text[0],
            "label": label,
            "width_status": 14 + 7 * len(text[0]),
            "width_label": (14 + 7 * len(label)) if label else 0,
            "verified_url": absolute_url("partner_directory:verified", slug),
            "id": hashlib.sha256(slug.encode()).hexdigest()[:8],
        },
    )
    etag = '"' + hashlib.sha256(svg.encode()).hexdigest()[:32] + '"'
    cache.set(key, (svg, etag), BADGE_CACHE_SECONDS)
    _remember(key, (svg, etag), now)
    return Badge(svg, etag)


def _remember(key: str, value: tuple[str, str], now: float) -> None:
    if len(_local) >= LOCAL_MAX_ENTRIES:
        _local.clear()
    _local[key] = (now + LOCAL_SECONDS, value)


def badge_local_copies_clear() -> None:
    """Forget this process's copies of every badge (tests, after a cache clear)."""
    _local.clear()


def badge_cache_forget(*, slugs: list[str]) -> None:
    """Drop the cached badges of these partners (their status changed): from
    the shared cache, and this process's copy (others' expire within
    LOCAL_SECONDS)."""
    keys = [_badge_key(slug, t) for slug in slugs for t in (None, *Track.values)]
    for key in keys:
        _local.pop(key, None)
    if keys:
        cache.delete_many(keys)
