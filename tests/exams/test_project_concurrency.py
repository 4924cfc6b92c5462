"""Real parallel claims and submissions against PostgreSQL."""

import pytest
from django.db import connection

from exams.models import Submission
from exams.projects import services as project_services
from lms.errors import DomainError
from tests.exams.project_factories import make_brief, make_instructor
from tests.exams.test_concurrency import run_together
from tests.lms.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
def test_ten_graders_claiming_at_once_get_one_claim():
    brief = make_brief()
    submission = project_services.submission_create(
        person=UserFactory(), brief=brief, repository_url="https://example.com/repo"
    )
    graders = [make_instructor() for _ in range(10)]

    def claim(grader):
        return project_services.submission_claim(grader=grader, submission_id=submission.pk)

    outcomes = run_together(claim, [(g,) for g in graders])
    won = [o for o in outcomes if isinstance(o, Submission)]
    lost = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(won) == 1, outcomes
    assert len(lost) == 9 and {e.code for e in lost} == {"already_claimed"}
    submission.refresh_from_db()
    assert submission.claimed_by_id == won[0].claimed_by_id


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_leave_one_open():
    brief = make_brief()
    person = UserFactory()

    def submit(n):
        return project_services.submission_create(
            person=person, brief=brief, repository_url=f"https://example.com/{n}"
        )

    outcomes = run_together(submit, [(n,) for n in range(10)])
    assert sum(isinstance(o, Submission) for o in outcomes) == 1, outcomes
    assert {o.code for o in outcomes if isinstance(o, DomainError)} == {"submission_open"}
    assert Submission.objects.filter(person=person, brief=brief).count() == 1
