import pytest
from django.utils import timezone

from exams.demo import seed_projects
from exams.models import ProjectBrief, RubricLevel, Submission
from exams.projects import selectors as project_selectors
from tests.exams.project_factories import make_instructor
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_seed_projects_is_idempotent():
    learners = [UserFactory(), UserFactory()]
    developer, architect = seed_projects(learners=learners)
    assert developer.title == "Developer project: build a payment flow"
    assert architect.title == "Architect project: design a marketplace"
    assert architect.blind_grading
    counts = (ProjectBrief.objects.count(), RubricLevel.objects.count(), Submission.objects.count())
    seed_projects(learners=learners)
    assert (
        ProjectBrief.objects.count(),
        RubricLevel.objects.count(),
        Submission.objects.count(),
    ) == counts
    assert counts[2] == 4
    queue = project_selectors.review_queue_for(grader=make_instructor(), now=timezone.now())
    assert len(queue) == 4
    assert all(s.files.count() == 1 and s.repository_url for s in queue)
