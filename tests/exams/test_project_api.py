import json

import pytest
from django.test import Client

from exams.models import Submission, SubmissionFile
from exams.projects import services as project_services
from lms.tokens import token_create
from tests.exams.project_factories import (
    PDF,
    make_brief,
    make_instructor,
    scores_for,
    upload,
    zip_bytes,
)
from tests.lms.api.helpers import assert_error
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db


class Api:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='t')[1]}"}

    def get(self, path):
        return self.client.get(f"/api/v1{path}", **self.headers)

    def post(self, path, body=None):
        data = json.dumps(body) if body is not None else ""
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", **self.headers
        )

    def upload(self, path, data):
        return self.client.post(f"/api/v1{path}", data, **self.headers)  # multipart


@pytest.fixture
def brief():
    return make_brief(title="Build a payment flow", slug="payment-flow")


@pytest.fixture
def learner():
    return UserFactory(email="learner@example.com", legal_name="Lee Learner")


@pytest.fixture
def grader():
    return make_instructor(email="grader@example.com")


@pytest.fixture
def api(learner):
    return Api(learner)


@pytest.fixture
def grader_api(grader):
    return Api(grader)


def test_project_list(api, brief):
    make_brief(is_published=False)
    response = api.get("/projects")
    assert response.status_code == 200
    [project] = response.json()["data"]
    assert project["slug"] == "payment-flow"
    assert project["max_points"] == 9 and project["pass_threshold"] == 6
    assert [len(c["levels"]) for c in project["criteria"]] == [4, 4, 4]
    assert project["latest_submission"] is None and project["can_submit"] is True


def test_project_list_query_count_is_flat(api, brief, learner, django_assert_num_queries):
    api.get("/projects")  # warm up (the token's last use is recorded once)
    project_services.submission_create(person=learner, brief=brief, files=[upload()])
    # token (with its user), briefs, criteria, levels, the learner's submissions
    with django_assert_num_queries(5):
        assert len(api.get("/projects").json()["data"]) == 1
    for _ in range(4):
        make_brief()
    with django_assert_num_queries(5):
        assert len(api.get("/projects").json()["data"]) == 5


def test_submit_and_read_back(api, brief, learner):
    response = api.upload(
        "/projects/payment-flow/submissions",
        {"files": [upload()], "repository_url": "https://github.com/me/shop", "notes": "Hi"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "submitted"
    detail = api.get(f"/submissions/{body['id']}").json()
    assert detail["status"] == "submitted" and detail["reviews"] == []
    assert detail["files"][0]["name"] == "report.pdf"
    assert detail["learner"] is None
    again = api.upload("/projects/payment-flow/submissions", {"files": [upload()]})
    assert_error(again, 409, "submission_open")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"files": [upload(content=PDF * 40000)]}, 413, "file_too_large"),
        ({"files": [upload("x.exe", b"MZ")]}, 415, "unsupported_file_type"),
        ({"files": [upload("x.pdf", b"<html>")]}, 415, "unsupported_file_type"),
        ({"files": [upload("a.zip", zip_bytes({"../evil": b"x"}))]}, 422, "unsafe_archive"),
        (
            {"files": [upload("a.zip", zip_bytes({"z": b"\0" * (12 * 1024 * 1024)}))]},
            422,
            "unsafe_archive",
        ),
        ({"repository_url": "file:///etc/passwd"}, 422, "invalid_repository_url"),
        ({"notes": "only notes"}, 422, "empty_submission"),
    ],
)
def test_bad_uploads(api, brief, settings, data, status, code):
    assert_error(api.upload("/projects/payment-flow/submissions", data), status, code)
    assert Submission.objects.count() == 0 and SubmissionFile.objects.count() == 0
    root = settings.PRIVATE_ROOT / "submissions"
    assert not root.exists() or not [p for p in root.rglob("*") if p.is_file()]


def test_oversized_body_refused_before_parsing(api, brief):
    big = b"a" * (brief.max_upload_bytes + 128 * 1024)
    response = api.upload("/projects/payment-flow/submissions", {"files": [upload("a.txt", big)]})
    assert_error(response, 413, "file_too_large")


def test_json_body_refused(api, brief):
    assert_error(api.post("/projects/payment-flow/submissions", {}), 415, "unsupported_media_type")


def test_unknown_and_unpublished_project(api):
    hidden = make_brief(is_published=False)
    assert_error(
        api.upload(f"/projects/{hidden.slug}/submissions", {"notes": "x"}), 404, "project_not_found"
    )


def test_others_get_404(api, brief, grader_api):
    submission = project_services.submission_create(
        person=UserFactory(), brief=brief, files=[upload()]
    )
    assert_error(api.get(f"/submissions/{submission.pk}"), 404, "submission_not_found")
    # An instructor who has not claimed it does not see it either.
    assert_error(grader_api.get(f"/submissions/{submission.pk}"), 404, "submission_not_found")
    assert_error(api.get("/review-queue"), 404, "not_found")
    assert_error(api.post(f"/submissions/{submission.pk}/claim"), 404, "not_found")
    assert_error(
        api.post(f"/submissions/{submission.pk}/reviews", {"scores": {}}), 404, "not_found"
    )
    assert_error(api.get("/submissions/99999999"), 404, "submission_not_found")


def test_grading_flow(api, grader_api, brief, learner):
    created = api.upload("/projects/payment-flow/submissions", {"files": [upload()]}).json()
    queue = grader_api.get("/review-queue").json()["data"]
    assert [item["id"] for item in queue] == [created["id"]]
    assert queue[0]["learner"]["name"] == "Lee Learner"
    scores = scores_for(brief, [3, 3, 1])
    assert_error(
        grader_api.post(f"/submissions/{created['id']}/reviews", {"scores": scores}),
        409,
        "not_claimed",
    )
    claim = grader_api.post(f"/submissions/{created['id']}/claim")
    assert claim.status_code == 200 and claim.json()["status"] == "in_review"
    wrong = dict(scores)
    first, second = list(wrong)[:2]
    wrong[first] = scores[second]
    assert_error(
        grader_api.post(f"/submissions/{created['id']}/reviews", {"scores": wrong}),
        422,
        "invalid_level",
    )
    other = Api(make_instructor())
    assert_error(other.post(f"/submissions/{created['id']}/claim"), 409, "already_claimed")
    # While claimed, the grader sees the submission (and its learner, not blind).
    assert grader_api.get(f"/submissions/{created['id']}").json()["learner"]["email"] == (
        "learner@example.com"
    )
    response = grader_api.post(
        f"/submissions/{created['id']}/reviews",
        {"scores": scores, "comment": "Solid", "criterion_comments": {first: "Great tests"}},
    )
    assert response.status_code == 201, response.content
    result = response.json()
    assert result["outcome"] == "passed" and result["status"] == "passed" and result["decided"]
    assert_error(
        grader_api.post(f"/submissions/{created['id']}/reviews", {"scores": scores}),
        409,
        "already_decided",
    )
    detail = api.get(f"/submissions/{created['id']}").json()
    assert detail["status"] == "passed" and detail["score"] == 7
    [review] = detail["reviews"]
    assert [row["points"] for row in review["criteria"]] == [3, 3, 1]
    assert review["criteria"][0]["comment"] == "Great tests"


def test_blind_brief_hides_learner(grader_api, learner):
    brief = make_brief(blind_grading=True)
    submission = project_services.submission_create(person=learner, brief=brief, files=[upload()])
    [item] = grader_api.get("/review-queue").json()["data"]
    assert item["learner"] is None
    grader_api.post(f"/submissions/{submission.pk}/claim")
    body = grader_api.get(f"/submissions/{submission.pk}")
    assert body.json()["learner"] is None
    assert b"learner@example.com" not in body.content and b"Lee Learner" not in body.content


def test_review_queue_query_count_is_flat(grader_api, brief, django_assert_num_queries):
    grader_api.get("/review-queue")  # warm up (the token's last use is recorded once)
    project_services.submission_create(person=UserFactory(), brief=brief, files=[upload()])
    # token (with its user), the grader's groups, the queue
    with django_assert_num_queries(3):
        assert len(grader_api.get("/review-queue").json()["data"]) == 1
    for _ in range(5):
        project_services.submission_create(
            person=UserFactory(), brief=make_brief(), repository_url="https://example.com/r"
        )
    with django_assert_num_queries(3):
        assert len(grader_api.get("/review-queue").json()["data"]) == 6


@pytest.mark.parametrize(
    "body",
    [{"scores": "x"}, {"scores": {"1": "a"}}, {"scores": {}, "extra": 1}, {"comment": "no"}],
)
def test_malformed_review_bodies(grader_api, brief, body):
    submission = project_services.submission_create(
        person=UserFactory(), brief=brief, repository_url="https://example.com/r"
    )
    grader_api.post(f"/submissions/{submission.pk}/claim")
    response = grader_api.post(f"/submissions/{submission.pk}/reviews", body)
    assert response.status_code == 422
    assert response.json()["code"] in ("validation_error", "incomplete_scores")


def test_session_upload_with_csrf(client, brief, learner):
    from tests.lms.api.helpers import csrf_token_for

    client.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner, backend="django.contrib.auth.backends.ModelBackend")
    token = csrf_token_for(client)
    url = "/api/v1/projects/payment-flow/submissions"
    big = b"a" * (brief.max_upload_bytes + 128 * 1024)
    response = client.post(url, {"files": [upload("a.txt", big)]}, HTTP_X_CSRFTOKEN=token)
    assert_error(response, 413, "file_too_large")
    assert_error(client.post(url, {"files": [upload()]}), 403, "csrf_failed")
    response = client.post(url, {"files": [upload()]}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content


def test_too_many_files(api, brief):
    files = [upload(f"n{i}.txt", b"x") for i in range(21)]
    assert_error(
        api.upload("/projects/payment-flow/submissions", {"files": files}), 422, "too_many_files"
    )
    files = [upload(f"n{i}.txt", b"x") for i in range(101)]  # Django's own limit
    assert_error(
        api.upload("/projects/payment-flow/submissions", {"files": files}), 422, "too_many_files"
    )


def test_huge_form_fields(api):
    make_brief(slug="roomy", max_upload_bytes=20 * 1024 * 1024)
    response = api.upload("/projects/roomy/submissions", {"notes": "x" * (3 * 1024 * 1024)})
    assert_error(response, 413, "payload_too_large")


def test_openapi_lists_the_project_endpoints(api):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/projects",
        "/api/v1/projects/{slug}/submissions",
        "/api/v1/review-queue",
        "/api/v1/submissions/{submission_id}/claim",
    ):
        assert path in paths
