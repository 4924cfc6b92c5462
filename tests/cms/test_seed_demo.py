import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from certificates.models import Credential
from courses.models import CoursePage, Event, EventRegistration, LessonPage
from exams.models import Exam, Question, Submission
from partners.models import Membership, Partner, TechnicalVerification

pytestmark = pytest.mark.django_db


def snapshot():
    User = get_user_model()
    return (
        sorted(User.objects.values_list("email", "password", "legal_name")),
        sorted(Partner.objects.values_list("slug", "status")),
        sorted(Membership.objects.values_list("person__email", "partner__slug", "role")),
        sorted(LessonPage.objects.values_list("url_path", "live")),
        sorted(Event.objects.values_list("title", "capacity")),
        sorted(EventRegistration.objects.values_list("event__title", "person__email", "status")),
        sorted(Exam.objects.values_list("slug", "is_published")),
        TechnicalVerification.objects.count(),
        Question.objects.count(),
        sorted(Submission.objects.values_list("person__email", "brief__slug", "status")),
        sorted(
            Credential.objects.values_list(
                "person__email", "certification__slug", "issued_at", "expires_at", "revoked_at"
            )
        ),
    )


def test_seed_demo_creates_the_documented_accounts_and_is_idempotent():
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first

    User = get_user_model()
    staff = User.objects.get(email="staff@academy.example")
    assert staff.groups.filter(name="Programme staff").exists()
    assert staff.check_password("academy-demo-2026")
    assert (
        User.objects.get(email="instructor@academy.example")
        .groups.filter(name="Instructors")
        .exists()
    )
    northwind = Partner.objects.get(slug="northwind")
    current = Membership.objects.filter(partner=northwind, ended__isnull=True)
    assert current.filter(role="admin").count() == 1
    assert current.filter(role="employee").count() >= 3
    assert Partner.objects.count() == 2

    titles = set(CoursePage.objects.live().values_list("title", flat=True))
    assert "Business Foundations" in titles
    assert CoursePage.objects.filter(kind="technical").count() >= 4
    assert LessonPage.objects.live().count() >= 14
    events = list(Event.objects.all())
    assert len(events) == 2
    assert any(e.registrations.filter(status="waitlisted").exists() for e in events)
    # Northwind: two currently certified people, one expiring within 30 days, one revoked.
    from datetime import timedelta

    from django.utils import timezone

    northwind_credentials = Credential.objects.filter(person__email__endswith="@northwind.example")
    active = northwind_credentials.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    assert active.count() == 2
    assert active.filter(expires_at__lt=timezone.now() + timedelta(days=30)).count() == 1
    assert northwind_credentials.filter(revoked_at__isnull=False).count() == 1
    assert Submission.objects.filter(status="submitted").count() >= 2  # the review queue

    # ... and passed the technology verification, so the rule can be seen at work.
    from partners.models import TrackStatusRecord

    record = TrackStatusRecord.objects.get(partner=northwind, track="technology")
    assert record.verified

    assert set(Exam.objects.filter(is_published=True).values_list("title", flat=True)) >= {
        "Developer certification exam",
        "Architect certification exam",
    }


def test_seed_demo_refuses_production_settings_without_force(settings):
    settings.ENVIRONMENT = "production"
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert get_user_model().objects.count() == 0
    call_command("seed_demo", "--force")
    assert get_user_model().objects.count() > 0
