"""GET /api/v1/partners/{slug}/status: shape, permissions, query count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners.status import services as status
from tests.certificates.factories import CertificationFactory, CredentialFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import MembershipFactory, PartnerFactory, PartnerTrackFactory
from .portal_factories import bulk_members
from .status_factories import AppMilestoneFigureFactory, TechnicalVerificationFactory

pytestmark = pytest.mark.django_db

TRACK_FIELDS = {
    "track",
    "verified",
    "technical_verification",
    "certified_individuals",
    "required",
    "at_risk_until",
    "lapses_on",
    "milestone",
    "renewals_that_matter",
}


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def developer():
    return CertificationFactory(slug="developer", name="Developer")


def add_certified(partner, certification, n):
    for _ in range(n):
        person = UserFactory()
        MembershipFactory(partner=partner, person=person)
        CredentialFactory(person=person, certification=certification)


@pytest.fixture
def company(developer):
    partner = PartnerFactory(name="Northwind", slug="northwind", status="active")
    PartnerTrackFactory(partner=partner, track="technology")
    PartnerTrackFactory(partner=partner, track="apps")
    admin = MembershipFactory(partner=partner, role="admin").person
    TechnicalVerificationFactory(
        partner=partner, track="technology", expires_at=timezone.now() + timedelta(days=365)
    )
    AppMilestoneFigureFactory(partner=partner, installs=5_000)
    add_certified(partner, developer, 2)
    status.partner_status_recompute(partner=partner)
    return partner, admin


def test_shape_for_a_partner_admin(client, company):
    partner, admin = company
    response = login(client, admin).get("/api/v1/partners/northwind/status")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"partner", "status", "tracks", "benefits", "history"}
    assert body["partner"] == {"slug": "northwind", "name": "Northwind"}
    assert body["status"] == "active"
    tracks = {t["track"]: t for t in body["tracks"]}
    assert list(tracks) == ["apps", "technology"]
    for t in body["tracks"]:
        assert set(t) == TRACK_FIELDS
    tech = tracks["technology"]
    assert tech["verified"] is True
    assert tech["certified_individuals"] == 2 and tech["required"] == 2
    assert tech["technical_verification"]["status"] == "passed"
    assert tech["at_risk_until"] is None
    assert tech["lapses_on"] is not None  # both credentials expire some day
    assert tech["milestone"] is None
    apps = tracks["apps"]
    assert apps["verified"] is False
    assert apps["technical_verification"] == {
        "status": "missing",
        "decided_on": None,
        "expires_at": None,
    }
    assert apps["milestone"] == "growth"
    benefits = {b["slug"]: b for b in body["benefits"]}
    assert set(body["benefits"][0]) == {"slug", "category", "name", "have", "select", "unlocked_by"}
    assert benefits["deal_registration"]["have"] is True
    assert benefits["verified_badge"]["have"] is True  # verified on technology
    assert benefits["app_marketplace_promotion"]["have"] is True  # growth
    assert benefits["connect_revenue_share"]["have"] is False
    assert "embedded payments" in benefits["connect_revenue_share"]["unlocked_by"]


def test_staff_see_any_partner(client, company, staff_user):
    response = login(client, staff_user).get("/api/v1/partners/northwind/status")
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["employee", "other_admin", "stranger", "former_admin"])
def test_everyone_else_gets_404(client, company, who):
    partner, _ = company
    if who == "employee":
        user = MembershipFactory(partner=partner).person
    elif who == "other_admin":
        user = MembershipFactory(partner=PartnerFactory(), role="admin").person
    elif who == "former_admin":
        user = MembershipFactory(
            partner=partner, role="admin", ended=timezone.now() - timedelta(days=1)
        ).person
    else:
        user = UserFactory()
    response = login(client, user).get("/api/v1/partners/northwind/status")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_is_401(client, company):
    assert client.get("/api/v1/partners/northwind/status").status_code == 401


@pytest.mark.parametrize("slug", ["nope", "NORTHWIND", "x" * 300, "north%20wind", "%00"])
def test_unknown_or_odd_slugs_are_404(client, company, staff_user, slug):
    response = login(client, staff_user).get(f"/api/v1/partners/{slug}/status")
    assert response.status_code == 404


def test_a_track_not_computed_yet_reads_not_verified(client, company):
    partner, admin = company
    PartnerTrackFactory(partner=partner, track="services")
    body = login(client, admin).get("/api/v1/partners/northwind/status").json()
    services = next(t for t in body["tracks"] if t["track"] == "services")
    assert services["verified"] is False and services["certified_individuals"] == 0


# 5 for the overview and its auth, 3 for the renewals (rules, memberships,
# credentials), 1 for the programme status history
STATUS_API_QUERIES = 12


def test_query_count_is_the_same_for_5_and_500_members(
    client, company, developer, django_assert_num_queries
):
    partner, admin = company  # the admin and 2 certified members
    _, course, exam = bulk_members(
        partner, 2, exam=developer.exam, certification=developer, expires_in_days=400
    )
    status.partner_status_recompute(partner=partner)
    login(client, admin)
    client.get("/api/v1/partners/northwind/status")  # warm up (session, content types)
    with django_assert_num_queries(STATUS_API_QUERIES):
        body = client.get("/api/v1/partners/northwind/status").json()
    tech = next(t for t in body["tracks"] if t["track"] == "technology")
    assert tech["certified_individuals"] == 4
    bulk_members(
        partner, 495, course=course, exam=exam, certification=developer, expires_in_days=400
    )
    TechnicalVerificationFactory(partner=partner, track="technology")
    status.partner_status_recompute(partner=partner)
    with django_assert_num_queries(STATUS_API_QUERIES):
        body = client.get("/api/v1/partners/northwind/status").json()
    tech = next(t for t in body["tracks"] if t["track"] == "technology")
    assert tech["certified_individuals"] == 499


# --- renewals that matter -------------------------------------------------------


def certified_member(partner, certification, *, expires_in_days, legal_name=""):
    person = UserFactory(legal_name=legal_name) if legal_name else UserFactory()
    membership = MembershipFactory(partner=partner, person=person)
    CredentialFactory(
        person=person,
        certification=certification,
        expires_at=timezone.now() + timedelta(days=expires_in_days),
    )
    return membership


@pytest.fixture
def renewals_company(developer):
    partner = PartnerFactory(name="Renew Co", slug="renew-co", status="active")
    PartnerTrackFactory(partner=partner, track="technology")
    admin = MembershipFactory(partner=partner, role="admin").person
    TechnicalVerificationFactory(partner=partner, track="technology")
    return partner, admin


def technology(client, admin, slug="renew-co"):
    body = login(client, admin).get(f"/api/v1/partners/{slug}/status").json()
    return next(t for t in body["tracks"] if t["track"] == "technology")


def test_renewals_that_matter_lists_the_expiries_that_take_the_track_below(
    client, renewals_company, developer
):
    partner, admin = renewals_company
    soon = certified_member(partner, developer, expires_in_days=40, legal_name="Sooner Person")
    later = certified_member(partner, developer, expires_in_days=100, legal_name="Later Person")
    certified_member(partner, developer, expires_in_days=900)
    status.partner_status_recompute(partner=partner)
    tech = technology(client, admin)
    assert tech["certified_individuals"] == 3 and tech["required"] == 2
    rows = tech["renewals_that_matter"]
    assert [r["member_id"] for r in rows] == [soon.pk, later.pk]  # soonest first
    assert set(rows[0]) == {"member_id", "name", "certification", "expires_on"}
    assert rows[0]["name"] == "Sooner Person"
    assert rows[0]["certification"] == "developer"
    assert rows[0]["expires_on"].startswith(
        soon.person.credentials.get().expires_at.date().isoformat()
    )


def test_a_spare_holder_beyond_the_horizon_means_no_renewal_matters_yet(
    client, renewals_company, developer
):
    partner, admin = renewals_company
    certified_member(partner, developer, expires_in_days=40)
    certified_member(partner, developer, expires_in_days=200)  # the lapse: beyond 180 days
    certified_member(partner, developer, expires_in_days=900)
    status.partner_status_recompute(partner=partner)
    assert technology(client, admin)["renewals_that_matter"] == []


def test_former_members_are_never_listed(client, renewals_company, developer):
    partner, admin = renewals_company
    gone = certified_member(partner, developer, expires_in_days=30)
    gone.ended = timezone.now() - timedelta(days=1)
    gone.save()
    stays = certified_member(partner, developer, expires_in_days=60)
    certified_member(partner, developer, expires_in_days=900)
    status.partner_status_recompute(partner=partner)
    rows = technology(client, admin)["renewals_that_matter"]
    assert [r["member_id"] for r in rows] == [stays.pk]
