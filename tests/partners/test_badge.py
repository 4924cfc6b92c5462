"""The live badge (/partners/<slug>/badge.svg) and the public verified page."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache

from partners.directory.selectors import badge_local_copies_clear
from partners.models import Partner, TrackStatusRecord
from partners.status import services as status

from .directory_factories import verified_partners

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    badge_local_copies_clear()
    yield
    cache.clear()
    badge_local_copies_clear()


@pytest.fixture
def partner():
    return verified_partners(1, prefix="acme", tracks=("apps", "technology"))[0]


def badge(client, slug, query="", **headers):
    return client.get(f"/partners/{slug}/badge.svg{query}", headers=headers)


def title_of(response) -> str:
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and root.get("aria-labelledby") == title.get("id")
    return title.text


def test_a_verified_track(client, partner):
    response = badge(client, partner.slug, "?track=technology")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert title_of(response) == "Acme 0000: verified partner · Technology"
    assert b"Verified partner" in response.content and b"#1a7f37" in response.content
    assert b'href="http://' in response.content and b"/partners/acme-0000/verified" in (
        response.content
    )


def test_without_a_track_every_verified_track(client, partner):
    response = badge(client, partner.slug)
    assert title_of(response) == "Acme 0000: verified partner · Apps · Technology"


def test_a_track_not_verified_reads_not_verified_in_grey(client, partner):
    response = badge(client, partner.slug, "?track=services")
    assert response.status_code == 200
    assert title_of(response) == "Acme 0000: not verified · Services"
    assert b"Not verified" in response.content and b"#595959" in response.content


@pytest.mark.parametrize("state", [Partner.Status.SUSPENDED, Partner.Status.APPLICANT])
def test_a_partner_out_of_good_standing_reads_not_verified(client, partner, state):
    Partner.objects.filter(pk=partner.pk).update(
        status=state, suspended_from="active" if state == "suspended" else ""
    )
    assert title_of(badge(client, partner.slug, "?track=technology")).endswith(
        "not verified · Technology"
    )
    assert title_of(badge(client, partner.slug)) == "Acme 0000: not verified"


def test_hiding_the_listing_does_not_hide_the_badge(client, partner):
    Partner.objects.filter(pk=partner.pk).update(listed=False)
    assert "verified partner" in title_of(badge(client, partner.slug, "?track=technology"))
    assert client.get(f"/partners/{partner.slug}/verified").status_code == 200


@pytest.mark.parametrize("track", ["gold", "TECHNOLOGY", "x" * 500])
def test_an_unknown_track_is_400(client, partner, track):
    response = badge(client, partner.slug, f"?track={track}")
    assert response.status_code == 400
    assert b"Unknown track" in response.content


@pytest.mark.parametrize("slug", ["nobody", "x" * 90])
def test_an_unknown_partner_is_404(client, slug):
    assert badge(client, slug).status_code == 404
    assert client.get(f"/partners/{slug}/verified").status_code == 404


def test_cache_headers_etag_and_304(client, partner):
    first = badge(client, partner.slug, "?track=technology")
    assert first["Cache-Control"] == "public, max-age=300"
    etag = first["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    again = badge(client, partner.slug, "?track=technology", if_none_match=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag
    other = badge(client, partner.slug, "?track=apps", if_none_match=etag)
    assert other.status_code == 200 and other["ETag"] != etag


def test_served_from_the_cache_without_a_query(client, partner, django_assert_num_queries):
    badge(client, partner.slug, "?track=technology")
    with django_assert_num_queries(0):
        response = badge(client, partner.slug, "?track=technology")
    assert response.status_code == 200


def test_a_status_change_drops_the_cached_badge(
    client, partner, django_capture_on_commit_callbacks
):
    assert "verified partner" in title_of(badge(client, partner.slug, "?track=technology"))
    # The recompute finds no technical verification and no certified people.
    with django_capture_on_commit_callbacks(execute=True):
        status.partner_status_recompute(partner=partner)
    assert not TrackStatusRecord.objects.filter(partner=partner, verified=True).exists()
    assert "not verified" in title_of(badge(client, partner.slug, "?track=technology"))


def test_a_suspension_saved_drops_the_cached_badge(
    client, partner, django_capture_on_commit_callbacks
):
    assert "verified partner" in title_of(badge(client, partner.slug))
    with django_capture_on_commit_callbacks(execute=True):
        partner.status = Partner.Status.SUSPENDED
        partner.suspended_from = Partner.Status.ACTIVE
        partner.save()
    assert title_of(badge(client, partner.slug)) == "Acme 0000: not verified"


def test_a_name_is_escaped_in_the_svg(client):
    partner = verified_partners(1, prefix="esc")[0]
    Partner.objects.filter(pk=partner.pk).update(name='<Evil & "Co">')
    response = badge(client, partner.slug)
    assert title_of(response) == '<Evil & "Co">: verified partner · Technology'
    assert b"<Evil" not in response.content


def test_the_svg_needs_no_style_or_script(client, partner):
    body = badge(client, partner.slug).content
    for forbidden in (b"<style", b"style=", b"<script", b"on", b"<foreignObject"):
        if forbidden == b"on":
            assert not re.search(rb"\son[a-z]+=", body)
        else:
            assert forbidden not in body


def test_the_verified_page_lists_tracks_and_since(client, partner):
    response = client.get(f"/partners/{partner.slug}/verified")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Verified since" in page and "Technology" in page and "Apps" in page
    assert f"/partners/{partner.slug}/badge.svg" in page


def test_the_verified_page_of_a_suspended_partner_shows_no_track(client, partner):
    Partner.objects.filter(pk=partner.pk).update(
        status=Partner.Status.SUSPENDED, suspended_from="active"
    )
    page = client.get(f"/partners/{partner.slug}/verified").content.decode()
    assert "not verified on any track" in page and "Verified since" not in page


def test_another_process_copy_expires_within_seconds(client, partner, monkeypatch):
    from partners.directory import selectors

    assert "verified partner" in title_of(badge(client, partner.slug))
    # Another process dropped the shared copy; this one keeps its own briefly.
    cache.clear()
    Partner.objects.filter(pk=partner.pk).update(
        status=Partner.Status.SUSPENDED, suspended_from="active"
    )
    assert "verified partner" in title_of(badge(client, partner.slug))
    later = selectors.time.monotonic() + selectors.LOCAL_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    assert title_of(badge(client, partner.slug)) == "Acme 0000: not verified"
