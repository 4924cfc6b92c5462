"""The Wagtail admin screens for partner applications (partners/applications/wagtail_hooks.py)."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partners.applications import services as applications
from partners.models import Membership, Partner, PartnerApplication
from tests.lms.factories import UserFactory
from tests.partners.portal_factories import submit_application

pytestmark = pytest.mark.django_db

INDEX = "admin_partner_applications:index"


def _url(name, application, **query):
    url = reverse(f"admin_partner_applications:{name}", args=[application.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def pending():
    return submit_application(
        name="Acme Payments", tracks=["apps", "embedded_payments"], website="https://acme.test"
    )


# --- list -----------------------------------------------------------------------


def test_the_list_shows_company_tracks_submitted_and_status(staff_client, pending):
    response = staff_client.get(reverse(INDEX))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme Payments" in page
    assert "Apps, Embedded payments" in page
    assert "Waiting for review" in page
    assert pending.applicant.email in page
    # A pending row has its approve and reject buttons.
    assert _url("approve", pending) in page
    assert _url("reject", pending) in page
    assert _url("inspect", pending) in page


def test_a_decided_row_has_no_decision_buttons(staff_client, pending, staff_user):
    applications.application_approve(application=pending, decided_by=staff_user)
    page = staff_client.get(reverse(INDEX)).content.decode()
    assert "Approved" in page
    assert _url("approve", pending) not in page
    assert _url("reject", pending) not in page


def test_the_list_filters_by_status_track_and_date_and_searches(staff_client, staff_user):
    first = submit_application(name="Acme Payments", tracks=["apps"])
    second = submit_application(name="Globex", tracks=["services"])
    applications.application_reject(application=second, decided_by=staff_user, reason="No.")
    url = reverse(INDEX)

    page = staff_client.get(url, {"status": "pending"}).content.decode()
    assert "Acme Payments" in page and "Globex" not in page
    page = staff_client.get(url, {"status": "rejected"}).content.decode()
    assert "Globex" in page and "Acme Payments" not in page
    page = staff_client.get(url, {"track": "services"}).content.decode()
    assert "Globex" in page and "Acme Payments" not in page
    page = staff_client.get(url, {"q": "acme"}).content.decode()
    assert "Acme Payments" in page and "Globex" not in page

    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    today = timezone.localdate().isoformat()
    page = staff_client.get(url, {"submitted_at_from": tomorrow}).content.decode()
    assert "Acme Payments" not in page and "Globex" not in page
    page = staff_client.get(
        url, {"submitted_at_from": today, "submitted_at_to": today}
    ).content.decode()
    assert "Acme Payments" in page and "Globex" in page
    assert first.partner.name == "Acme Payments"


@pytest.mark.parametrize(
    "params", [{"status": "maybe"}, {"track": "crypto"}, {"submitted_at_from": "yesterday"}]
)
def test_bad_filters_are_not_a_server_error(staff_client, pending, params):
    response = staff_client.get(reverse(INDEX), params)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode() or "Enter a valid date" in (
        response.content.decode()
    )


def _query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_queries_do_not_grow_with_applications(staff_client):
    url = reverse(INDEX)
    for i in range(2):
        submit_application(name=f"Company {i}")
    _query_count(staff_client, url)  # warm per-process caches
    small = _query_count(staff_client, url)
    for i in range(2, 12):
        submit_application(name=f"Company {i}")
    assert _query_count(staff_client, url) == small


# --- detail -----------------------------------------------------------------------


def test_the_detail_shows_everything_the_applicant_gave(staff_client, pending):
    response = staff_client.get(_url("inspect", pending))
    assert response.status_code == 200
    page = response.content.decode()
    acceptance = pending.agreement_acceptance
    for text in [
        "Acme Payments",
        "https://acme.test",
        "DE",
        pending.applicant.email,
        "Apps, Embedded payments",
        "Partner Programme Agreement, version 1.0",
        f"{acceptance.accepted_by.email} on",
        "Not a restricted business",
        "Uses the platform-payments product",
        "Waiting for review",
    ]:
        assert text in page, text
    assert "Not asked" not in page  # the embedded payments attestation was given
    assert reverse("admin_partner_agreements:inspect", args=[acceptance.agreement_id]) in page
    # The decision forms post to the decision views, with CSRF.
    assert f'action="{_url("approve", pending)}"' in page
    assert f'action="{_url("reject", pending)}"' in page
    assert "csrfmiddlewaretoken" in page


def test_a_decided_application_shows_its_decision_and_no_buttons(staff_client, pending, staff_user):
    applications.application_reject(
        application=pending, decided_by=staff_user, reason="Restricted business."
    )
    page = staff_client.get(_url("inspect", pending)).content.decode()
    assert "Rejected on" in page
    assert staff_user.email in page
    assert "Restricted business." in page
    assert _url("approve", pending) not in page
    assert _url("reject", pending) not in page


def test_an_unknown_application_is_404(staff_client):
    missing = PartnerApplication(pk=999999)
    assert staff_client.get(_url("inspect", missing)).status_code == 404
    assert staff_client.post(_url("approve", missing)).status_code == 404
    assert staff_client.post(_url("reject", missing), {"reason": "x"}).status_code == 404


# --- approve --------------------------------------------------------------------------


def test_the_approve_screen_asks_first(staff_client, pending):
    response = staff_client.get(_url("approve", pending))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Approve the application of Acme Payments?" in page
    assert "provisional partner until" in page
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.PENDING


def test_staff_approve_in_the_admin(
    staff_client, staff_user, pending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(_url("approve", pending))
    assert response.status_code == 302
    assert response["Location"] == _url("inspect", pending)
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.APPROVED
    assert pending.decided_by == staff_user
    assert pending.provisional_deadline.date() > (timezone.now() + timedelta(days=180)).date()
    assert Partner.objects.get().status == Partner.Status.PROVISIONAL
    assert "is now a provisional partner until" in _messages(response)
    assert [m.to for m in mail.outbox] == [[pending.applicant.email]]

    page = staff_client.get(response["Location"]).content.decode()
    assert "Approved on" in page
    assert "Provisional deadline" in page


def test_approving_twice_in_the_admin_changes_nothing(
    staff_client, pending, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(_url("approve", pending))
        pending.refresh_from_db()
        first = (pending.decided_at, pending.provisional_deadline)
        again = staff_client.post(_url("approve", pending))
    assert again.status_code == 302
    assert "was already approved" in _messages(again)
    assert "nothing changed" in _messages(again)
    pending.refresh_from_db()
    assert (pending.decided_at, pending.provisional_deadline) == first
    assert Partner.objects.count() == 1
    assert PartnerApplication.objects.count() == 1
    assert len(mail.outbox) == 1
    # The confirmation screen of a decided application sends staff back to it.
    response = staff_client.get(_url("approve", pending))
    assert response.status_code == 302
    assert "was already approved" in _messages(response)


def test_approve_from_the_list_returns_to_the_list(staff_client, pending):
    index = reverse(INDEX)
    response = staff_client.post(_url("approve", pending), {"next": index})
    assert response["Location"] == index
    # An outside address is not followed.
    other = submit_application(name="Globex")
    response = staff_client.post(_url("approve", other), {"next": "https://evil.example/"})
    assert response["Location"] == _url("inspect", other)


def test_a_rejected_application_cannot_be_approved(staff_client, pending, staff_user):
    applications.application_reject(application=pending, decided_by=staff_user, reason="No.")
    response = staff_client.post(_url("approve", pending))
    assert response.status_code == 302
    assert "cannot be approved" in _messages(response)
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.REJECTED


def test_approve_needs_post(staff_client, pending):
    assert staff_client.put(_url("approve", pending)).status_code == 405
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.PENDING


# --- reject ----------------------------------------------------------------------------


def test_staff_reject_with_a_reason_in_the_admin(
    staff_client, pending, django_capture_on_commit_callbacks
):
    assert staff_client.get(_url("reject", pending)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(_url("reject", pending), {"reason": "Restricted business."})
    assert response.status_code == 302
    assert "was rejected" in _messages(response)
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.REJECTED
    assert pending.rejection_reason == "Restricted business."
    assert "Restricted business." in mail.outbox[0].body
    assert not Membership.objects.filter(ended__isnull=True).exists()


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("", "Give the applicant a reason"),
        ("   ", "Give the applicant a reason"),
        ("x" * 2001, "Keep the reason under 2000 characters"),
    ],
)
def test_reject_without_a_good_reason_is_a_form_error_and_changes_nothing(
    staff_client, pending, reason, text
):
    response = staff_client.post(_url("reject", pending), {"reason": reason})
    assert response.status_code == 422
    page = response.content.decode()
    assert text in page
    assert "The application was not rejected" in page
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.PENDING
    assert pending.rejection_reason == ""
    assert Membership.objects.filter(ended__isnull=True).count() == 1
    assert not mail.outbox


def test_an_approved_application_cannot_be_rejected(staff_client, pending, staff_user):
    applications.application_approve(application=pending, decided_by=staff_user)
    response = staff_client.post(_url("reject", pending), {"reason": "Changed our mind."})
    assert response.status_code == 302
    assert "cannot be rejected" in _messages(response)
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.APPROVED


def test_rejecting_twice_keeps_the_first_reason(staff_client, pending):
    staff_client.post(_url("reject", pending), {"reason": "First."})
    again = staff_client.post(_url("reject", pending), {"reason": "Second."})
    assert "was already rejected" in _messages(again)
    pending.refresh_from_db()
    assert pending.rejection_reason == "First."


# --- access -------------------------------------------------------------------------------


@pytest.fixture
def outsiders(instructor):
    return {"instructor": instructor, "learner": UserFactory()}


@pytest.mark.parametrize("who", ["instructor", "learner"])
def test_instructors_and_learners_cannot_see_or_decide(client, outsiders, who, pending):
    client.force_login(outsiders[who])
    for url in [reverse(INDEX), _url("inspect", pending), _url("approve", pending)]:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert "Acme Payments" not in response.content.decode()
    assert client.post(_url("approve", pending)).status_code in (302, 403)
    assert client.post(_url("reject", pending), {"reason": "No."}).status_code in (302, 403)
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.PENDING
    assert Partner.objects.get().status == Partner.Status.APPLICANT
    assert not mail.outbox


def test_nobody_edits_or_deletes_an_application_in_the_admin(staff_client, pending):
    edit = reverse("admin_partner_applications:edit", args=[pending.pk])
    delete = reverse("admin_partner_applications:delete", args=[pending.pk])
    assert staff_client.get(edit).status_code == 302
    assert staff_client.post(delete).status_code == 302
    assert staff_client.get(reverse("admin_partner_applications:add")).status_code == 302
    assert PartnerApplication.objects.filter(pk=pending.pk, status="pending").exists()


def test_the_applications_menu_is_shown_to_staff_only(client, staff_user, instructor):
    client.force_login(staff_user)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse(INDEX) in home
    assert reverse("admin_partner_agreements:index") in home
    client.force_login(instructor)
    home = client.get(reverse("wagtailadmin_home"))
    assert home.status_code == 200
    assert reverse(INDEX) not in home.content.decode()


def test_superusers_decide_too(client, pending):
    client.force_login(UserFactory(is_superuser=True))
    assert client.get(reverse(INDEX)).status_code == 200
    assert client.post(_url("approve", pending)).status_code == 302
    pending.refresh_from_db()
    assert pending.status == PartnerApplication.Status.APPROVED


def test_the_staff_page_still_works(staff_client, pending):
    assert staff_client.get("/partners/staff/applications/").status_code == 200
    assert staff_client.get(f"/partners/staff/applications/{pending.pk}/").status_code == 200
