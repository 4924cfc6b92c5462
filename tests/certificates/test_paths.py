"""The exam, project and certificate steps of a learning path, with the person's state."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses import selectors as course_selectors
from exams.models import Submission, SubmissionStatus
from lms.tokens import token_create
from tests.courses.factories import course_with_lessons

from .factories import CertificationFactory, CredentialFactory, passed_attempt, passed_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer(db):
    return CertificationFactory(slug="developer", name="Developer")


def _tail(user):
    path = course_selectors.learning_path_for(user=user, certification="developer")
    return [(s.kind, s.state) for s in path.steps if s.kind != "course"]


def test_a_new_learner_has_every_step_ahead(learner, developer):
    path = course_selectors.learning_path_for(user=learner, certification="developer")
    exam, project, credential = path.steps
    assert (exam.kind, exam.title, exam.state, exam.url) == (
        "exam",
        developer.exam.title,
        "not_started",
        "/exams/",
    )
    assert (project.kind, project.title, project.state) == (
        "project",
        developer.project_brief.title,
        "not_started",
    )
    assert project.url == f"/exams/projects/{developer.project_brief.slug}/"
    assert (credential.kind, credential.state, credential.url) == ("credential", "not_started", "")


def test_states_follow_the_records(learner, developer):
    passed_attempt(person=learner, exam=developer.exam, passed=False)
    assert _tail(learner)[0] == ("exam", "in_progress")
    passed_attempt(person=learner, exam=developer.exam)
    assert _tail(learner)[0] == ("exam", "completed")

    Submission.objects.create(
        person=learner,
        brief=developer.project_brief,
        status=SubmissionStatus.SUBMITTED,
        created_at=timezone.now(),
    )
    assert _tail(learner)[1] == ("project", "in_progress")
    Submission.objects.filter(person=learner).update(
        status=SubmissionStatus.PASSED, decided_at=timezone.now(), score=12
    )
    assert _tail(learner)[1] == ("project", "completed")

    CredentialFactory(person=learner, certification=developer)
    path = course_selectors.learning_path_for(user=learner, certification="developer")
    assert (path.steps[-1].state, path.steps[-1].url) == ("completed", "/certificates/")


def test_a_certification_without_a_brief_says_the_project_is_not_offered(learner):
    CertificationFactory(slug="developer", project_brief=None)
    assert _tail(learner)[1] == ("project", "not_offered")


def test_anonymous_visitors_see_the_steps_without_state(client, developer):
    html = client.get("/paths/developer/").content.decode()
    assert developer.exam.title in html and "Certificate" in html
    assert "Completed" not in html


def test_the_api_shows_the_same_steps(client, learner, developer):
    passed_attempt(person=learner, exam=developer.exam)
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    steps = client.get("/api/v1/paths/developer", headers=bearer).json()["steps"]
    assert [(s["kind"], s["state"]) for s in steps] == [
        ("exam", "completed"),
        ("project", "not_started"),
        ("credential", "not_started"),
    ]


@pytest.mark.parametrize("history", [1, 20])
def test_query_count_does_not_grow_with_history(learner, developer, history):
    course_with_lessons(2, certification="developer")
    for _ in range(history):
        passed_attempt(person=learner, exam=developer.exam, passed=False)
        passed_submission(person=learner, brief=developer.project_brief, passed=False)
    cache.clear()  # cold site-root cache (page URLs): the worst case
    with CaptureQueriesContext(connection) as queries:
        course_selectors.learning_path_for(user=learner, certification="developer")
    assert len(queries) == 9  # same for both sizes
