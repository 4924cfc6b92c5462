from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from lms.errors import DomainError
from partners.applications import services as applications
from partners.models import (
    AgreementAcceptance,
    Membership,
    Partner,
    PartnerApplication,
    PartnerTrack,
)
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory
from tests.partners.portal_factories import AgreementFactory, submit_application

pytestmark = pytest.mark.django_db


def test_the_seeded_agreement_is_current():
    assert applications.agreement_current().version == "1.0"


def test_the_current_agreement_is_the_latest_in_force():
    AgreementFactory(version="2.0", effective_from=timezone.now() - timedelta(days=1))
    AgreementFactory(version="3.0", effective_from=timezone.now() + timedelta(days=10))
    assert applications.agreement_current().version == "2.0"


def test_submit_creates_an_applicant_partner_with_its_admin_and_the_acceptance():
    applicant = UserFactory()
    application = submit_application(applicant=applicant, tracks=["apps", "embedded_payments"])

    partner = application.partner
    assert partner.status == Partner.Status.APPLICANT
    assert set(partner.tracks.values_list("track", flat=True)) == {"apps", "embedded_payments"}
    assert application.status == PartnerApplication.Status.PENDING
    assert application.tracks == ["apps", "embedded_payments"]
    assert application.restricted_business_attested_at is not None
    assert application.embedded_payments_attested_at is not None
    acceptance = AgreementAcceptance.objects.get(partner=partner)
    assert (acceptance.accepted_by, acceptance.agreement.version) == (applicant, "1.0")
    assert acceptance.accepted_at == application.submitted_at
    membership = Membership.objects.get(person=applicant, ended__isnull=True)
    assert (membership.partner, membership.role) == (partner, Membership.Role.ADMIN)


def test_no_embedded_payments_attestation_is_recorded_without_that_track():
    application = submit_application(tracks=["services"], embedded_payments_attested=True)
    assert application.embedded_payments_attested_at is None


@pytest.mark.parametrize(
    ("changes", "code", "status"),
    [
        ({"tracks": []}, "tracks_required", 422),
        ({"tracks": ["crypto"]}, "invalid_track", 400),
        ({"agreement_version": ""}, "agreement_required", 422),
        ({"agreement_version": "0.9"}, "agreement_outdated", 409),
        ({"restricted_business_attested": False}, "restricted_business_attestation_required", 422),
        (
            {"tracks": ["embedded_payments"], "embedded_payments_attested": False},
            "embedded_payments_attestation_required",
            422,
        ),
        ({"name": "   "}, "invalid_name", 400),
        ({"website": "javascript:alert(1)"}, "invalid_website", 400),
        ({"country": "XX"}, "invalid_country", 400),
    ],
)
def test_bad_applications_are_refused_and_create_nothing(changes, code, status):
    with pytest.raises(DomainError) as error:
        submit_application(**changes)
    assert (error.value.code, error.value.status) == (code, status)
    assert not Partner.objects.exists()
    assert not Membership.objects.exists()
    assert not AgreementAcceptance.objects.exists()


def test_a_current_member_elsewhere_cannot_apply():
    member = MembershipFactory().person
    with pytest.raises(DomainError) as error:
        submit_application(applicant=member, name="Second Co")
    assert error.value.code == "already_member"
    assert not Partner.objects.filter(name="Second Co").exists()


def test_no_agreement_published_means_no_applications():
    from partners.models import PartnerAgreement

    PartnerAgreement.objects.all().delete()
    with pytest.raises(DomainError) as error:
        applications.application_submit(
            applicant=UserFactory(),
            name="Acme",
            tracks=["apps"],
            agreement_version="1.0",
            restricted_business_attested=True,
        )
    assert error.value.code == "no_agreement"


def test_approve_makes_the_partner_provisional_with_a_six_month_deadline(
    staff_user, django_capture_on_commit_callbacks
):
    application = submit_application()
    decided = datetime(2026, 8, 31, 12, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        applications.application_approve(
            application=application, decided_by=staff_user, now=decided
        )
    application.refresh_from_db()
    assert application.status == PartnerApplication.Status.APPROVED
    assert application.provisional_deadline == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert (application.decided_by, application.decided_at) == (staff_user, decided)
    assert Partner.objects.get().status == Partner.Status.PROVISIONAL
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [application.applicant.email]
    assert "28 February 2027" in mail.outbox[0].body


def test_approving_twice_is_idempotent(staff_user, django_capture_on_commit_callbacks):
    application = submit_application()
    with django_capture_on_commit_callbacks(execute=True):
        first = applications.application_approve(application=application, decided_by=staff_user)
        again = applications.application_approve(
            application=application,
            decided_by=UserFactory(),
            now=timezone.now() + timedelta(days=3),
        )
    assert again.provisional_deadline == first.provisional_deadline
    assert again.decided_by == staff_user
    assert len(mail.outbox) == 1


def test_reject_needs_a_reason(staff_user):
    application = submit_application()
    with pytest.raises(DomainError) as error:
        applications.application_reject(application=application, decided_by=staff_user, reason=" ")
    assert (error.value.code, error.value.status) == ("reason_required", 422)
    application.refresh_from_db()
    assert application.status == PartnerApplication.Status.PENDING


def test_reject_tells_the_applicant_why_and_frees_them_to_apply_again(
    staff_user, django_capture_on_commit_callbacks
):
    application = submit_application()
    with django_capture_on_commit_callbacks(execute=True):
        applications.application_reject(
            application=application, decided_by=staff_user, reason="Restricted business."
        )
    application.refresh_from_db()
    assert application.status == PartnerApplication.Status.REJECTED
    assert application.rejection_reason == "Restricted business."
    assert Partner.objects.get().status == Partner.Status.APPLICANT
    assert "Restricted business." in mail.outbox[0].body
    assert not Membership.objects.filter(ended__isnull=True).exists()
    assert Membership.objects.count() == 1  # ended, not deleted
    submit_application(applicant=application.applicant, name="Acme Two")


def test_a_decided_application_cannot_flip(staff_user):
    approved = submit_application()
    applications.application_approve(application=approved, decided_by=staff_user)
    with pytest.raises(DomainError) as error:
        applications.application_reject(application=approved, decided_by=staff_user, reason="No")
    assert error.value.code == "application_decided"

    rejected = submit_application(name="Other")
    applications.application_reject(application=rejected, decided_by=staff_user, reason="No")
    applications.application_reject(application=rejected, decided_by=staff_user, reason="Again")
    rejected.refresh_from_db()
    assert rejected.rejection_reason == "No"
    with pytest.raises(DomainError) as error:
        applications.application_approve(application=rejected, decided_by=staff_user)
    assert error.value.code == "application_decided"


# --- pages --------------------------------------------------------------------


def _form(**changes):
    data = {
        "name": "Globex",
        "website": "https://globex.example.com",
        "country": "US",
        "tracks": ["technology", "embedded_payments"],
        "agreement_version": "1.0",
        "accept_agreement": "on",
        "restricted_business": "on",
        "embedded_payments": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_apply_page_submits_an_application(client):
    applicant = UserFactory()
    client.force_login(applicant)
    page = client.get("/partners/apply/")
    assert page.status_code == 200
    assert "version 1.0" in page.content.decode()

    response = client.post("/partners/apply/", _form())
    partner = Partner.objects.get(name="Globex")
    assert response.status_code == 302
    assert response["Location"] == f"/partners/{partner.slug}/people/"
    assert set(partner.tracks.values_list("track", flat=True)) == {
        PartnerTrack.Track.TECHNOLOGY,
        PartnerTrack.Track.EMBEDDED_PAYMENTS,
    }


@pytest.mark.parametrize(
    ("changes", "status", "text"),
    [
        ({"accept_agreement": None}, 422, "Accept the partner agreement"),
        ({"restricted_business": None}, 422, "not a restricted business"),
        ({"embedded_payments": None}, 422, "platform-payments product"),
        ({"agreement_version": "0.1"}, 409, "current version is 1.0"),
        ({"tracks": None}, 422, "Choose at least one track"),
        ({"tracks": ["bogus"]}, 400, "Select a valid choice"),
        ({"name": ""}, 400, "This field is required"),
    ],
)
def test_apply_page_refuses_bad_input_clearly(client, changes, status, text):
    client.force_login(UserFactory())
    response = client.post("/partners/apply/", _form(**changes))
    assert response.status_code == status
    assert text in response.content.decode()
    assert not Partner.objects.exists()


def test_apply_page_needs_sign_in(client):
    response = client.get("/partners/apply/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_staff_approve_and_reject_on_the_staff_page(client, staff_user):
    first = submit_application()
    second = submit_application(name="Initech")
    client.force_login(staff_user)
    listing = client.get("/partners/staff/applications/")
    assert "Acme Payments" in listing.content.decode()

    url = f"/partners/staff/applications/{first.pk}/"
    assert client.post(url, {"decision": "approve"}).status_code == 302
    first.refresh_from_db()
    assert first.status == "approved"
    assert client.post(url, {"decision": "approve"}).status_code == 302  # idempotent

    url = f"/partners/staff/applications/{second.pk}/"
    refused = client.post(url, {"decision": "reject", "reason": ""})
    assert refused.status_code == 422
    assert "reason" in refused.content.decode()
    assert client.post(url, {"decision": "reject", "reason": "Not a fit."}).status_code == 302
    second.refresh_from_db()
    assert second.status == "rejected"
    assert client.post(url, {"decision": "maybe"}).status_code == 400
    assert client.get("/partners/staff/applications/99999/").status_code == 404


def test_staff_pages_are_hidden_from_everyone_else(client):
    application = submit_application()
    client.force_login(application.applicant)
    assert client.get("/partners/staff/applications/").status_code == 404
    response = client.post(
        f"/partners/staff/applications/{application.pk}/", {"decision": "approve"}
    )
    assert response.status_code == 404
    application.refresh_from_db()
    assert application.status == "pending"
