"""Agreements, applications, invitations and member records for the portal tests."""

from datetime import timedelta

import factory
from django.utils import timezone

from partners import applications, invitations
from partners.models import PartnerAgreement
from tests.certificates.factories import CertificationFactory, CredentialFactory, passed_attempt
from tests.courses.factories import CoursePageFactory
from tests.exams.factories import ExamFactory
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerAdminFactory, PartnerFactory


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerAgreement

    version = factory.Sequence(lambda n: f"2.{n}")
    text = "Be excellent to each other."
    effective_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


def submit_application(*, applicant=None, tracks=("technology",), **kwargs):
    applicant = applicant or UserFactory()
    agreement = applications.agreement_current()
    defaults = {
        "name": "Acme Payments",
        "website": "https://acme.example.com",
        "country": "DE",
        "agreement_version": agreement.version,
        "restricted_business_attested": True,
        "embedded_payments_attested": "embedded_payments" in tracks,
    }
    defaults.update(kwargs)
    return applications.application_submit(applicant=applicant, tracks=list(tracks), **defaults)


def partner_with_admin(**partner_kwargs):
    partner = PartnerFactory(**partner_kwargs)
    admin = PartnerAdminFactory(partner=partner).person
    return partner, admin


def invite(*, partner, admin, email="new.person@example.com", role="employee", now=None):
    return invitations.invitation_create(
        partner=partner, email=email, role=role, created_by=admin, now=now
    )


def populate_members(partner, count: int, *, course=None, exam=None, certification=None):
    """`count` employees, each with a completed course, two attempts and a credential."""
    course = course or CoursePageFactory()
    exam = exam or ExamFactory()
    certification = certification or CertificationFactory(exam=exam)
    people = []
    for i in range(count):
        person = MembershipFactory(partner=partner).person
        course.enrolments.create(
            person=person,
            enrolled_at=timezone.now() - timedelta(days=5),
            completed_at=timezone.now() - timedelta(days=1),
            last_activity_at=timezone.now(),
        )
        passed_attempt(
            person=person, exam=exam, at=timezone.now() - timedelta(days=3), passed=False
        )
        passed_attempt(person=person, exam=exam, at=timezone.now() - timedelta(days=2))
        kwargs = {"person": person, "certification": certification}
        if i % 3 == 2:
            kwargs["issued_at"] = timezone.now() - timedelta(days=800)
        CredentialFactory(**kwargs)
        people.append(person)
    return people, course, exam
