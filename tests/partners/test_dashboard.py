"""Partner dashboard /partners/<slug>/ and staff input for track status."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape

from partners.models import AppMilestoneFigure, TechnicalVerification
from partners.status import services as status
from tests.certificates.factories import CertificationFactory, CredentialFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import MembershipFactory, PartnerFactory, PartnerTrackFactory
from .portal_factories import bulk_members
from .status_factories import TechnicalVerificationFactory

pytestmark = pytest.mark.django_db

DASHBOARD_QUERIES = 11  # + the programme status history


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def developer():
    return CertificationFactory(slug="developer", name="Developer")


def add_certified(partner, certification, n, *, expires_in_days=400):
    people = []
    for _ in range(n):
        person = UserFactory()
        MembershipFactory(partner=partner, person=person)
        CredentialFactory(
            person=person,
            certification=certification,
            expires_at=timezone.now() + timedelta(days=expires_in_days),
        )
        people.append(person)
    return people


@pytest.fixture
def company(developer):
    partner = PartnerFactory(name="Northwind", slug="northwind", status="active")
    PartnerTrackFactory(partner=partner, track="technology")
    admin = MembershipFactory(partner=partner, role="admin").person
    TechnicalVerificationFactory(partner=partner, track="technology")
    return partner, admin


def test_admin_sees_verified_track_and_who_must_renew(client, company, developer):
    partner, admin = company
    soon, later = add_certified(partner, developer, 1, expires_in_days=40) + add_certified(
        partner, developer, 1, expires_in_days=400
    )
    soon.legal_name = "Ada <b>Lovelace</b>"
    soon.save()
    status.partner_status_recompute(partner=partner)

    response = login(client, admin).get("/partners/northwind/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Verified" in html
    assert 'data-testid="certified-technology">2<' in html
    assert "Looking ahead" in html
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in html  # escaped
    assert later.legal_name not in html  # only the renewal that matters is listed
    assert "Record a technical verification" not in html  # staff only
    assert "You have it" in html and "Unlocked by" in html


def test_at_risk_shows_the_grace_deadline(client, company, developer):
    partner, admin = company
    people = add_certified(partner, developer, 2)
    status.partner_status_recompute(partner=partner)
    from partners.membership.services import membership_end

    membership_end(membership=people[0].memberships.get())
    status.partner_status_recompute(partner=partner)
    record = partner.track_statuses.get()
    html = login(client, admin).get("/partners/northwind/").content.decode()
    assert "At risk" in html
    assert f'data-testid="grace-technology">{record.at_risk_until:%-d %b %Y}<' in html


@pytest.mark.parametrize("who", ["employee", "other_admin", "stranger"])
def test_others_get_404(client, company, who):
    partner, _ = company
    if who == "employee":
        user = MembershipFactory(partner=partner).person
    elif who == "other_admin":
        user = MembershipFactory(partner=PartnerFactory(), role="admin").person
    else:
        user = UserFactory()
    assert login(client, user).get("/partners/northwind/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, company):
    response = client.get("/partners/northwind/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_provisional_checklist(client, developer):
    partner = PartnerFactory(slug="fresh", status="provisional")
    PartnerTrackFactory(partner=partner, track="services")
    admin = MembershipFactory(partner=partner, role="admin").person
    html = login(client, admin).get("/partners/fresh/").content.decode()
    assert "Partner requirements" in html
    assert 'id="requirement-business_foundations"' in html
    assert 'id="requirement-agreement"' in html


def test_staff_record_verification_and_figures(client, company, staff_user, developer):
    partner, _ = company
    PartnerTrackFactory(partner=partner, track="apps")
    add_certified(partner, developer, 2)
    login(client, staff_user)
    html = client.get("/partners/northwind/").content.decode()
    assert "Record a technical verification" in html and "Record apps figures" in html

    response = client.post(
        "/partners/northwind/verifications/",
        {"track": "apps", "status": "passed", "decided_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    v = TechnicalVerification.objects.get(partner=partner, track="apps")
    assert v.reviewer == staff_user
    response = client.post(
        "/partners/northwind/figures/",
        {
            "installs": "2500",
            "payment_volume_usd": "10.50",
            "app_review_passed": "on",
            "recorded_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert AppMilestoneFigure.objects.get(partner=partner).recorded_by == staff_user


@pytest.mark.parametrize(
    "url, data",
    [
        (
            "/partners/northwind/figures/",
            {"installs": "-1", "payment_volume_usd": "1", "recorded_on": "2024-01-01"},
        ),
        (
            "/partners/northwind/figures/",
            {"installs": "1", "payment_volume_usd": "-5", "recorded_on": "2024-01-01"},
        ),
        (
            "/partners/northwind/figures/",
            {"installs": "x", "payment_volume_usd": "1", "recorded_on": "nope"},
        ),
        (
            "/partners/northwind/verifications/",
            {"track": "gaming", "status": "passed", "decided_on": "2024-01-01"},
        ),
        (
            "/partners/northwind/verifications/",
            {"track": "apps", "status": "passed", "decided_on": "2999-01-01"},
        ),
        (
            "/partners/northwind/verifications/",
            {
                "track": "apps",
                "status": "passed",
                "decided_on": "2024-01-01",
                "expires_on": "2023-01-01",
            },
        ),
    ],
)
def test_bad_staff_input_is_422_and_nothing_stored(client, company, staff_user, url, data):
    partner, _ = company
    before = (TechnicalVerification.objects.count(), AppMilestoneFigure.objects.count())
    response = login(client, staff_user).post(url, data)
    assert response.status_code == 422
    assert (TechnicalVerification.objects.count(), AppMilestoneFigure.objects.count()) == before


def test_partner_admin_cannot_record(client, company):
    _partner, admin = company
    response = login(client, admin).post(
        "/partners/northwind/verifications/",
        {"track": "technology", "status": "passed", "decided_on": "2024-01-01"},
    )
    assert response.status_code == 404


def test_dashboard_query_count_same_for_5_and_500_members(
    client, company, developer, django_assert_num_queries
):
    partner, admin = company
    people, course, exam = bulk_members(
        partner, 4, exam=developer.exam, certification=developer, expires_in_days=30
    )
    status.partner_status_recompute(partner=partner)
    login(client, admin)
    client.get("/partners/northwind/")  # warm up (session, content types)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get("/partners/northwind/")
    assert 'data-testid="certified-technology">4<' in response.content.decode()
    bulk_members(
        partner, 495, course=course, exam=exam, certification=developer, expires_in_days=30
    )
    status.partner_status_recompute(partner=partner)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = client.get("/partners/northwind/")
    html = response.content.decode()
    assert 'data-testid="certified-technology">499<' in html
    assert escape(people[0].legal_name) in html  # whose renewals matter: all of them


# --- Wagtail admin: track rules and read-only history (partners/status/wagtail_hooks.py) ---


def test_staff_edit_a_track_rule_and_every_partner_is_recomputed(
    client, company, developer, staff_user, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from partners.models import TrackRuleSetting

    partner, _ = company
    add_certified(partner, developer, 2)
    status.partner_status_recompute(partner=partner)
    assert partner.track_statuses.get().state == "verified"
    rule = TrackRuleSetting.objects.get(track="technology")
    login(client, staff_user)
    assert client.get(reverse("admin_track_rules:index")).status_code == 200
    url = reverse("admin_track_rules:edit", args=[rule.pk])
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"required": "3", "grace_days": "30", "counting_certifications": "developer"}
        )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.required, rule.grace_days, rule.counting_certifications) == (3, 30, ["developer"])
    record = partner.track_statuses.get()
    assert (record.required, record.state) == (3, "not_verified")


def test_bad_rule_input_is_refused(client, staff_user):
    from django.urls import reverse

    from partners.models import TrackRuleSetting

    rule = TrackRuleSetting.objects.get(track="services")
    url = reverse("admin_track_rules:edit", args=[rule.pk])
    response = login(client, staff_user).post(
        url, {"required": "-1", "grace_days": "x", "counting_certifications": "a b, ../x"}
    )
    assert response.status_code == 200  # the form again, with errors
    assert set(response.context["form"].errors) == {
        "required",
        "grace_days",
        "counting_certifications",
    }
    rule.refresh_from_db()
    assert rule.required == 2


def test_verification_history_is_read_only_in_the_admin(client, company, staff_user):
    from django.urls import reverse

    login(client, staff_user)
    assert client.get(reverse("admin_verifications:index")).status_code == 200
    assert client.get(reverse("admin_app_figures:index")).status_code == 200
    v = TechnicalVerification.objects.first()
    assert client.get(reverse("admin_verifications:edit", args=[v.pk])).status_code in (302, 403)


def test_non_staff_cannot_see_track_rules(client, company):
    from django.urls import reverse

    _partner, admin = company
    response = login(client, admin).get(reverse("admin_track_rules:index"))
    assert response.status_code in (302, 403)
