"""Track status recomputation end to end with real models (partners.status.services)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from certificates import services as cert_services
from certificates.models import Credential
from partners.membership import services as partner_services
from partners.models import TrackRuleSetting, TrackStatusChange, TrackStatusRecord
from partners.status import services as status
from partners.status.tasks import recompute_all_partner_statuses
from tests.certificates.factories import (
    CertificationFactory,
    CredentialFactory,
    meet_requirements,
)
from tests.lms.factories import UserFactory

from .factories import MembershipFactory, PartnerFactory, PartnerTrackFactory
from .status_factories import AppMilestoneFigureFactory, TechnicalVerificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer():
    return CertificationFactory(slug="developer", name="Developer")


@pytest.fixture
def architect():
    return CertificationFactory(slug="architect", name="Architect")


@pytest.fixture
def company():
    partner = PartnerFactory(name="Northwind Payments", slug="northwind")
    PartnerTrackFactory(partner=partner, track="technology")
    admin = MembershipFactory(partner=partner, role="admin", person=UserFactory()).person
    TechnicalVerificationFactory(partner=partner, track="technology")
    return partner, admin


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    monkeypatch.setattr(cert_services, "_queue_render", lambda credential_id: None)


def record(partner, track="technology"):
    return TrackStatusRecord.objects.get(partner=partner, track=track)


def member_with_credential(partner, certification, **kwargs):
    person = UserFactory()
    MembershipFactory(partner=partner, person=person, started=timezone.now() - timedelta(days=90))
    credential = CredentialFactory(person=person, certification=certification, **kwargs)
    return person, credential


def test_issuing_the_second_credential_makes_the_track_verified(
    company, developer, django_capture_on_commit_callbacks
):
    partner, admin = company
    member_with_credential(partner, developer)
    status.partner_status_recompute(partner=partner)
    assert record(partner).state == "not_verified"
    assert record(partner).certified_individuals == 1

    person = UserFactory()
    MembershipFactory(partner=partner, person=person)
    meet_requirements(person=person, certification=developer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        credential, created = cert_services.credential_issue_if_eligible(
            person=person, certification=developer
        )
    assert created

    rec = record(partner)
    assert (rec.state, rec.verified, rec.certified_individuals, rec.required) == (
        "verified",
        True,
        2,
        2,
    )
    assert rec.reason == "verified"
    change = TrackStatusChange.objects.filter(partner=partner).first()
    assert (change.from_state, change.to_state) == ("not_verified", "verified")
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert "Northwind Payments" in mail.outbox[0].subject
    assert "not_verified -> verified" in mail.outbox[0].body


def test_a_member_leaving_puts_the_track_at_risk_with_a_grace_deadline(
    company, developer, architect, django_capture_on_commit_callbacks
):
    partner, admin = company
    member_with_credential(partner, developer)
    leaver, _ = member_with_credential(partner, architect)
    status.partner_status_recompute(partner=partner)
    assert record(partner).state == "verified"
    mail.outbox.clear()

    membership = leaver.memberships.get(ended__isnull=True)
    with django_capture_on_commit_callbacks(execute=True):
        partner_services.membership_end(membership=membership, reason="left the company")

    rec = record(partner)
    assert rec.state == "at_risk"
    assert rec.verified is True
    assert rec.certified_individuals == 1
    membership.refresh_from_db()
    assert rec.at_risk_until == membership.ended + timedelta(days=60)
    change = TrackStatusChange.objects.filter(partner=partner).first()
    assert (change.from_state, change.to_state, change.reason) == ("verified", "at_risk", "at_risk")
    assert len(mail.outbox) == 1

    # After the grace period the daily job takes the verification away.
    later = membership.ended + timedelta(days=61)
    result = status.partner_statuses_recompute(now=later)
    assert result.changes == 1
    rec = record(partner)
    assert (rec.state, rec.verified, rec.reason) == ("not_verified", False, "grace_ended")


def test_revocation_loses_verification_at_once(
    company, developer, staff_user, django_capture_on_commit_callbacks
):
    partner, _admin = company
    member_with_credential(partner, developer)
    _, credential = member_with_credential(partner, developer)
    status.partner_status_recompute(partner=partner)
    assert record(partner).state == "verified"

    with django_capture_on_commit_callbacks(execute=True):
        cert_services.credential_revoke(credential=credential, by=staff_user, reason="Cheating")

    rec = record(partner)
    assert (rec.state, rec.verified, rec.at_risk_until, rec.reason) == (
        "not_verified",
        False,
        None,
        "revoked",
    )


def test_expiry_through_the_daily_certificates_job_starts_the_grace(
    company, developer, django_capture_on_commit_callbacks
):
    partner, _admin = company
    now = timezone.now()
    member_with_credential(partner, developer)
    _, credential = member_with_credential(
        partner, developer, issued_at=now - timedelta(days=700), expires_at=now - timedelta(hours=1)
    )
    # Recorded before it lapsed: verified.
    status.partner_status_recompute(partner=partner, now=now - timedelta(days=1))
    assert record(partner).state == "verified"
    assert record(partner).lapses_on == credential.expires_at

    with django_capture_on_commit_callbacks(execute=True):
        assert cert_services.credentials_expire(now=now) == 1
    rec = record(partner)
    assert rec.state == "at_risk"
    assert rec.at_risk_until == credential.expires_at + timedelta(days=60)


def test_daily_job_is_idempotent(company, developer, django_capture_on_commit_callbacks):
    partner, _admin = company
    member_with_credential(partner, developer)
    member_with_credential(partner, developer)
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute_all_partner_statuses() == 1  # first computation: new record
    first = record(partner)
    mails = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert recompute_all_partner_statuses() == 0
        assert recompute_all_partner_statuses() == 0
    assert TrackStatusChange.objects.filter(partner=partner).count() == 1
    assert TrackStatusRecord.objects.filter(partner=partner).count() == 1
    assert record(partner).computed_at == first.computed_at
    assert len(mail.outbox) == mails


def test_the_queued_mail_job_mails_each_partners_admins_once(
    company, developer, django_capture_on_commit_callbacks
):
    partner, admin = company
    second_admin = MembershipFactory(partner=partner, role="admin").person
    quiet = PartnerFactory(name="No Admins Ltd")
    PartnerTrackFactory(partner=quiet, track="technology")
    TechnicalVerificationFactory(partner=quiet, track="technology")
    for p in (partner, quiet):
        member_with_credential(p, developer)
        member_with_credential(p, developer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        status.partner_statuses_recompute()
    # one job for the chunk (recorded in the outbox, queued on commit), however
    # many partners, and one callback dropping the changed partners' badges
    assert len(callbacks) == 2
    assert [m.to for m in mail.outbox] == [sorted([admin.email, second_admin.email])]
    assert mail.outbox[0].subject == "Northwind Payments: partner track status changed"
    assert "Technology: (new) -> verified" in mail.outbox[0].body

    change = TrackStatusChange.objects.get(partner=partner)
    assert change.emailed_at is not None
    untold = TrackStatusChange.objects.get(partner=quiet)  # nobody to tell
    assert untold.emailed_at is None
    # A job run again (a retry, a restarted worker) mails nobody twice.
    assert status.track_status_changes_mail(change_ids=[change.pk, untold.pk]) == 0
    assert len(mail.outbox) == 1


def test_a_first_computation_that_is_not_verified_mails_nobody(
    company, django_capture_on_commit_callbacks
):
    partner, _admin = company
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert status.partner_status_recompute(partner=partner).changes == 1
    assert callbacks == [] and mail.outbox == []
    assert TrackStatusChange.objects.get(partner=partner).emailed_at is None


def test_history_keeps_every_change_in_order(company, developer, staff_user):
    partner, _admin = company
    now = timezone.now()
    _, c1 = member_with_credential(partner, developer)
    _, c2 = member_with_credential(partner, developer)
    status.partner_status_recompute(partner=partner, now=now)
    Credential.objects.filter(pk=c2.pk).update(
        status="revoked", revoked_at=now + timedelta(days=1), revocation_reason="x"
    )
    status.partner_status_recompute(partner=partner, now=now + timedelta(days=2))
    history = list(
        TrackStatusChange.objects.filter(partner=partner)
        .order_by("at")
        .values_list("from_state", "to_state", "reason")
    )
    assert history == [("", "verified", "verified"), ("verified", "not_verified", "revoked")]


def test_verification_recorded_recomputes(
    company, developer, staff_user, django_capture_on_commit_callbacks
):
    partner, _admin = company
    PartnerTrackFactory(partner=partner, track="services")
    member_with_credential(partner, developer)
    member_with_credential(partner, developer)
    status.partner_status_recompute(partner=partner)
    assert record(partner, "services").technical_verification == "missing"

    with django_capture_on_commit_callbacks(execute=True):
        status.technical_verification_record(
            partner=partner,
            track="services",
            status="passed",
            decided_on=timezone.localdate(),
            reviewer=staff_user,
        )
    assert record(partner, "services").state == "verified"

    # A later failed verification replaces it (history kept).
    with django_capture_on_commit_callbacks(execute=True):
        status.technical_verification_record(
            partner=partner,
            track="services",
            status="failed",
            decided_on=timezone.localdate(),
            reviewer=staff_user,
            notes="Webhooks not idempotent",
        )
    rec = record(partner, "services")
    assert (rec.state, rec.technical_verification) == ("not_verified", "failed")
    assert partner.technical_verifications.filter(track="services").count() == 2


def test_expired_verification_is_not_verified(company, developer):
    partner, _admin = company
    member_with_credential(partner, developer)
    member_with_credential(partner, developer)
    TechnicalVerificationFactory(
        partner=partner,
        track="technology",
        decided_on=timezone.localdate(),
        expires_at=timezone.now() + timedelta(days=10),
    )
    status.partner_status_recompute(partner=partner)
    assert record(partner).state == "verified"
    status.partner_status_recompute(partner=partner, now=timezone.now() + timedelta(days=11))
    assert record(partner).technical_verification == "expired"
    assert record(partner).state == "not_verified"


def test_per_track_rule_settings_apply(company, developer, architect):
    partner, _admin = company
    member_with_credential(partner, developer)
    member_with_credential(partner, architect)
    TrackRuleSetting.objects.filter(track="technology").update(
        required=3, counting_certifications=["developer"]
    )
    status.partner_status_recompute(partner=partner)
    rec = record(partner)
    assert (rec.certified_individuals, rec.required, rec.state) == (1, 3, "not_verified")


def test_one_person_with_both_certifications_counts_once(company, developer, architect):
    partner, _admin = company
    person, _ = member_with_credential(partner, developer)
    CredentialFactory(person=person, certification=architect)
    status.partner_status_recompute(partner=partner)
    assert record(partner).certified_individuals == 1


def test_former_partner_not_recomputed_by_a_former_members_credential(
    company, developer, django_capture_on_commit_callbacks
):
    partner, _admin = company
    other = PartnerFactory()
    PartnerTrackFactory(partner=other, track="technology")
    person = UserFactory()
    MembershipFactory(partner=other, person=person)
    with django_capture_on_commit_callbacks(execute=True):
        CredentialFactory(person=person, certification=developer)
        from certificates.signals import credential_changed

        credential_changed.send(
            sender=Credential, credential=person.credentials.get(), change="issued"
        )
    assert record(other).certified_individuals == 1
    assert not TrackStatusRecord.objects.filter(partner=partner).exists()


def test_apps_milestones(developer, staff_user, django_capture_on_commit_callbacks):
    partner = PartnerFactory()
    PartnerTrackFactory(partner=partner, track="apps")
    admin = MembershipFactory(partner=partner, role="admin").person
    status.partner_status_recompute(partner=partner)
    assert record(partner, "apps").milestone == ""
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        status.app_milestone_figures_record(
            partner=partner,
            installs=100,
            payment_volume_usd="0",
            app_review_passed=True,
            recorded_on=timezone.localdate() - timedelta(days=1),
            recorded_by=staff_user,
        )
    assert record(partner, "apps").milestone == "build"
    with django_capture_on_commit_callbacks(execute=True):
        status.app_milestone_figures_record(
            partner=partner,
            installs=2_001,
            payment_volume_usd="0",
            app_review_passed=True,
            recorded_on=timezone.localdate(),
            recorded_by=staff_user,
        )
    assert record(partner, "apps").milestone == "growth"
    changes = list(
        TrackStatusChange.objects.filter(partner=partner, track="apps")
        .order_by("at", "pk")
        .values_list("from_milestone", "to_milestone")
    )
    assert changes[-2:] == [("", "build"), ("build", "growth")]
    assert len(mail.outbox) == 2 and mail.outbox[0].to == [admin.email]


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"installs": -1}, "invalid_figures"),
        ({"payment_volume_usd": "-0.01"}, "invalid_figures"),
        ({"payment_volume_usd": "NaN"}, "invalid_figures"),
        ({"payment_volume_usd": "lots"}, "invalid_figures"),
        ({"installs": "12.5"}, "invalid_figures"),
        ({"recorded_on": "2024-01-01"}, "invalid_date"),
    ],
)
def test_bad_figures_are_refused_and_nothing_is_stored(kwargs, code):
    partner = PartnerFactory()
    args = {
        "partner": partner,
        "installs": 1,
        "payment_volume_usd": "1",
        "app_review_passed": True,
        "recorded_on": timezone.localdate(),
    } | kwargs
    with pytest.raises(status.InvalidInput) as error:
        status.app_milestone_figures_record(**args)
    assert (error.value.code, error.value.status) == (code, 422)
    assert not partner.app_figures.exists()


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"track": "gaming"}, "invalid_track"),
        ({"status": "pending"}, "invalid_verification_status"),
        ({"decided_on": "yesterday"}, "invalid_date"),
        ({"expires_at": "soon"}, "invalid_date"),
    ],
)
def test_bad_verifications_are_refused(kwargs, code):
    partner = PartnerFactory()
    args = {
        "partner": partner,
        "track": "technology",
        "status": "passed",
        "decided_on": timezone.localdate(),
    } | kwargs
    with pytest.raises(status.InvalidInput) as error:
        status.technical_verification_record(**args)
    assert error.value.code == code
    assert not partner.technical_verifications.exists()


def test_recompute_queries_do_not_grow_with_partners(developer, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            p = PartnerFactory()
            PartnerTrackFactory(partner=p, track="technology")
            PartnerTrackFactory(partner=p, track="apps")
            TechnicalVerificationFactory(partner=p, track="technology")
            AppMilestoneFigureFactory(partner=p)
            member_with_credential(p, developer)
            member_with_credential(p, developer)

    make(2)
    # 16: the chunk's announcement e-mails are recorded with it (one lms.outbox
    # INSERT), and one query reads the webhook endpoints that hear of the changes.
    with django_assert_max_num_queries(16) as small:
        status.partner_statuses_recompute()
    make(8)
    TrackStatusRecord.objects.all().delete()
    with django_assert_max_num_queries(16) as large:
        status.partner_statuses_recompute()
    assert len(small.captured_queries) == len(large.captured_queries)


def test_joining_a_track_computes_its_status_at_once(django_capture_on_commit_callbacks):
    partner = PartnerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        partner_services.partner_tracks_set(partner=partner, tracks=["services"])
    assert TrackStatusRecord.objects.filter(partner=partner, track="services").exists()

    # Setting the same tracks again changes nothing and recomputes nothing.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        partner_services.partner_tracks_set(partner=partner, tracks=["services"])
    assert callbacks == []
