"""The exam, project and certification steps of a learning path: every live state."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses import selectors as course_selectors
from exams.models import Attempt, AttemptStatus, Review, Submission, SubmissionStatus
from lms.tokens import token_create
from tests.courses.factories import course_with_lessons, path_with
from tests.lms.factories import UserFactory

from .factories import CertificationFactory, CredentialFactory, passed_attempt, passed_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer(db):
    cert = CertificationFactory(slug="developer", name="Developer")
    cert.exam.is_published = True
    cert.exam.save()
    return cert


def _steps(user, now=None):
    path = course_selectors.learning_path_for(user=user, slug="developer")
    return {step.kind: step for step in path.steps if step.kind != "course"}


def _submission(person, brief, status):
    decided = status not in (SubmissionStatus.SUBMITTED, SubmissionStatus.IN_REVIEW)
    return Submission.objects.create(
        person=person,
        brief=brief,
        status=status,
        created_at=timezone.now(),
        decided_at=timezone.now() if decided else None,
        score=2 if decided else None,
    )


@pytest.fixture
def grader(db):
    return UserFactory(email="grader@example.com")


def test_a_new_learner_has_every_step_ahead(learner, developer):
    steps = _steps(learner)
    exam, project, cert = steps["exam"], steps["project"], steps["certification"]
    assert (exam.title, exam.state, exam.action) == (
        developer.exam.title,
        "not_started",
        "Start the exam",
    )
    assert exam.url == f"/exams/{developer.exam.slug}/start/"
    assert (project.title, project.state) == (developer.project_brief.title, "not_submitted")
    assert project.url == f"/exams/projects/{developer.project_brief.slug}/"
    assert (cert.state, cert.url) == ("not_issued", "")


def test_an_open_attempt_is_in_progress_with_its_deadline(learner, developer):
    deadline = timezone.now() + timedelta(minutes=42)
    attempt = Attempt.objects.create(
        person=learner,
        exam=developer.exam,
        status=AttemptStatus.IN_PROGRESS,
        seed=1,
        started_at=timezone.now(),
        deadline=deadline,
        pass_mark_percent=80,
    )
    exam = _steps(learner)["exam"]
    assert (exam.state, exam.at, exam.action) == ("in_progress", deadline, "Resume")
    assert exam.url == f"/exams/attempts/{attempt.pk}/"


def test_a_failed_exam_says_when_the_next_attempt_opens(learner, developer):
    failed = passed_attempt(person=learner, exam=developer.exam, passed=False)
    exam = _steps(learner)["exam"]
    assert exam.state == "failed"
    assert exam.available_at == failed.submitted_at + timedelta(hours=24)
    assert exam.url == "/exams/"


def test_a_failed_exam_whose_wait_is_over_offers_a_retake(learner, developer):
    passed_attempt(
        person=learner, exam=developer.exam, passed=False, at=timezone.now() - timedelta(days=2)
    )
    exam = _steps(learner)["exam"]
    assert (exam.state, exam.available_at, exam.action) == ("failed", None, "Try again")
    assert exam.url.endswith("/start/")


def test_a_passed_exam_has_its_date_and_certified_beats_it(learner, developer):
    passed_attempt(person=learner, exam=developer.exam, passed=False)
    passed = passed_attempt(person=learner, exam=developer.exam)
    exam = _steps(learner)["exam"]
    assert (exam.state, exam.at) == ("passed", passed.submitted_at)
    credential = CredentialFactory(person=learner, certification=developer)
    exam = _steps(learner)["exam"]
    assert (exam.state, exam.at) == ("certified", credential.issued_at)


@pytest.mark.parametrize(
    "status", [SubmissionStatus.SUBMITTED, SubmissionStatus.IN_REVIEW, SubmissionStatus.FAILED]
)
def test_project_states_follow_the_latest_submission(learner, developer, status):
    _submission(learner, developer.project_brief, status)
    assert _steps(learner)["project"].state == status


def test_revise_shows_the_graders_comments(learner, developer, grader):
    submission = _submission(learner, developer.project_brief, SubmissionStatus.REVISE)
    Review.objects.create(
        submission=submission,
        grader=grader,
        scores={},
        total=3,
        outcome="revise",
        comment="Add idempotency keys to the retry.",
        created_at=timezone.now(),
    )
    project = _steps(learner)["project"]
    assert (project.state, project.note, project.action) == (
        "revise",
        "Add idempotency keys to the retry.",
        "Revise and resubmit",
    )


def test_a_passed_project_stays_passed_after_a_later_failed_one(learner, developer):
    passed_submission(person=learner, brief=developer.project_brief)
    _submission(learner, developer.project_brief, SubmissionStatus.SUBMITTED)
    assert _steps(learner)["project"].state == "passed"


def test_certification_active_expiring_expired_revoked(learner, developer):
    now = timezone.now()
    credential = CredentialFactory(
        person=learner, certification=developer, expires_at=now + timedelta(days=400)
    )
    cert = _steps(learner)["certification"]
    assert (cert.state, cert.at, cert.url, cert.action) == (
        "active",
        credential.expires_at,
        "/certificates/",
        "",
    )
    credential.expires_at = now + timedelta(days=100)
    credential.save()
    cert = _steps(learner)["certification"]
    assert (cert.state, cert.action) == ("expiring", "Renew")
    credential.expires_at = now - timedelta(days=1)
    credential.save()
    assert _steps(learner)["certification"].state == "expired"
    credential.revoked_at = now - timedelta(days=2)
    credential.status = "revoked"
    credential.save()
    assert _steps(learner)["certification"].state == "revoked"


@pytest.mark.parametrize(
    ("days_left", "state"), [(181, "active"), (180, "expiring"), (179, "expiring")]
)
def test_the_renewal_window_edge(learner, developer, days_left, state):
    now = timezone.now()
    CredentialFactory(
        person=learner,
        certification=developer,
        expires_at=now + timedelta(days=days_left, seconds=-1 if days_left == 180 else 0),
    )
    assert _steps(learner)["certification"].state == state


def test_after_expiry_the_full_path_applies_again(learner, developer):
    old = timezone.now() - timedelta(days=800)
    passed_attempt(person=learner, exam=developer.exam, at=old)
    passed_submission(person=learner, brief=developer.project_brief, at=old)
    CredentialFactory(
        person=learner,
        certification=developer,
        issued_at=old,
        expires_at=timezone.now() - timedelta(days=60),
    )
    steps = _steps(learner)
    assert (steps["exam"].state, steps["project"].state, steps["certification"].state) == (
        "not_started",
        "not_submitted",
        "expired",
    )


def test_unpublished_exam_or_brief_is_coming(learner, developer):
    developer.exam.is_published = False
    developer.exam.save()
    steps = _steps(learner)
    assert (steps["exam"].state, steps["exam"].url) == ("coming", "")
    assert steps["project"].state == "not_submitted"
    assert steps["certification"].state == "coming"


def test_a_certification_without_a_brief_says_the_project_is_coming(learner):
    CertificationFactory(slug="developer", project_brief=None)
    steps = _steps(learner)
    assert steps["project"].state == "coming"
    assert steps["certification"].state == "coming"


def test_progress_counts_done_steps_and_course_lessons(learner, developer):
    path = course_selectors.learning_path_for(user=learner, slug="developer")
    assert path.percent == 0
    passed_attempt(person=learner, exam=developer.exam)
    passed_submission(person=learner, brief=developer.project_brief)
    path = course_selectors.learning_path_for(user=learner, slug="developer")
    assert (path.completed_steps, path.percent) == (2, 66)
    CredentialFactory(person=learner, certification=developer)
    path = course_selectors.learning_path_for(user=learner, slug="developer")
    assert path.percent == 100


def test_the_page_shows_states_dates_and_actions(client, learner, developer):
    passed_attempt(person=learner, exam=developer.exam, passed=False)
    _submission(learner, developer.project_brief, SubmissionStatus.IN_REVIEW)
    client.force_login(learner)
    html = client.get("/paths/developer/").content.decode()
    assert "Not passed" in html and "Next attempt from" in html
    assert "In review" in html and "Not issued yet" in html
    assert 'aria-label="Progress along the path"' in html


def test_anonymous_visitors_see_the_steps_without_state(client, developer):
    html = client.get("/paths/developer/").content.decode()
    assert developer.exam.title in html and "Certificate" in html
    assert "Passed" not in html and "In progress" not in html


def test_the_api_shows_the_same_steps(client, learner, developer):
    passed = passed_attempt(person=learner, exam=developer.exam)
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    body = client.get("/api/v1/paths/developer", headers=bearer).json()
    assert [(s["kind"], s["state"]) for s in body["steps"]] == [
        ("exam", "passed"),
        ("project", "not_submitted"),
        ("certification", "not_issued"),
    ]
    exam = body["steps"][0]
    assert exam["at"].startswith(passed.submitted_at.strftime("%Y-%m-%dT%H:%M"))
    assert set(exam) == {
        "kind",
        "title",
        "url",
        "state",
        "percent",
        "available_at",
        "at",
        "note",
        "action",
    }
    assert body["percent"] == 33


def test_the_api_gives_available_at_for_a_failed_exam(client, learner, developer):
    failed = passed_attempt(person=learner, exam=developer.exam, passed=False)
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    exam = client.get("/api/v1/paths/developer", headers=bearer).json()["steps"][0]
    assert exam["state"] == "failed"
    expected = failed.submitted_at + timedelta(hours=24)
    assert exam["available_at"].startswith(expected.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize("history", [1, 20])
def test_query_count_does_not_grow_with_history(learner, developer, history):
    course, _ = course_with_lessons(2, certification="developer")
    path_with("developer", course)
    for _ in range(history):
        passed_attempt(person=learner, exam=developer.exam, passed=False)
        passed_submission(person=learner, brief=developer.project_brief, passed=False)
    cache.clear()  # cold site-root cache (page URLs): the worst case
    with CaptureQueriesContext(connection) as queries:
        course_selectors.learning_path_for(user=learner, slug="developer")
    assert len(queries) == 11  # same for both sizes
