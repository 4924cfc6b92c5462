"""Lifecycle pages: the staff status form, the payments confirmation, the
re-review page, the history on the dashboard and in the API, the staff queue."""

from datetime import timedelta

import pytest
from django.utils import timezone

from certificates.rules import add_months
from partners.applications.services import agreement_current
from partners.lifecycle import services as lifecycle
from partners.models import AgreementAcceptance, Partner, PartnerReReview, PartnerStatusChange
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import MembershipFactory, PartnerAdminFactory, PartnerFactory

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def company():
    partner = PartnerFactory(name="Northwind", slug="northwind", status="active")
    admin = PartnerAdminFactory(partner=partner).person
    return partner, admin


def stored(partner):
    return Partner.objects.get(pk=partner.pk)


def test_staff_suspend_and_reinstate_from_the_dashboard(client, company, staff_user):
    partner, _ = company
    login(client, staff_user)
    html = client.get("/partners/northwind/").content.decode()
    assert "Change the programme status" in html and "Payments account" in html
    response = client.post(
        "/partners/northwind/programme-status/", {"action": "suspend", "reason": "Audit"}
    )
    assert response.status_code == 302 and stored(partner).status == "suspended"
    html = client.get("/partners/northwind/").content.decode()
    assert "Programme status history" in html and "Audit" in html
    response = client.post("/partners/northwind/programme-status/", {"action": "reinstate"})
    assert response.status_code == 302 and stored(partner).status == "active"


@pytest.mark.parametrize(
    ("data", "status_code"),
    [
        ({"action": "suspend", "reason": ""}, 422),
        ({"action": "reinstate"}, 409),  # not suspended
        ({"action": "fly"}, 422),
        ({"action": "suspend", "reason": "x\x00y"}, 422),
        ({"action": "suspend", "reason": "x", "deadline": "not-a-date"}, 422),
    ],
)
def test_staff_status_form_bad_input_changes_nothing(
    client, company, staff_user, data, status_code
):
    partner, _ = company
    response = login(client, staff_user).post("/partners/northwind/programme-status/", data)
    assert response.status_code == status_code
    assert stored(partner).status == "active"
    assert not PartnerStatusChange.objects.exists()


def test_a_transition_from_terminated_is_refused_with_409(client, company, staff_user):
    partner, _ = company
    lifecycle.partner_transition(partner=partner, to="terminated", reason="Breach", by=staff_user)
    response = login(client, staff_user).post(
        "/partners/northwind/programme-status/", {"action": "suspend", "reason": "again"}
    )
    assert response.status_code == 409
    assert "final" in response.content.decode()
    assert stored(partner).status == "terminated"


@pytest.mark.parametrize("who", ["admin", "employee", "stranger"])
def test_only_staff_change_the_status_or_confirm_the_account(client, company, who):
    partner, admin = company
    user = {
        "admin": admin,
        "employee": MembershipFactory(partner=partner).person,
        "stranger": UserFactory(),
    }[who]
    login(client, user)
    response = client.post(
        "/partners/northwind/programme-status/", {"action": "suspend", "reason": "x"}
    )
    assert response.status_code == 404
    assert client.post("/partners/northwind/payments-account/").status_code == 404
    partner = stored(partner)
    assert partner.status == "active" and partner.payments_account_confirmed_at is None


def test_staff_confirm_the_payments_account(client, company, staff_user):
    partner, _ = company
    response = login(client, staff_user).post("/partners/northwind/payments-account/")
    assert response.status_code == 302
    assert stored(partner).payments_account_confirmed_by == staff_user


def _due_soon(partner):
    Partner.objects.filter(pk=partner.pk).update(
        activated_at=timezone.now() - 350 * DAY, rereview_due_at=timezone.now() + 10 * DAY
    )


def test_a_partner_admin_confirms_the_rereview_on_the_portal(client, company):
    partner, admin = company
    _due_soon(partner)
    login(client, admin)
    html = client.get("/partners/northwind/rereview/").content.decode()
    assert "Confirm the re-review" in html and "version 1.0" in html
    response = client.post(
        "/partners/northwind/rereview/", {"accept_agreement": "on", "restricted_business": "on"}
    )
    assert response.status_code == 302
    review = PartnerReReview.objects.get()
    assert review.confirmed_by == admin
    assert AgreementAcceptance.objects.filter(partner=partner).count() == 1
    assert stored(partner).rereview_due_at == add_months(review.confirmed_at, 12)


def test_rereview_page_bad_input(client, company):
    partner, admin = company
    _due_soon(partner)
    login(client, admin)
    response = client.post("/partners/northwind/rereview/", {"accept_agreement": "on"})
    assert response.status_code == 422  # no attestation
    response = client.post("/partners/northwind/rereview/", {"restricted_business": "on"})
    assert response.status_code == 409  # the agreement in force not accepted
    assert not PartnerReReview.objects.exists()


def test_rereview_by_someone_not_a_partner_admin_is_refused(client, company, staff_user):
    partner, _ = company
    _due_soon(partner)
    employee = MembershipFactory(partner=partner).person
    data = {"accept_agreement": "on", "restricted_business": "on"}
    assert login(client, employee).post("/partners/northwind/rereview/", data).status_code == 404
    other_admin = PartnerAdminFactory().person
    assert login(client, other_admin).post("/partners/northwind/rereview/", data).status_code == 404
    staff = login(client, staff_user).post("/partners/northwind/rereview/", data)
    assert staff.status_code == 403  # staff see the page, the admins confirm
    assert not PartnerReReview.objects.exists()


def test_api_history_newest_first_with_person_and_rule(client, company, staff_user):
    partner, admin = company
    now = timezone.now()
    lifecycle.partner_transition(
        partner=partner, to="suspended", reason="Audit", by=staff_user, now=now - DAY
    )
    lifecycle.partner_transition(partner=partner, to="active", by=staff_user, now=now)
    Partner.objects.filter(pk=partner.pk).update(rereview_due_at=now - 40 * DAY)
    lifecycle.lifecycle_daily(now=now + DAY)
    body = login(client, admin).get("/api/v1/partners/northwind/status").json()
    assert body["status"] == "suspended"
    history = body["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        ("active", "suspended"),
        ("suspended", "active"),
        ("active", "suspended"),
    ]
    assert history[0]["by"] == {"kind": "rule", "name": "Re-review overdue"}
    assert history[2]["by"] == {"kind": "person", "name": staff_user.display_name}
    assert history[2]["reason"] == "Audit"
    assert set(history[0]) == {"from", "to", "reason", "by", "at"}
    assert all(t["verified"] is False for t in body["tracks"])
    assert not any(b["have"] for b in body["benefits"])


def test_api_history_is_capped_at_50(client, company, staff_user):
    partner, admin = company
    PartnerStatusChange.objects.bulk_create(
        PartnerStatusChange(
            partner=partner,
            from_status="active",
            to_status="active",
            by=staff_user,
            at=timezone.now() - i * DAY,
        )
        for i in range(60)
    )
    body = login(client, admin).get("/api/v1/partners/northwind/status").json()
    assert len(body["history"]) == 50


def test_staff_rereview_queue(client, company, staff_user, instructor):
    partner, admin = company
    overdue = PartnerFactory(name="Late Co", status="active")
    Partner.objects.filter(pk=overdue.pk).update(rereview_due_at=timezone.now() - 3 * DAY)
    _due_soon(partner)
    confirmed = PartnerFactory(name="Done Co", status="active")
    PartnerReReview.objects.create(
        partner=confirmed,
        confirmed_by=UserFactory(),
        confirmed_at=timezone.now() - DAY,
        due_at=timezone.now(),
        agreement=agreement_current(),
        restricted_business_attested_at=timezone.now() - DAY,
    )
    html = login(client, staff_user).get("/admin/rereviews/").content.decode()
    assert "Overdue (1)" in html and "Late Co" in html
    assert "Due in the next 30 days (1)" in html and "Northwind" in html
    assert "(1)" in html and "Done Co" in html
    assert login(client, instructor).get("/admin/rereviews/").status_code in (302, 403)
    assert login(client, staff_user).get("/admin/status-history/").status_code == 200


def _queue_rows(n, staff_user):
    now = timezone.now()
    for _ in range(n):
        late = PartnerFactory(status="active")
        Partner.objects.filter(pk=late.pk).update(rereview_due_at=now - 3 * DAY)
        soon = PartnerFactory(status="active")
        Partner.objects.filter(pk=soon.pk).update(rereview_due_at=now + 3 * DAY)
        done = PartnerFactory(status="active")
        PartnerReReview.objects.create(
            partner=done,
            confirmed_by=UserFactory(),
            confirmed_at=now - DAY,
            due_at=now,
            agreement=agreement_current(),
            restricted_business_attested_at=now - DAY,
        )
        PartnerStatusChange.objects.create(
            partner=done, from_status="active", to_status="active", by=staff_user, at=now
        )


def test_queue_history_and_rereview_pages_query_counts_do_not_grow(
    client, company, staff_user, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from partners.lifecycle.selectors import rereview_queue

    partner, admin = company
    _due_soon(partner)
    pages = ["/admin/rereviews/", "/admin/status-history/"]
    _queue_rows(1, staff_user)
    login(client, staff_user)
    for url in pages:
        client.get(url)  # warm up
    small = {}
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        small[url] = len(queries)
    with django_assert_num_queries(2):
        rereview_queue()
    login(client, admin)
    with CaptureQueriesContext(connection) as rereview_small:
        client.get("/partners/northwind/rereview/")

    _queue_rows(8, staff_user)
    PartnerStatusChange.objects.bulk_create(
        PartnerStatusChange(
            partner=partner,
            from_status="active",
            to_status="active",
            by=staff_user,
            at=timezone.now(),
        )
        for _ in range(20)
    )
    with CaptureQueriesContext(connection) as rereview_large:
        client.get("/partners/northwind/rereview/")
    assert len(rereview_small) == len(rereview_large)
    login(client, staff_user)
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(queries) == small[url], url
    with django_assert_num_queries(2):
        queue = rereview_queue()
    assert len(queue.overdue) == 9 and len(queue.confirmed) == 9
