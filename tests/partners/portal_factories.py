"""Agreements, applications, invitations and member records for the portal tests."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from certificates.models import Credential
from courses.models import Enrolment
from exams.models import Attempt
from partners.applications import services as applications
from partners.invitations import services as invitations
from partners.models import Membership, PartnerAgreement
from tests.certificates.factories import (
    CertificationFactory,
    CredentialFactory,
    finished_attempt,
    passed_attempt,
)
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


def bulk_members(
    partner,
    count: int,
    *,
    course=None,
    exam=None,
    certification=None,
    expires_in_days: int | None = None,
):
    """Like `populate_members`, with bulk_create (a handful of queries for hundreds).

    Each of the `count` employees has a completed course, two finished attempts
    (failed, then passed) and a credential: every third one expired, or, with
    `expires_in_days`, all active and expiring that many days from now.
    Returns (people, course, exam).
    """
    now = timezone.now()
    course = course or CoursePageFactory()
    exam = exam or ExamFactory()
    certification = certification or CertificationFactory(exam=exam)
    people = get_user_model().objects.bulk_create(UserFactory.build_batch(count))
    Membership.objects.bulk_create(
        Membership(
            person=p,
            partner=partner,
            role=Membership.Role.EMPLOYEE,
            started=now - timedelta(days=30),
        )
        for p in people
    )
    Enrolment.objects.bulk_create(
        Enrolment(
            person=p,
            course=course,
            enrolled_at=now - timedelta(days=5),
            completed_at=now - timedelta(days=1),
            last_activity_at=now,
        )
        for p in people
    )
    Attempt.objects.bulk_create(
        finished_attempt(person=p, exam=exam, at=now - timedelta(days=days), passed=passed)
        for p in people
        for days, passed in ((3, False), (2, True))
    )
    credentials = []
    for i, p in enumerate(people):
        if expires_in_days is not None:
            issued, expires = now - timedelta(days=10), now + timedelta(days=expires_in_days)
        else:
            issued = now - timedelta(days=800 if i % 3 == 2 else 10)
            expires = issued + timedelta(days=730)
        credentials.append(
            Credential(
                person=p,
                certification=certification,
                holder_name=p.legal_name,
                issued_at=issued,
                expires_at=expires,
            )
        )
    Credential.objects.bulk_create(credentials)
    return people, course, exam
