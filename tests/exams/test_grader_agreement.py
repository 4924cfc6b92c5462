"""Grader agreement: Cohen's kappa and exact agreement (pure), the staff report, page and API."""

import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from exams.projects import agreement
from exams.projects import selectors as project_selectors
from exams.projects import services as project_services
from lms.tokens import token_create
from tests.exams.project_factories import (
    make_brief,
    make_instructor,
    make_staff,
    scores_for,
    upload,
)
from tests.lms.api.helpers import assert_error
from tests.lms.factories import UserFactory

CASES = json.loads((Path(__file__).parents[1] / "testdata" / "grader-agreement.json").read_text())[
    "cases"
]
BACKEND = "django.contrib.auth.backends.ModelBackend"


# --- pure: worked cases -----------------------------------------------------------------


def pairs_of(case):
    return [(first, second) for first, second, count in case["counts"] for _ in range(count)]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_worked_cases(case):
    pairs = pairs_of(case)
    assert agreement.cohen_kappa(pairs) == case["kappa"]
    assert agreement.percent_agreement(pairs) == case["agreement_percent"]
    summary = agreement.summary(pairs)
    assert (summary.n, summary.kappa, summary.percent) == (
        len(pairs),
        case["kappa"],
        case["agreement_percent"],
    )


def test_kappa_does_not_depend_on_which_grader_is_first():
    for case in CASES:
        pairs = pairs_of(case)
        assert agreement.cohen_kappa([(b, a) for a, b in pairs]) == case["kappa"]


def test_textbook_cases_are_in_the_worked_cases():
    by_kappa = {case["kappa"] for case in CASES}
    assert {1.0, 0.0, 0.4, None} <= by_kappa


# --- the staff report -------------------------------------------------------------------


def double_graded(brief, first, second, first_points, second_points):
    submission = project_services.submission_create(
        person=UserFactory(), brief=brief, files=[upload()]
    )
    for grader, points in ((first, first_points), (second, second_points)):
        project_services.submission_claim(grader=grader, submission_id=submission.pk)
        project_services.submission_review(
            grader=grader, submission_id=submission.pk, scores=scores_for(brief, points)
        )
    return submission


# Grader A first, B second; threshold 6, margin 9 so every first review is double graded.
SCENARIO = [
    ([2, 2, 2], [2, 2, 2]),  # both pass
    ([3, 3, 3], [3, 3, 2]),  # both pass
    ([1, 1, 1], [2, 2, 2]),  # revise vs pass: a disagreement (goes to a third grader)
]


@pytest.fixture
def graded(db):
    brief = make_brief(second_grader_margin=9, title="Payment flow")
    a = make_instructor(email="a@example.com", legal_name="Ada Grader")
    b = make_instructor(email="b@example.com", legal_name="Bo Grader")
    for first_points, second_points in SCENARIO:
        double_graded(brief, a, b, first_points, second_points)
    return brief, a, b


def test_report_per_grader(graded):
    brief, a, b = graded
    report = project_selectors.grader_agreement_report(window=50)
    assert [row.grader for row in report] == ["Ada Grader", "Bo Grader"]
    for row in report:
        assert (row.outcomes.n, row.outcomes.percent) == (3, 66.7)
        criteria = {c.criterion: c.figures for c in row.criteria}
        # Criteria 0 and 1: levels (2,2), (3,3), (1,2): p_o 2/3, p_e 1/3 → 0.5.
        assert criteria["Criterion 0"] == agreement.AgreementSummary(3, 66.7, 0.5)
        assert criteria["Criterion 1"] == agreement.AgreementSummary(3, 66.7, 0.5)
        # Criterion 2: the second grader always chose level 2: chance level.
        assert criteria["Criterion 2"] == agreement.AgreementSummary(3, 33.3, 0.0)
        assert {c.project for c in row.criteria} == {"Payment flow"}


def test_third_reviews_do_not_count(graded):
    brief, a, b = graded
    disputed = brief.submissions.get(needs_third_review=True)
    staff = make_staff()
    project_services.submission_claim(grader=staff, submission_id=disputed.pk)
    project_services.submission_review(
        grader=staff, submission_id=disputed.pk, scores=scores_for(brief, [2, 2, 2])
    )
    report = project_selectors.grader_agreement_report(window=50)
    assert [row.grader_id for row in report] == [a.pk, b.pk]


def test_window_keeps_each_grader_s_latest(graded):
    report = project_selectors.grader_agreement_report(window=2)
    for row in report:
        # The two latest: the disagreement and the (3,3,3)/(3,3,2) pass.
        assert (row.outcomes.n, row.outcomes.percent) == (2, 50.0)
        assert {c.figures.n for c in row.criteria} == {2}


def test_single_level_gives_n_a_not_a_crash(db):
    brief = make_brief(criteria=1, levels=(0, 5, 9), second_grader_margin=9)
    a, b = make_instructor(), make_instructor()
    for _ in range(3):
        double_graded(brief, a, b, [5], [5])
    [row, _] = project_selectors.grader_agreement_report(window=50)
    [criterion] = row.criteria
    assert criterion.figures == agreement.AgreementSummary(3, 100.0, None)
    assert row.outcomes.kappa is None and row.outcomes.percent == 100.0


@pytest.mark.parametrize("extra", [0, 3])
def test_report_query_count_is_flat(graded, extra, django_assert_num_queries):
    brief, a, b = graded
    others = [make_instructor() for _ in range(2)]
    for _ in range(extra):
        double_graded(brief, others[0], others[1], [2, 2, 2], [3, 2, 2])
    # Each grader's windowed reviews (with the grader), then the other reviews.
    with django_assert_num_queries(2):
        report = project_selectors.grader_agreement_report(window=50)
    assert len(report) == (4 if extra else 2)


def test_no_double_grading_yet(db):
    assert project_selectors.grader_agreement_report(window=50) == []


# --- page and API -----------------------------------------------------------------------


def api_get(user, path):
    token = token_create(user=user, name="t")[1]
    return Client().get(f"/api/v1{path}", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_api_for_staff(graded, settings):
    settings.GRADER_AGREEMENT_WINDOW = 2
    brief, a, b = graded
    response = api_get(make_staff(), "/grader-agreement")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["window"] == 2
    [first, second] = body["graders"]
    assert (first["grader_id"], first["grader"]) == (a.pk, "Ada Grader")
    assert first["outcomes"] == {"submissions": 2, "agreement_percent": 50.0, "kappa": 0.0}
    assert [c["criterion"] for c in first["criteria"]] == [
        "Criterion 0",
        "Criterion 1",
        "Criterion 2",
    ]
    assert all(c["submissions"] == 2 and c["project"] == "Payment flow" for c in first["criteria"])
    assert second["grader_id"] == b.pk


def test_api_kappa_undefined_is_null(db):
    brief = make_brief(criteria=1, levels=(0, 5, 9), second_grader_margin=9)
    a, b = make_instructor(), make_instructor()
    double_graded(brief, a, b, [5], [5])
    body = api_get(make_staff(), "/grader-agreement").json()
    assert body["graders"][0]["criteria"][0]["kappa"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["instructor", "learner"])
def test_api_refuses_everyone_but_staff(who):
    user = make_instructor() if who == "instructor" else UserFactory()
    assert_error(api_get(user, "/grader-agreement"), 403, "staff_only")


def test_staff_page(client, graded):
    client.force_login(make_staff(), backend=BACKEND)
    queue = client.get(reverse("exams:review_queue"))
    assert reverse("exams:grader_agreement").encode() in queue.content
    page = client.get(reverse("exams:grader_agreement"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Ada Grader" in body and "Bo Grader" in body
    assert "66.7 %" in body and "of 3 submissions" in body
    assert body.count("<td data-kappa>0.5</td>") == 4


def test_staff_page_shows_n_a(client, db):
    brief = make_brief(criteria=1, levels=(0, 5, 9), second_grader_margin=9)
    double_graded(brief, make_instructor(), make_instructor(), [5], [5])
    client.force_login(make_staff(), backend=BACKEND)
    body = client.get(reverse("exams:grader_agreement")).content.decode()
    assert body.count("<td data-kappa>n/a</td>") == 2


def test_staff_page_is_404_for_others(client, graded):
    for user in (UserFactory(), make_instructor()):
        client.force_login(user, backend=BACKEND)
        assert client.get(reverse("exams:grader_agreement")).status_code == 404
    queue = client.get(reverse("exams:review_queue"))  # the instructor's
    assert queue.status_code == 200
    assert reverse("exams:grader_agreement").encode() not in queue.content
