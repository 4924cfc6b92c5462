"""Certifications, passed attempts and credentials for tests."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from certificates.models import Certification, Credential
from exams.models import Attempt, AttemptStatus, Submission, SubmissionStatus
from tests.exams.factories import ExamFactory
from tests.exams.project_factories import ProjectBriefFactory
from tests.lms.factories import UserFactory


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    slug = factory.Sequence(lambda n: f"cert-{n}")
    name = factory.Sequence(lambda n: f"Certified Thing {n}")
    exam = factory.SubFactory(ExamFactory)
    project_brief = factory.SubFactory(ProjectBriefFactory)


def finished_attempt(*, person, exam, at=None, passed=True) -> Attempt:
    """An unsaved finished, scored attempt (save it, or bulk_create many)."""
    at = at or timezone.now()
    return Attempt(
        person=person,
        exam=exam,
        status=AttemptStatus.SUBMITTED,
        seed=1,
        started_at=at - timedelta(minutes=30),
        deadline=at + timedelta(minutes=60),
        submitted_at=at,
        pass_mark_percent=Decimal(80),
        score_correct=9 if passed else 2,
        score_total=10,
        score_percent=Decimal(90) if passed else Decimal(20),
        passed=passed,
    )


def passed_attempt(*, person, exam, at=None, passed=True) -> Attempt:
    """A finished, scored attempt (the exams services are tested in tests/exams)."""
    attempt = finished_attempt(person=person, exam=exam, at=at, passed=passed)
    attempt.save(force_insert=True)
    return attempt


def passed_submission(*, person, brief, at=None, passed=True) -> Submission:
    """A decided project submission (the grading workflow is tested in tests/exams)."""
    at = at or timezone.now()
    return Submission.objects.create(
        person=person,
        brief=brief,
        status=SubmissionStatus.PASSED if passed else SubmissionStatus.FAILED,
        created_at=at - timedelta(days=2),
        decided_at=at,
        score=Decimal(12) if passed else Decimal(2),
    )


def meet_requirements(*, person, certification, at=None):
    """Pass the certification's exam and project: (attempt, submission)."""
    return (
        passed_attempt(person=person, exam=certification.exam, at=at),
        passed_submission(person=person, brief=certification.project_brief, at=at),
    )


class CredentialFactory(factory.django.DjangoModelFactory):
    """A credential made directly (not through the services), for pages and APIs."""

    class Meta:
        model = Credential

    person = factory.SubFactory(UserFactory)
    certification = factory.SubFactory(CertificationFactory)
    holder_name = factory.LazyAttribute(lambda o: o.person.legal_name)
    issued_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    expires_at = factory.LazyAttribute(lambda o: o.issued_at + timedelta(days=730))
