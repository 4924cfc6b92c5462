"""Learning paths: courses -> exam -> project -> certificate per certification.

The steps after the courses come from the certificates app (tests/certificates/
test_paths.py); with no certification set up they are "coming".
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses import selectors, services
from courses.models import LessonProgress
from lms.errors import NotFound
from lms.tokens import token_create
from tests.lms.api.helpers import assert_error

from .factories import CoursePageFactory, course_with_lessons

pytestmark = pytest.mark.django_db


def test_path_lists_its_technical_courses_then_exam_and_project(learner):
    fundamentals, f_lessons = course_with_lessons(2, title="Payments fundamentals")
    flows, flow_lessons = course_with_lessons(2, title="Payment flows")
    CoursePageFactory(title="Architecture", certification="architect")
    CoursePageFactory(title="Business Foundations", kind="sales", certification="none")
    CoursePageFactory(title="Draft developer course", live=False)
    services.lesson_complete(person=learner, lesson_id=f_lessons[0].pk)
    services.lesson_complete(person=learner, lesson_id=f_lessons[1].pk)
    services.lesson_complete(person=learner, lesson_id=flow_lessons[0].pk)

    path = selectors.learning_path_for(user=learner, certification="developer")
    assert [(s.kind, s.title, s.state) for s in path.steps] == [
        ("course", "Payments fundamentals", "completed"),
        ("course", "Payment flows", "in_progress"),
        ("exam", "Certification exam", "coming"),
        ("project", "Certification project", "coming"),
        ("certification", "Certificate", "coming"),
    ]
    assert path.steps[1].percent == 50
    assert path.completed_steps == 1
    assert all(step.url == "" for step in path.steps[2:])


def test_unknown_path_is_not_found(learner):
    with pytest.raises(NotFound):
        selectors.learning_path_for(user=learner, certification="none")


def test_path_page_says_which_steps_are_coming(learner_client):
    course_with_lessons(1, title="Integration architecture", certification="architect")
    html = learner_client.get("/paths/architect/").content.decode()
    assert "Integration architecture" in html and "Not started" in html
    assert html.count("Programme staff have not published this step yet.") == 3
    assert learner_client.get("/paths/ceo/").status_code == 404
    assert learner_client.get("/paths/none/").status_code == 404


def test_path_api_and_its_bad_input(client, learner):
    course_with_lessons(1, title="Payments fundamentals")
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    body = client.get("/api/v1/paths/developer", headers=bearer).json()
    assert [step["state"] for step in body["steps"]] == [
        "not_started",
        "coming",
        "coming",
        "coming",
    ]
    assert_error(client.get("/api/v1/paths/ceo", headers=bearer), 422, "validation_error")


@pytest.mark.parametrize("lessons", [5, 50])
def test_path_query_count_does_not_grow(learner_client, learner, lessons):
    for index in range(3):
        _, rows = course_with_lessons(lessons // 5 if index else lessons, title=f"C{index}")
        services.lesson_complete(person=learner, lesson_id=rows[0].pk)
    assert LessonProgress.objects.count() == 3
    cache.clear()  # cold site-root cache (page URLs): the worst case
    with CaptureQueriesContext(connection) as queries:
        assert learner_client.get("/paths/developer/").status_code == 200
    assert len(queries) == 9  # same for both sizes (+1: the certification's steps)
