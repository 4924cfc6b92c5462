from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from certificates import rules, selectors, services, signals
from certificates.models import (
    Credential,
    CredentialEvent,
    CredentialStatus,
    EventKind,
    ExpiryReminder,
)
from courses.models import Enrolment
from exams.models import Attempt, Submission
from exams.signals import attempt_passed, submission_passed
from lms.errors import DomainError
from tests.certificates.factories import (
    CertificationFactory,
    CredentialFactory,
    meet_requirements,
    passed_attempt,
    passed_submission,
)
from tests.exams.factories import ExamFactory
from tests.lms.factories import UserFactory


@pytest.fixture
def changes():
    seen = []

    def receiver(sender, credential, change, **kwargs):
        seen.append((credential.pk, change))

    signals.credential_changed.connect(receiver, dispatch_uid="test-changes")
    yield seen
    signals.credential_changed.disconnect(dispatch_uid="test-changes")


def issue(learner, certification):
    return services.credential_issue_if_eligible(person=learner, certification=certification)


# --- issuance -------------------------------------------------------------------------


def test_nothing_is_issued_without_a_passed_exam(learner, certification, no_render):
    passed_attempt(person=learner, exam=certification.exam, passed=False)
    assert issue(learner, certification) == (None, False)
    assert not Credential.objects.exists()


def test_issue_snapshots_name_dates_evidence_and_history(
    learner, certification, no_render, changes, django_capture_on_commit_callbacks
):
    attempt, submission = meet_requirements(person=learner, certification=certification)
    with django_capture_on_commit_callbacks(execute=True):
        credential, issued = issue(learner, certification)
    assert issued
    assert credential.holder_name == "Ada Lovelace"
    assert credential.exam_attempt == attempt
    assert credential.submission == submission
    assert credential.status == CredentialStatus.ACTIVE
    assert credential.expires_at == rules.add_months(credential.issued_at, 24)
    assert len(credential.public_id) >= 22  # >= 128 bits
    assert list(credential.events.values_list("kind", flat=True)) == [EventKind.ISSUED]
    assert no_render == [credential.pk]
    assert changes == [(credential.pk, "issued")]
    learner.legal_name = "Ada King"
    learner.save()
    credential.refresh_from_db()
    assert credential.holder_name == "Ada Lovelace"


def test_second_trigger_returns_the_same_credential(learner, certification, no_render):
    meet_requirements(person=learner, certification=certification)
    first, issued = issue(learner, certification)
    second, issued_again = issue(learner, certification)
    assert issued and not issued_again
    assert first.pk == second.pk
    assert Credential.objects.count() == 1
    assert CredentialEvent.objects.count() == 1


def test_database_refuses_a_second_active_credential(learner, certification):
    CredentialFactory(person=learner, certification=certification)
    with pytest.raises(IntegrityError), transaction.atomic():
        CredentialFactory(person=learner, certification=certification)


def test_lost_race_at_the_insert_returns_the_winner(learner, certification, no_render, monkeypatch):
    """Every caller passes the Python check; the constraint alone decides."""
    meet_requirements(person=learner, certification=certification)
    winner = CredentialFactory(person=learner, certification=certification)
    monkeypatch.setattr(
        selectors,
        "credential_active_for",
        _blind_once(selectors.credential_active_for),
    )
    credential, issued = issue(learner, certification)
    assert (credential.pk, issued) == (winner.pk, False)
    assert Credential.objects.count() == 1


def _blind_once(real):
    state = {"calls": 0}

    def blind(**kwargs):
        state["calls"] += 1
        return None if state["calls"] == 1 else real(**kwargs)

    return blind


def test_exam_then_project_issues_on_the_project(learner, certification, no_render):
    attempt = passed_attempt(person=learner, exam=certification.exam)
    attempt_passed.send(sender=Attempt, attempt=attempt)
    assert not Credential.objects.exists()  # the project is still missing
    submission = passed_submission(person=learner, brief=certification.project_brief)
    submission_passed.send(sender=Submission, submission=submission)
    submission_passed.send(sender=Submission, submission=submission)  # again: still one
    assert Credential.objects.filter(person=learner).count() == 1


def test_project_then_exam_issues_on_the_exam(learner, certification, no_render):
    submission = passed_submission(person=learner, brief=certification.project_brief)
    submission_passed.send(sender=Submission, submission=submission)
    assert not Credential.objects.exists()
    attempt = passed_attempt(person=learner, exam=certification.exam)
    attempt_passed.send(sender=Attempt, attempt=attempt)
    attempt_passed.send(sender=Attempt, attempt=attempt)
    assert Credential.objects.get().submission == submission


def test_a_failed_project_does_not_count(learner, certification, no_render):
    passed_attempt(person=learner, exam=certification.exam)
    passed_submission(person=learner, brief=certification.project_brief, passed=False)
    assert issue(learner, certification) == (None, False)


def test_no_brief_chosen_issues_nothing(learner, no_render):
    certification = CertificationFactory(project_brief=None)
    passed_attempt(person=learner, exam=certification.exam)
    assert issue(learner, certification) == (None, False)


def test_prerequisite_courses_are_required(learner, certification, no_render, db):
    from wagtail.models import Page

    from courses.models import CourseIndexPage
    from tests.courses.factories import CoursePageFactory

    if not CourseIndexPage.objects.exists():
        Page.objects.get(depth=1).add_child(
            instance=CourseIndexPage(title="Courses", slug="courses-index")
        )
    course = CoursePageFactory()
    certification.prerequisite_courses.add(course)
    meet_requirements(person=learner, certification=certification)
    assert issue(learner, certification) == (None, False)
    evidence = selectors.evidence_for(person=learner, certification=certification, after=None)
    assert evidence.missing_courses == (course.title,)
    now = timezone.now()
    Enrolment.objects.create(
        person=learner, course=course, enrolled_at=now, completed_at=now, last_activity_at=now
    )
    credential, issued = issue(learner, certification)
    assert issued


def test_after_expiry_old_evidence_does_not_count(learner, certification, no_render):
    long_ago = timezone.now() - timedelta(days=800)
    meet_requirements(person=learner, certification=certification, at=long_ago)
    CredentialFactory(
        person=learner,
        certification=certification,
        issued_at=long_ago,
        expires_at=long_ago + timedelta(days=730),
    )
    # The active-but-lapsed credential is expired first; the old pass is spent.
    assert issue(learner, certification) == (None, False)
    assert Credential.objects.get().status == CredentialStatus.EXPIRED
    passed_attempt(person=learner, exam=certification.exam)
    assert issue(learner, certification) == (None, False)  # the old project is spent too
    passed_submission(person=learner, brief=certification.project_brief)
    credential, issued = issue(learner, certification)
    assert issued and Credential.objects.count() == 2


# --- the exams app's already_certified check --------------------------------------------


def test_holder_is_already_certified_except_in_the_renewal_window(learner, certification):
    exam = certification.exam
    assert not selectors.holds_current_certification_for_exam(person=learner, exam=exam)
    selectors.forget_held(learner)
    credential = CredentialFactory(person=learner, certification=certification)
    assert selectors.holds_current_certification_for_exam(person=learner, exam=exam)
    credential.expires_at = timezone.now() + timedelta(days=100)
    credential.save()
    selectors.forget_held(learner)
    assert not selectors.holds_current_certification_for_exam(person=learner, exam=exam)


def test_the_check_costs_one_query_for_any_number_of_exams(
    learner, certification, django_assert_num_queries
):
    CredentialFactory(person=learner, certification=certification)
    exams = [certification.exam, *(ExamFactory() for _ in range(5))]
    with django_assert_num_queries(1):
        answers = [
            selectors.holds_current_certification_for_exam(person=learner, exam=exam)
            for exam in exams
        ]
    assert answers == [True] + [False] * 5


def test_exams_setting_points_at_the_check(learner, certification):
    from exams.selectors import is_certified

    CredentialFactory(person=learner, certification=certification)
    assert is_certified(person=learner, exam=certification.exam)


# --- renewal ------------------------------------------------------------------------------


def test_renewal_in_window_extends_from_current_expiry(learner, certification, no_render, changes):
    renewal_exam = ExamFactory()
    certification.renewal_exam = renewal_exam
    certification.save()
    expires = timezone.now() + timedelta(days=30)
    credential = CredentialFactory(person=learner, certification=certification, expires_at=expires)
    attempt = passed_attempt(person=learner, exam=renewal_exam)
    attempt_passed.send(sender=Attempt, attempt=attempt)
    credential.refresh_from_db()
    assert credential.expires_at == rules.add_months(expires, 24)
    event = credential.events.get(kind=EventKind.RENEWED)
    assert event.attempt == attempt
    assert Credential.objects.count() == 1
    # The same attempt again changes nothing.
    again = services.credential_renew(credential=credential, attempt=attempt)
    assert again.expires_at == credential.expires_at


def test_renewal_outside_window_is_refused(learner, certification):
    credential = CredentialFactory(person=learner, certification=certification)
    attempt = passed_attempt(person=learner, exam=certification.exam)
    with pytest.raises(services.RenewalNotOpen):
        services.credential_renew(credential=credential, attempt=attempt)


def test_renewal_with_someone_elses_attempt_is_refused(learner, certification):
    credential = CredentialFactory(
        person=learner,
        certification=certification,
        expires_at=timezone.now() + timedelta(days=10),
    )
    attempt = passed_attempt(person=UserFactory(), exam=certification.exam)
    with pytest.raises(services.RenewalAttemptInvalid):
        services.credential_renew(credential=credential, attempt=attempt)


# --- revocation ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_revoke_needs_a_reason(learner, certification, reason):
    credential = CredentialFactory(person=learner, certification=certification)
    staff = UserFactory(is_superuser=True)
    with pytest.raises(DomainError) as caught:
        services.credential_revoke(credential=credential, by=staff, reason=reason)
    assert caught.value.code == "reason_required" and caught.value.status == 422
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.ACTIVE


def test_revoke_keeps_the_record(
    learner, certification, changes, django_capture_on_commit_callbacks
):
    credential = CredentialFactory(person=learner, certification=certification)
    staff = UserFactory(is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.credential_revoke(credential=credential, by=staff, reason=" Exam fraud ")
    credential.refresh_from_db()
    assert credential.status == CredentialStatus.REVOKED
    assert credential.revocation_reason == "Exam fraud"
    assert credential.revoked_by == staff and credential.revoked_at
    assert changes == [(credential.pk, "revoked")]
    with pytest.raises(services.AlreadyRevoked):
        services.credential_revoke(credential=credential, by=staff, reason="again")


# --- expiry and reminders ----------------------------------------------------------------------


def test_expire_marks_lapsed_ones_once(
    learner, certification, changes, django_capture_on_commit_callbacks
):
    now = timezone.now()
    lapsed = CredentialFactory(
        person=learner,
        certification=certification,
        issued_at=now - timedelta(days=800),
        expires_at=now - timedelta(days=1),
    )
    current = CredentialFactory(certification=certification)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.credentials_expire(now=now) == 1
        assert services.credentials_expire(now=now) == 0
    lapsed.refresh_from_db()
    current.refresh_from_db()
    assert lapsed.status == CredentialStatus.EXPIRED
    assert current.status == CredentialStatus.ACTIVE
    assert lapsed.events.filter(kind=EventKind.EXPIRED).count() == 1
    assert changes == [(lapsed.pk, "expired")]


def test_reminders_are_sent_once_per_kind(learner, certification):
    now = timezone.now()
    credential = CredentialFactory(
        person=learner, certification=certification, expires_at=now + timedelta(days=85)
    )
    assert services.expiry_reminders_send(now=now) == 1
    assert services.expiry_reminders_send(now=now) == 0  # the job ran twice
    assert services.expiry_reminders_send(now=now + timedelta(days=10)) == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [learner.email]
    assert "90 days" in mail.outbox[0].subject
    assert services.expiry_reminders_send(now=now + timedelta(days=56)) == 1  # 29 days left
    assert "30 days" in mail.outbox[1].subject
    assert services.expiry_reminders_send(now=now + timedelta(days=80)) == 1  # 5 days left
    assert "7 days" in mail.outbox[2].subject
    assert services.expiry_reminders_send(now=now + timedelta(days=81)) == 0
    assert set(credential.expiry_reminders.values_list("kind", flat=True)) == {90, 30, 7}


def test_catching_up_after_downtime_sends_only_the_urgent_one(learner, certification):
    now = timezone.now()
    CredentialFactory(
        person=learner, certification=certification, expires_at=now + timedelta(days=20)
    )
    assert services.expiry_reminders_send(now=now) == 1
    assert len(mail.outbox) == 1 and "30 days" in mail.outbox[0].subject
    assert ExpiryReminder.objects.filter(kind=90).exists()  # covered, never sent late
    assert services.expiry_reminders_send(now=now + timedelta(hours=1)) == 0


def test_reminder_signal_for_partner_admin_copies(learner, certification):
    seen = []

    def receiver(sender, credential, days, **kwargs):
        seen.append((credential.pk, days))

    signals.expiry_reminder_sent.connect(receiver, dispatch_uid="test-reminder")
    try:
        now = timezone.now()
        credential = CredentialFactory(
            person=learner, certification=certification, expires_at=now + timedelta(days=6)
        )
        services.expiry_reminders_send(now=now)
    finally:
        signals.expiry_reminder_sent.disconnect(dispatch_uid="test-reminder")
    # Sent inside the reminder's transaction, once.
    assert seen == [(credential.pk, 7)]


def test_renewed_credential_is_reminded_again_before_its_new_expiry(learner, certification):
    now = timezone.now()
    credential = CredentialFactory(
        person=learner, certification=certification, expires_at=now + timedelta(days=5)
    )
    assert services.expiry_reminders_send(now=now) == 1
    Credential.objects.filter(pk=credential.pk).update(expires_at=now + timedelta(days=735))
    assert services.expiry_reminders_send(now=now + timedelta(days=730)) == 1


def test_a_failing_mail_leaves_the_reminder_unsent(learner, certification, monkeypatch):
    now = timezone.now()
    CredentialFactory(
        person=learner, certification=certification, expires_at=now + timedelta(days=6)
    )

    def boom(**kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(services, "_send_reminder", boom)
    assert services.expiry_reminders_send(now=now) == 0
    assert not ExpiryReminder.objects.exists()
    monkeypatch.undo()
    assert services.expiry_reminders_send(now=now) == 1
