"""Reads that must not grow with the exam: the attempt page and GET /api/v1/attempts/{id}.

The query counts are pinned at 10, 60 and 200 questions and are the same
numbers as test_views.py / test_api.py pin at 10 and 60. A 200-question
attempt is also taken end to end through the API (runs on SQLite and on
PostgreSQL).
"""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exams import services
from exams.models import AttemptItem, AttemptStatus, Choice
from lms.tokens import token_create
from tests.exams.factories import make_exam
from tests.exams.test_api import QUERIES_ATTEMPT_GET
from tests.lms.factories import MODEL_BACKEND

pytestmark = pytest.mark.django_db

SIZES = [10, 60, 200]
# session, user, attempt, items, choices + the navigation's admin-link check (groups)
QUERIES_ATTEMPT_PAGE = 6


@pytest.fixture
def bearer(learner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=learner, name='t')[1]}"}


def exam_of(size):
    return make_exam(topics=2, draw=size // 2, pool=size // 2)


@pytest.mark.parametrize("size", SIZES)
def test_attempt_page_query_count_is_the_same_up_to_200_questions(
    size, learner, django_assert_num_queries
):
    attempt, _ = services.attempt_start(person=learner, exam=exam_of(size))
    client = Client()
    client.force_login(learner, backend=MODEL_BACKEND)
    url = reverse("exams:attempt", args=[attempt.pk])
    client.get(url)
    with django_assert_num_queries(QUERIES_ATTEMPT_PAGE):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("data-item=") == size


@pytest.mark.parametrize("size", SIZES)
def test_attempt_api_query_count_is_the_same_up_to_200_questions(
    size, learner, bearer, django_assert_num_queries
):
    attempt, _ = services.attempt_start(person=learner, exam=exam_of(size))
    client = Client()
    client.get(f"/api/v1/attempts/{attempt.pk}", **bearer)  # warm the token's last_used
    with django_assert_num_queries(QUERIES_ATTEMPT_GET):
        response = client.get(f"/api/v1/attempts/{attempt.pk}", **bearer)
    assert response.status_code == 200
    assert len(response.json()["items"]) == size


def test_answer_save_query_count_does_not_depend_on_the_exams_size(learner, bearer):
    counts = {}
    for size in (10, 200):
        exam = exam_of(size)
        attempt, _ = services.attempt_start(person=learner, exam=exam)
        item = attempt.items.order_by("-position").first()
        client = Client()
        client.get(f"/api/v1/attempts/{attempt.pk}", **bearer)
        with CaptureQueriesContext(connection) as queries:
            response = client.put(
                f"/api/v1/attempts/{attempt.pk}/items/{item.pk}",
                json.dumps({"choice_ids": [item.choice_order[0]], "flagged": True}),
                content_type="application/json",
                **bearer,
            )
        assert response.status_code == 200, response.content
        counts[size] = len(queries)
        services.attempt_submit(person=learner, attempt_id=attempt.pk)
    assert counts[10] == counts[200], counts


def test_a_200_question_attempt_end_to_end(learner, bearer):
    exam = exam_of(200)
    client = Client()
    started = client.post(f"/api/v1/exams/{exam.slug}/attempts", **bearer)
    assert started.status_code == 201
    body = started.json()
    assert len(body["items"]) == 200
    assert [item["position"] for item in body["items"]] == list(range(200))
    # Answer 160 (the pass mark, 80 %) right and leave 40 blank.
    keys = {}
    for version_id, choice_id in Choice.objects.filter(is_correct=True).values_list(
        "version_id", "id"
    ):
        keys.setdefault(version_id, []).append(choice_id)
    versions = dict(
        AttemptItem.objects.filter(attempt_id=body["id"]).values_list("pk", "question_version_id")
    )
    for item in body["items"][:160]:
        response = client.put(
            f"/api/v1/attempts/{body['id']}/items/{item['id']}",
            json.dumps({"choice_ids": keys[versions[item["id"]]]}),
            content_type="application/json",
            **bearer,
        )
        assert response.status_code == 200, response.content
    reread = client.get(f"/api/v1/attempts/{body['id']}", **bearer).json()
    assert sum(1 for item in reread["items"] if item["selected_choice_ids"]) == 160
    result = client.post(f"/api/v1/attempts/{body['id']}/submit", **bearer).json()
    assert result["status"] == AttemptStatus.SUBMITTED
    assert (result["correct"], result["total"]) == (160, 200)
    assert result["score_percent"] == 80.0 and result["passed"] is True
