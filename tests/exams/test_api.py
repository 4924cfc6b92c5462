import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from exams import services
from exams.models import Attempt, AttemptStatus, Choice, QuestionKind
from lms.tokens import token_create
from tests.exams.factories import make_exam
from tests.lms.api.helpers import assert_error, csrf_token_for
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(learner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=learner, name='t')[1]}"}


@pytest.fixture
def api(bearer):
    class Api:
        def __init__(self):
            self.client = Client()

        def get(self, path, **kw):
            return self.client.get(f"/api/v1{path}", **bearer, **kw)

        def post(self, path, body=None, **kw):
            data = json.dumps(body) if body is not None else ""
            return self.client.post(
                f"/api/v1{path}", data, content_type="application/json", **bearer, **kw
            )

        def put(self, path, body, raw=False, **kw):
            data = body if raw else json.dumps(body)
            return self.client.put(
                f"/api/v1{path}", data, content_type="application/json", **bearer, **kw
            )

    return Api()


def start(api, exam):
    response = api.post(f"/exams/{exam.slug}/attempts")
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_exam_list(api, exam, learner):
    make_exam(publish=False)
    response = api.get("/exams")
    assert response.status_code == 200
    assert response.json()["data"] == [
        {
            "id": exam.pk,
            "slug": exam.slug,
            "title": exam.title,
            "question_count": 6,
            "time_limit_minutes": 90,
            "pass_mark_percent": 80.0,
            "next_attempt_available_at": None,
            "can_start": True,
            "reason": "You have not taken this exam yet.",
            "code": None,
            "in_progress_attempt_id": None,
            "accommodation": None,
        }
    ]


def test_exam_list_shows_next_attempt_time(api, exam, learner):
    body = start(api, exam)
    api.post(f"/attempts/{body['id']}/submit")
    [card] = api.get("/exams").json()["data"]
    assert card["can_start"] is False and card["code"] == "retake_too_soon"
    assert card["next_attempt_available_at"] is not None
    assert "24 hours" in card["reason"]


def test_start_then_resume(api, exam):
    response = api.post(f"/exams/{exam.slug}/attempts")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "exam",
        "exam_title",
        "status",
        "started_at",
        "deadline",
        "submitted_at",
        "server_time",
        "extra_time_percent",
        "breaks_allowed",
        "breaks_taken",
        "break_minutes",
        "on_break",
        "break_ends_at",
        "items",
        "result",
    }
    assert (body["extra_time_percent"], body["breaks_allowed"], body["on_break"]) == (0, 0, False)
    assert body["exam"] == exam.slug and body["status"] == "in_progress"
    assert body["result"] is None and len(body["items"]) == 6
    item = body["items"][0]
    assert set(item) == {
        "id",
        "position",
        "prompt",
        "kind",
        "choices",
        "selected_choice_ids",
        "flagged",
    }
    assert item["kind"] in ("single", "multiple")
    assert all(set(choice) == {"id", "text"} for choice in item["choices"])

    again = api.post(f"/exams/{exam.slug}/attempts")
    assert again.status_code == 200
    assert again.json()["items"] == body["items"]
    assert api.get(f"/attempts/{body['id']}").json()["items"] == body["items"]


def test_start_refusals(api, exam):
    assert_error(api.post("/exams/nope/attempts"), 404, "exam_not_found")
    assert_error(api.post("/exams/bad%20slug!/attempts"), 422, "validation_error")
    body = start(api, exam)
    api.post(f"/attempts/{body['id']}/submit")
    error = assert_error(api.post(f"/exams/{exam.slug}/attempts"), 409, "retake_too_soon")
    assert error["available_at"]


def _ids(item, kind):
    return item


def correct_ids(item_id):
    from exams.models import AttemptItem

    item = AttemptItem.objects.get(pk=item_id)
    return sorted(
        Choice.objects.filter(version=item.question_version, is_correct=True).values_list(
            "id", flat=True
        )
    )


def test_answer_flag_and_submit(api, exam):
    body = start(api, exam)
    for item in body["items"]:
        response = api.put(
            f"/attempts/{body['id']}/items/{item['id']}", {"choice_ids": correct_ids(item["id"])}
        )
        assert response.status_code == 200, response.content
    first = body["items"][0]
    response = api.put(f"/attempts/{body['id']}/items/{first['id']}", {"flagged": True})
    assert response.json()["flagged"] is True
    assert response.json()["selected_choice_ids"] == correct_ids(first["id"]) or set(
        response.json()["selected_choice_ids"]
    ) == set(correct_ids(first["id"]))

    result = api.post(f"/attempts/{body['id']}/submit")
    assert result.status_code == 200
    data = result.json()
    assert data["status"] == "submitted" and data["passed"] is True
    assert data["score_percent"] == 100.0
    assert [t["score_percent"] for t in data["topics"]] == [100.0, 100.0]
    assert api.post(f"/attempts/{body['id']}/submit").json() == data
    detail = api.get(f"/attempts/{body['id']}").json()
    assert detail["result"] == data and detail["status"] == "submitted"

    closed = assert_error(
        api.put(f"/attempts/{body['id']}/items/{first['id']}", {"choice_ids": []}),
        409,
        "attempt_closed",
    )
    assert closed["closed_because"] == "submitted"


def test_answer_after_deadline_is_refused_and_attempt_finalised_on_access(api, exam, learner):
    body = start(api, exam)
    item = body["items"][0]
    Attempt.objects.filter(pk=body["id"]).update(
        deadline=timezone.now() - timedelta(seconds=exam.grace_seconds + 1),
        started_at=timezone.now() - timedelta(minutes=91),
    )
    error = assert_error(
        api.put(f"/attempts/{body['id']}/items/{item['id']}", {"choice_ids": []}),
        409,
        "attempt_closed",
    )
    assert error["closed_because"] == "deadline"
    detail = api.get(f"/attempts/{body['id']}").json()
    assert detail["status"] == "expired" and detail["result"]["score_percent"] == 0.0


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"choice_ids": [999999999]}, 422, "invalid_choice"),
        ({"choice_ids": ["1"]}, 422, "validation_error"),
        ({"choice_ids": [1.5]}, 422, "validation_error"),
        ({"choice_ids": "1"}, 422, "validation_error"),
        ({"choice_ids": None, "flagged": None}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"flagged": "yes"}, 422, "validation_error"),
        ({"choice_ids": [], "extra": 1}, 422, "validation_error"),
        ({"choice_ids": list(range(1, 10))}, 422, "validation_error"),
        ({"choice_ids": [2**70]}, 422, "validation_error"),  # beyond 64 bits: refused by the parser
        ([], 422, "validation_error"),
    ],
)
def test_answer_bad_input(api, exam, payload, status, code):
    body = start(api, exam)
    item = body["items"][0]
    assert_error(api.put(f"/attempts/{body['id']}/items/{item['id']}", payload), status, code)
    assert api.get(f"/attempts/{body['id']}").json()["items"][0] == item


def test_answer_malformed_and_huge_bodies(api, exam, settings):
    body = start(api, exam)
    path = f"/attempts/{body['id']}/items/{body['items'][0]['id']}"
    assert_error(api.put(path, "{not json", raw=True), 400, "malformed_json")
    assert_error(
        api.put(path, "x" * (settings.API_MAX_BODY_BYTES + 1), raw=True), 413, "payload_too_large"
    )


def test_two_options_on_a_single_answer_item(api, exam):
    body = start(api, exam)
    item = next(i for i in body["items"] if i["kind"] == QuestionKind.SINGLE)
    ids = [c["id"] for c in item["choices"][:2]]
    assert_error(
        api.put(f"/attempts/{body['id']}/items/{item['id']}", {"choice_ids": ids}),
        422,
        "invalid_choice",
    )


def test_option_of_another_item(api, exam):
    body = start(api, exam)
    first, second = body["items"][:2]
    response = api.put(
        f"/attempts/{body['id']}/items/{first['id']}", {"choice_ids": [second["choices"][0]["id"]]}
    )
    assert_error(response, 422, "invalid_choice")


def test_bad_ids_in_paths(api, exam):
    body = start(api, exam)
    assert_error(api.get("/attempts/0"), 422, "validation_error")
    assert_error(api.get(f"/attempts/{2**64}"), 422, "validation_error")
    assert_error(api.get("/attempts/abc"), 422, "validation_error")
    assert_error(api.get("/attempts/999999"), 404, "attempt_not_found")
    assert_error(
        api.put(f"/attempts/{body['id']}/items/999999", {"flagged": True}), 404, "item_not_found"
    )
    assert_error(api.post("/attempts/999999/submit"), 404, "attempt_not_found")


def test_someone_elses_attempt_is_404(api, exam):
    stranger = UserFactory()
    theirs, _ = services.attempt_start(person=stranger, exam=exam)
    item = theirs.items.first()
    assert_error(api.get(f"/attempts/{theirs.pk}"), 404, "attempt_not_found")
    assert_error(
        api.put(f"/attempts/{theirs.pk}/items/{item.pk}", {"flagged": True}),
        404,
        "attempt_not_found",
    )
    assert_error(api.post(f"/attempts/{theirs.pk}/submit"), 404, "attempt_not_found")
    theirs.refresh_from_db()
    assert theirs.status == AttemptStatus.IN_PROGRESS


def test_anonymous_is_401(exam):
    client = Client()
    assert_error(client.get("/api/v1/exams"), 401, "not_authenticated")
    assert_error(client.post(f"/api/v1/exams/{exam.slug}/attempts"), 401, "not_authenticated")


def test_session_needs_csrf(exam, learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    assert_error(client.post(f"/api/v1/exams/{exam.slug}/attempts"), 403, "csrf_failed")
    token = csrf_token_for(client)
    response = client.post(f"/api/v1/exams/{exam.slug}/attempts", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_no_correctness_in_any_response(api, exam):
    """Scan every response of a whole attempt for correctness data."""
    responses = [api.get("/exams")]
    created = api.post(f"/exams/{exam.slug}/attempts")
    responses.append(created)
    body = created.json()
    for item in body["items"]:
        responses.append(
            api.put(
                f"/attempts/{body['id']}/items/{item['id']}",
                {"choice_ids": [item["choices"][0]["id"]]},
            )
        )
    responses.append(api.get(f"/attempts/{body['id']}"))
    responses.append(api.post(f"/attempts/{body['id']}/submit"))
    responses.append(api.get(f"/attempts/{body['id']}"))
    for response in responses:
        text = response.content.decode()
        assert "is_correct" not in text and "correct_choice" not in text
        assert "SECRET-EXPLANATION" not in text
        assert "explanation" not in text


@pytest.mark.parametrize("size", [10, 60])
def test_attempt_get_query_count_is_constant(size, learner, bearer, django_assert_num_queries):
    exam = make_exam(topics=2, draw=size // 2, pool=size // 2)
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    client = Client()
    # token lookup (1) + last-used update (≤1) + attempt (1) + items (1) + choices (1)
    client.get(f"/api/v1/attempts/{attempt.pk}", **bearer)  # warm the token's last_used
    with django_assert_num_queries(QUERIES_ATTEMPT_GET):
        response = client.get(f"/api/v1/attempts/{attempt.pk}", **bearer)
    assert response.status_code == 200 and len(response.json()["items"]) == size


@pytest.mark.parametrize("size", [1, 6])
def test_exam_list_query_count_is_constant(size, learner, bearer, django_assert_num_queries):
    for _ in range(size):
        make_exam(topics=1, draw=1, pool=1)
    client = Client()
    client.get("/api/v1/exams", **bearer)
    with django_assert_num_queries(QUERIES_EXAM_LIST):
        response = client.get("/api/v1/exams", **bearer)
    assert len(response.json()["data"]) == size


QUERIES_ATTEMPT_GET = 4
# + 1: certificates' registered certified check reads held credentials once
# + 1: the caller's accommodations in force, for every exam of the page at once
# + 1: the certifications the page's exams count for (the renewal-only check)
QUERIES_EXAM_LIST = 6
