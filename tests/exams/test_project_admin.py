"""Wagtail admin for project briefs and their rubric."""

import pytest
from django.contrib.auth.models import Group

from exams.models import ProjectBrief, RubricCriterion
from tests.exams.project_factories import make_brief
from tests.lms.factories import MODEL_BACKEND, UserFactory

pytestmark = pytest.mark.django_db

BRIEFS = "/admin/exams/projects/"
CRITERIA = "/admin/exams/rubric-criteria/"


@pytest.fixture
def instructor_client(client):
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Instructors"))
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def _brief_post(**overrides):
    data = {
        "title": "Build a payment flow",
        "slug": "payment-flow",
        "summary": "",
        "instructions": "Build it.",
        "pass_threshold": "6",
        "second_grader_margin": "1",
        "allowed_file_types": "PDF, .zip, md",
        "max_upload_bytes": "1048576",
        "is_published": "on",
        "criteria-TOTAL_FORMS": "2",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
    }
    for i, title in enumerate(["Correctness", "Security"]):
        data.update(
            {
                f"criteria-{i}-title": title,
                f"criteria-{i}-description": "",
                f"criteria-{i}-position": str(i),
                f"criteria-{i}-id": "",
                f"criteria-{i}-ORDER": str(i),
                f"criteria-{i}-DELETE": "",
            }
        )
    data.update(overrides)
    return data


@pytest.mark.parametrize("url", [BRIEFS, CRITERIA, f"{BRIEFS}new/"])
def test_instructors_see_the_screens(instructor_client, url):
    make_brief()
    assert instructor_client.get(url).status_code == 200


def test_learners_are_kept_out(client):
    client.force_login(UserFactory(), backend=MODEL_BACKEND)
    assert client.get(BRIEFS).status_code in (302, 403)


def test_create_brief_with_criteria(instructor_client):
    response = instructor_client.post(f"{BRIEFS}new/", _brief_post())
    assert response.status_code == 302, response.content.decode()[:3000]
    brief = ProjectBrief.objects.get(slug="payment-flow")
    assert brief.allowed_file_types == ["pdf", "zip", "md"]
    assert [c.title for c in brief.criteria.order_by("position")] == ["Correctness", "Security"]


def test_unknown_file_type_is_refused(instructor_client):
    response = instructor_client.post(f"{BRIEFS}new/", _brief_post(allowed_file_types="pdf, exe"))
    assert response.status_code == 200
    assert "Unknown file types: exe" in response.content.decode()
    assert not ProjectBrief.objects.exists()


def test_edit_levels_of_a_criterion(instructor_client):
    brief = make_brief(criteria=1, levels=())
    criterion = brief.criteria.get()
    data = {
        "brief": brief.pk,
        "title": "Correctness",
        "description": "",
        "position": "0",
        "levels-TOTAL_FORMS": "2",
        "levels-INITIAL_FORMS": "0",
        "levels-MIN_NUM_FORMS": "1",
        "levels-MAX_NUM_FORMS": "1000",
    }
    for i, (title, points) in enumerate([("Missing", 0), ("Complete", 3)]):
        data.update(
            {
                f"levels-{i}-title": title,
                f"levels-{i}-description": "",
                f"levels-{i}-points": str(points),
                f"levels-{i}-position": str(i),
                f"levels-{i}-id": "",
                f"levels-{i}-ORDER": str(i),
                f"levels-{i}-DELETE": "",
            }
        )
    response = instructor_client.post(f"{CRITERIA}edit/{criterion.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    criterion = RubricCriterion.objects.get(pk=criterion.pk)
    assert [(lv.title, lv.points) for lv in criterion.levels.all()] == [
        ("Missing", 0),
        ("Complete", 3),
    ]
