"""The public directory of verified partners: page, API, who appears, query counts."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from partners.directory.selectors import badge_local_copies_clear
from partners.models import Partner, TrackStatusRecord
from tests.lms.factories import UserFactory

from .directory_factories import verified_partners
from .factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    badge_local_copies_clear()
    yield
    cache.clear()
    badge_local_copies_clear()


def names_in_api(client, query=""):
    response = client.get(f"/api/v1/directory/partners{query}")
    assert response.status_code == 200, response.content
    return [p["name"] for p in response.json()["data"]]


def test_only_listed_partners_in_good_standing_verified_on_a_track_appear(client):
    shown = verified_partners(1, prefix="shown")[0]
    hidden = verified_partners(1, prefix="hidden", listed=False)[0]
    suspended = verified_partners(1, prefix="suspended", status=Partner.Status.SUSPENDED)[0]
    applicant = verified_partners(1, prefix="applicant", status=Partner.Status.APPLICANT)[0]
    lapsed = verified_partners(1, prefix="lapsed")[0]
    TrackStatusRecord.objects.filter(partner=lapsed).update(verified=False, state="not_verified")
    assert names_in_api(client) == [shown.name]
    page = client.get("/partners/directory/").content.decode()
    assert shown.name in page
    for other in (hidden, suspended, applicant, lapsed):
        assert other.name not in page


def test_an_at_risk_track_is_still_verified_and_listed(client):
    partner = verified_partners(1, prefix="risky")[0]
    TrackStatusRecord.objects.filter(partner=partner).update(state="at_risk")
    assert names_in_api(client) == [partner.name]


def test_the_page_and_api_show_the_profile_tracks_since_and_milestone_but_no_people(client):
    since = timezone.now() - timedelta(days=100)
    partner = verified_partners(
        1, prefix="acme", tracks=("apps", "technology"), since=since, milestone="growth"
    )[0]
    partner.description = "Payments integrations for retail."
    partner.country = "FR"
    partner.save()
    person = UserFactory(legal_name="Very Secret Person", email="secret@acme.example")
    MembershipFactory(partner=partner, person=person, role="admin")
    item = client.get("/api/v1/directory/partners").json()["data"][0]
    assert set(item) == {
        "id",
        "slug",
        "name",
        "logo_url",
        "website",
        "country",
        "description",
        "tracks",
        "apps_milestone",
        "verified_url",
        "badge_url",
    }
    assert item["country"] == {"code": "FR", "name": "France"}
    assert item["description"] == "Payments integrations for retail."
    assert [t["track"] for t in item["tracks"]] == ["apps", "technology"]
    assert item["tracks"][0]["verified_since"].startswith(since.date().isoformat())
    assert item["apps_milestone"] == "growth"
    assert item["verified_url"] == f"/partners/{partner.slug}/verified"
    page = client.get("/partners/directory/").content.decode()
    for text in ("Payments integrations for retail.", "France", "Growth", "Technology"):
        assert text in page
    for secret in ("Very Secret Person", "secret@acme.example", "certified individual"):
        assert secret not in page
        assert secret not in str(item)
    assert "certified_individuals" not in str(item)


def test_the_since_date_is_the_start_of_the_current_verified_stretch(client):
    from partners.models import TrackStatusChange

    now = timezone.now()
    partner = verified_partners(1, prefix="back", since=now - timedelta(days=300))[0]
    for days, frm, to in (
        (200, "verified", "at_risk"),  # still verified
        (150, "at_risk", "not_verified"),
        (20, "not_verified", "verified"),  # back: the stretch starts here
    ):
        TrackStatusChange.objects.create(
            partner=partner,
            track="technology",
            from_state=frm,
            to_state=to,
            at=now - timedelta(days=days),
        )
    item = client.get("/api/v1/directory/partners").json()["data"][0]
    expected = (now - timedelta(days=20)).date().isoformat()
    assert item["tracks"][0]["verified_since"].startswith(expected)


def test_filters_by_track_country_and_name(client):
    verified_partners(2, prefix="tech", tracks=("technology",), country="DE")
    verified_partners(1, prefix="apps", tracks=("apps",), country="US")
    verified_partners(1, prefix="both", tracks=("apps", "services"), country="US")
    assert names_in_api(client, "?track=apps") == ["Apps 0000", "Both 0000"]
    assert names_in_api(client, "?country=us") == ["Apps 0000", "Both 0000"]
    assert names_in_api(client, "?country=DE&track=technology") == ["Tech 0000", "Tech 0001"]
    assert names_in_api(client, "?q=ech 0001") == ["Tech 0001"]
    assert names_in_api(client, "?track=services&q=both") == ["Both 0000"]
    page = client.get("/partners/directory/?track=apps&country=US").content.decode()
    assert "Both 0000" in page and "Tech 0000" not in page
    page = client.get("/partners/directory/?q=tech").content.decode()
    assert "Tech 0001" in page and "Apps 0000" not in page
    assert (
        '<option value="US">United States</option>'
        in client.get("/partners/directory/").content.decode()
    )


@pytest.mark.parametrize(
    "query",
    [
        "?track=gold",
        "?country=XYZ",
        "?country=1",
        f"?q={'x' * 101}",
        "?q=a%00b",
        "?limit=0",
        "?limit=101",
    ],
)
def test_bad_api_filters_are_422(client, query):
    verified_partners(1)
    response = client.get(f"/api/v1/directory/partners{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("query", ["?track=gold", "?country=XX", f"?q={'x' * 101}", "?q=a%00b"])
def test_bad_page_filters_are_400_with_the_form(client, query):
    verified_partners(1)
    response = client.get(f"/partners/directory/{query}")
    assert response.status_code == 400
    assert b"field__errors" in response.content


def test_a_page_number_past_the_end_shows_the_last_page(client):
    verified_partners(21)
    response = client.get("/partners/directory/?page=99")
    assert response.status_code == 200
    assert b"Co 0020" in response.content and b"Page 2 of 2" in response.content


def test_api_pages_with_cursors(client):
    verified_partners(5)
    first = client.get("/api/v1/directory/partners?limit=2").json()
    assert [p["name"] for p in first["data"]] == ["Co 0000", "Co 0001"]
    assert first["has_more"] is True
    after = first["data"][-1]["id"]
    second = client.get(f"/api/v1/directory/partners?limit=2&starting_after={after}").json()
    assert [p["name"] for p in second["data"]] == ["Co 0002", "Co 0003"]
    before = second["data"][0]["id"]
    back = client.get(f"/api/v1/directory/partners?limit=2&ending_before={before}").json()
    assert [p["name"] for p in back["data"]] == ["Co 0000", "Co 0001"]


def test_a_cursor_that_is_not_a_listed_partner_is_400(client):
    shown = verified_partners(2)[0]
    hidden = verified_partners(1, prefix="hidden", listed=False)[0]
    for cursor in (hidden.pk, 999999, "abc"):
        response = client.get(f"/api/v1/directory/partners?starting_after={cursor}")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_cursor"
    response = client.get(f"/api/v1/directory/partners?track=apps&starting_after={shown.pk}")
    assert response.json()["code"] == "invalid_cursor"  # not in the filtered list
    both = f"starting_after={shown.pk}&ending_before={shown.pk}"
    assert client.get(f"/api/v1/directory/partners?{both}").status_code == 400


# --- query counts at two sizes ------------------------------------------------------

API_QUERIES = 2  # the page of partners, their verified tracks
API_QUERIES_WITH_CURSOR = 3
PAGE_QUERIES = 4  # the country filter, the count, the page, their tracks


def test_api_query_count_is_the_same_for_10_and_1000_partners(client, django_assert_num_queries):
    verified_partners(10, tracks=("apps", "technology"), milestone="build")
    client.get("/api/v1/directory/partners")  # warm up
    with django_assert_num_queries(API_QUERIES):
        small = client.get("/api/v1/directory/partners?limit=100").json()
    cursor = small["data"][3]["id"]
    with django_assert_num_queries(API_QUERIES_WITH_CURSOR):
        client.get(f"/api/v1/directory/partners?starting_after={cursor}")
    verified_partners(990, prefix="more", tracks=("apps", "technology"), milestone="build")
    with django_assert_num_queries(API_QUERIES):
        big = client.get("/api/v1/directory/partners?limit=100").json()
    with django_assert_num_queries(API_QUERIES_WITH_CURSOR):
        client.get(f"/api/v1/directory/partners?starting_after={cursor}")
    assert len(small["data"]) == 10 and len(big["data"]) == 100 and big["has_more"]


def test_page_query_count_is_the_same_for_10_and_1000_partners(client, django_assert_num_queries):
    verified_partners(10)
    client.get("/partners/directory/")  # warm up
    with django_assert_num_queries(PAGE_QUERIES):
        client.get("/partners/directory/?track=technology")
    verified_partners(990, prefix="more", country="US")
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get("/partners/directory/?track=technology&page=3")
    assert b"Page 3 of 50" in response.content
