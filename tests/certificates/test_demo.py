from datetime import timedelta

from django.utils import timezone

from certificates.demo import seed_certifications, seed_demo_credential
from certificates.models import Certification, CredentialStatus
from exams.demo import seed_exams, seed_projects


def test_seed_certifications_is_idempotent_and_tied_to_demo_exams(learner):
    seed_exams()
    seed_projects()
    first = seed_certifications()
    second = seed_certifications()
    assert [c.pk for c in first] == [c.pk for c in second]
    assert Certification.objects.count() == 2
    developer = Certification.objects.get(slug="developer")
    assert developer.exam.slug == "developer-certification"
    assert developer.project_brief is not None
    assert developer.validity_months == 24 and developer.renewal_window_days == 180

    now = timezone.now()
    active = seed_demo_credential(
        person=learner, certification=developer, issued_at=now - timedelta(days=715)
    )
    assert active.expires_at - now < timedelta(days=30)
    architect = Certification.objects.get(slug="architect")
    revoked = seed_demo_credential(
        person=learner,
        certification=architect,
        issued_at=now - timedelta(days=100),
        revoked_reason="Demo: shared exam content",
    )
    assert revoked.status == CredentialStatus.REVOKED
    again = seed_demo_credential(
        person=learner, certification=architect, issued_at=now, revoked_reason="x"
    )
    assert again.pk == revoked.pk


def test_each_demo_certification_names_a_shorter_renewal_exam(db):
    from certificates import demo as certificate_demo
    from exams import demo as exam_demo

    exam_demo.seed_exams()
    exam_demo.seed_projects()
    for certification in certificate_demo.seed_certifications():
        renewal = certification.renewal_exam
        assert renewal is not None and renewal.is_published
        assert renewal.pk != certification.exam_id
        assert renewal.time_limit_minutes < certification.exam.time_limit_minutes
