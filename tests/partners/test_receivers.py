"""Partner admins get a copy of their people's expiry reminders, once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from certificates import services
from tests.certificates.factories import CertificationFactory, CredentialFactory
from tests.lms.factories import UserFactory

from .factories import MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    partner = PartnerFactory(name="Northwind Payments")
    admin = MembershipFactory(partner=partner, role="admin", person=UserFactory()).person
    return partner, admin


def test_partner_admin_gets_a_copy_of_a_members_reminder_once(
    company, django_capture_on_commit_callbacks
):
    partner, admin = company
    holder = UserFactory(legal_name="Grace Hopper")
    MembershipFactory(partner=partner, person=holder)
    now = timezone.now()
    CredentialFactory(
        person=holder,
        certification=CertificationFactory(slug="developer", name="Developer"),
        holder_name="Grace Hopper",
        expires_at=now + timedelta(days=25),
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.expiry_reminders_send(now=now) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.expiry_reminders_send(now=now) == 0  # the job ran twice

    assert [m.to for m in mail.outbox] == [[holder.email], [admin.email]]
    copy = mail.outbox[1]
    # Same wording as the holder's reminder (its kind: 90/30/7 days).
    assert copy.subject == "Grace Hopper's Developer certification expires in 30 days"
    assert "Northwind Payments" in copy.body


def test_no_copy_for_an_independent_learner_or_a_former_member(
    company, django_capture_on_commit_callbacks
):
    partner, _admin = company
    former = UserFactory()
    membership = MembershipFactory(partner=partner, person=former)
    from partners.membership.services import membership_end

    membership_end(membership=membership)
    independent = UserFactory()
    now = timezone.now()
    certification = CertificationFactory(slug="developer", name="Developer")
    for person in (former, independent):
        CredentialFactory(
            person=person, certification=certification, expires_at=now + timedelta(days=5)
        )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.expiry_reminders_send(now=now) == 2

    assert sorted(m.to[0] for m in mail.outbox) == sorted([former.email, independent.email])


def test_an_admin_holder_is_not_sent_a_second_copy(company, django_capture_on_commit_callbacks):
    _partner, admin = company
    now = timezone.now()
    CredentialFactory(
        person=admin,
        certification=CertificationFactory(slug="developer", name="Developer"),
        expires_at=now + timedelta(days=80),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.expiry_reminders_send(now=now)
    assert [m.to for m in mail.outbox] == [[admin.email]]
