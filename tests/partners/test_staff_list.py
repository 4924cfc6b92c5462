import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from partners.applications import services as applications
from partners.models import Partner, TrackStatusRecord
from partners.roster import selectors as roster
from tests.partners.factories import MembershipFactory, PartnerFactory, PartnerTrackFactory
from tests.partners.portal_factories import submit_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def partners(staff_user):
    soon = submit_application(name="Soon Co", tracks=["apps"])
    applications.application_approve(
        application=soon, decided_by=staff_user, now=timezone.now() - timedelta(days=170)
    )
    later = submit_application(name="Later Co", tracks=["services", "technology"])
    applications.application_approve(application=later, decided_by=staff_user)
    submit_application(name="=HYPERLINK(1)", tracks=["technology"])  # still an applicant
    active = PartnerFactory(name="Active Co", slug="active-co", status=Partner.Status.ACTIVE)
    PartnerTrackFactory(partner=active, track="technology")
    MembershipFactory(partner=active)
    MembershipFactory(partner=active)
    now = timezone.now()
    TrackStatusRecord.objects.create(
        partner=active,
        track="technology",
        state="at_risk",
        verified=True,
        computed_at=now,
        changed_at=now,
    )
    return {"soon": soon.partner, "later": later.partner, "active": active}


def _names(filters):
    return sorted(p.name for p in roster.partner_list_for_staff(filters=filters))


def test_filters(partners):
    F = roster.StaffFilters
    assert len(_names(F())) == 4
    assert _names(F(track="technology")) == ["=HYPERLINK(1)", "Active Co", "Later Co"]
    assert _names(F(status="provisional")) == ["Later Co", "Soon Co"]
    assert _names(F(deadline_within_days=30)) == ["Soon Co"]
    assert _names(F(at_risk=True)) == ["Active Co"]
    assert _names(F(track="apps", status="active")) == []


def test_staff_page_lists_filters_and_counts_queries(client, staff_user, partners):
    client.force_login(staff_user)
    client.get("/partners/staff/partners/")
    with CaptureQueriesContext(connection) as few:
        response = client.get("/partners/staff/partners/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Soon Co" in html and "At risk" in html
    for _ in range(15):
        PartnerTrackFactory(partner=PartnerFactory(), track="apps")
    with CaptureQueriesContext(connection) as many:
        client.get("/partners/staff/partners/")
    assert len(few) == len(many)

    filtered = client.get("/partners/staff/partners/?deadline_within=30&status=provisional")
    assert "Soon Co" in filtered.content.decode()
    assert "Later Co" not in filtered.content.decode()


@pytest.mark.parametrize(
    "query", ["track=crypto", "status=gone", "deadline_within=-1", "deadline_within=abc"]
)
def test_bad_filters_are_a_clear_400(client, staff_user, partners, query):
    client.force_login(staff_user)
    response = client.get(f"/partners/staff/partners/?{query}")
    assert response.status_code == 400
    assert client.get(f"/partners/staff/partners.csv?{query}").status_code == 400


def test_csv_export(client, staff_user, partners):
    client.force_login(staff_user)
    response = client.get("/partners/staff/partners.csv?track=technology")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["name", "slug", "status"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"'=HYPERLINK(1)", "Active Co", "Later Co"}  # formula neutralised
    active = dict(zip(rows[0], by_name["Active Co"], strict=True))
    assert (active["current_members"], active["at_risk"], active["tracks"]) == (
        "2",
        "yes",
        "technology",
    )
    later = dict(zip(rows[0], by_name["Later Co"], strict=True))
    assert later["provisional_deadline"] and later["tracks"] == "services technology"


def test_staff_list_is_hidden_from_everyone_else(client, partners):
    member = MembershipFactory().person
    client.force_login(member)
    assert client.get("/partners/staff/partners/").status_code == 404
    assert client.get("/partners/staff/partners.csv").status_code == 404
    client.logout()
    assert client.get("/partners/staff/partners.csv").status_code == 302
