"""Directory and badge data for `make bench`: verified, listed partners.

`prepare_directory()` (called by bench.prepare before the server starts)
makes 10 verified partners, counts the queries of one directory API page
and of the directory page, makes 990 more and counts again: the two counts
must match (they are pinned in tests/partners/test_directory.py too). The
server rows then read the 1,000-partner directory and one partner's badge.
"""

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.models import Partner, PartnerTrack, TrackStatusChange, TrackStatusRecord

TRACKS = ("apps", "technology")


def _verified_partners(first: int, last: int) -> None:
    now = timezone.now()
    since = now - timedelta(days=90)
    partners = Partner.objects.bulk_create(
        Partner(
            name=f"Bench Partner {i:04d}",
            slug=f"bench-partner-{i:04d}",
            website=f"https://partner-{i}.example.com",
            country=("DE", "US", "FR", "GB")[i % 4],
            description="Payments integrations for retail and marketplaces.",
            status=Partner.Status.ACTIVE,
        )
        for i in range(first, last)
    )
    if not partners[0].pk:  # SQLite without RETURNING ids
        partners = list(
            Partner.objects.filter(slug__startswith="bench-partner-").order_by("pk")[first:last]
        )
    PartnerTrack.objects.bulk_create(
        PartnerTrack(partner=p, track=t) for p in partners for t in TRACKS
    )
    TrackStatusRecord.objects.bulk_create(
        TrackStatusRecord(
            partner=p,
            track=t,
            state="verified",
            verified=True,
            certified_individuals=3,
            required=2,
            technical_verification="passed",
            milestone="growth" if t == "apps" else "",
            computed_at=now,
            changed_at=since,
        )
        for p in partners
        for t in TRACKS
    )
    TrackStatusChange.objects.bulk_create(
        TrackStatusChange(
            partner=p, track=t, from_state="not_verified", to_state="verified", at=since
        )
        for p in partners
        for t in TRACKS
    )


def _queries(client: Client, path: str) -> int:
    client.get(path)  # warm up (content types, caches)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def prepare_directory() -> dict:
    client = Client(HTTP_HOST="127.0.0.1")
    api = "/api/v1/directory/partners?limit=100"
    page = "/partners/directory/?track=technology"
    _verified_partners(0, 10)
    small = {"api": _queries(client, api), "page": _queries(client, page)}
    _verified_partners(10, 1000)
    large = {"api": _queries(client, api), "page": _queries(client, page)}
    return {
        "badge_slug": "bench-partner-0001",
        "queries": {"10": small, "1000": large},
    }
