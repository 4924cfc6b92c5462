import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from exams.models import Submission
from exams.projects import services as project_services
from lms.permissions import PROGRAMME_STAFF
from tests.exams.project_factories import PDF, make_brief, make_instructor, scores_for, upload
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def brief():
    return make_brief(title="Build a payment flow", slug="payment-flow")


@pytest.fixture
def learner():
    return UserFactory(email="learner@example.com", legal_name="Lee Learner")


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


@pytest.fixture
def submission(brief, learner):
    return project_services.submission_create(person=learner, brief=brief, files=[upload()])


def test_list_and_detail_pages(client, brief, learner):
    login(client, learner)
    page = client.get(reverse("exams:project_list"))
    assert page.status_code == 200 and b"Build a payment flow" in page.content
    detail = client.get(reverse("exams:project_detail", args=["payment-flow"]))
    assert detail.status_code == 200
    assert b'type="file"' in detail.content and b'name="repository_url"' in detail.content
    assert client.get(reverse("exams:project_detail", args=["nope"])).status_code == 404


def test_submit_through_the_page(client, brief, learner):
    login(client, learner)
    url = reverse("exams:project_submit", args=["payment-flow"])
    response = client.post(url, {"files": [upload()], "notes": "Hello"})
    assert response.status_code == 302
    page = client.get(reverse("exams:project_detail", args=["payment-flow"]))
    assert b"report.pdf" in page.content and b'data-status="submitted"' in page.content
    assert b'type="file"' not in page.content  # one open submission at a time


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"files": [upload("x.exe", b"MZ")]}, 415, "unsupported_file_type"),
        ({"repository_url": "ftp://x.example"}, 422, "invalid_repository_url"),
        ({"files": [upload(content=PDF * 40000)]}, 413, "file_too_large"),
    ],
)
def test_submit_page_refusals(client, brief, learner, data, status, code):
    login(client, learner)
    response = client.post(reverse("exams:project_submit", args=["payment-flow"]), data)
    assert response.status_code == status
    assert f'data-code="{code}"'.encode() in response.content
    assert Submission.objects.count() == 0


def test_file_download_permissions(client, submission, learner):
    file = submission.files.get()
    url = reverse("exams:project_file", args=[file.pk])
    assert client.get(url).status_code == 302  # sign in first
    login(client, learner)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="report.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    for stranger in (UserFactory(), make_instructor()):
        login(client, stranger)
        assert client.get(url).status_code == 404
    staff = UserFactory()
    staff.groups.add(Group.objects.get_or_create(name=PROGRAMME_STAFF)[0])
    login(client, staff)
    assert client.get(url).status_code == 200
    grader = make_instructor()
    project_services.submission_claim(grader=grader, submission_id=submission.pk)
    login(client, grader)
    assert client.get(url).status_code == 200
    assert client.get(reverse("exams:project_file", args=[99999])).status_code == 404


def test_review_pages_are_404_for_learners(client, submission, learner):
    login(client, UserFactory())
    assert client.get(reverse("exams:review_queue")).status_code == 404
    assert client.post(reverse("exams:review_claim", args=[submission.pk])).status_code == 404
    assert client.get(reverse("exams:review_grade", args=[submission.pk])).status_code == 404


def test_grade_through_the_pages(client, submission, brief):
    grader = make_instructor()
    login(client, grader)
    queue = client.get(reverse("exams:review_queue"))
    assert queue.status_code == 200 and b"Lee Learner" in queue.content
    response = client.post(reverse("exams:review_claim", args=[submission.pk]))
    assert response.status_code == 302
    page = client.get(reverse("exams:review_grade", args=[submission.pk]))
    assert page.status_code == 200
    assert page.content.count(b'type="radio"') == 12
    assert b"learner@example.com" in page.content
    scores = scores_for(brief, [3, 2, 1])
    wrong = {f"criterion-{key}": value for key, value in scores.items()}
    keys = list(wrong)
    wrong[keys[0]] = wrong[keys[1]]
    refused = client.post(reverse("exams:review_grade", args=[submission.pk]), wrong)
    assert refused.status_code == 422 and b'data-code="invalid_level"' in refused.content
    data = {f"criterion-{key}": value for key, value in scores.items()}
    data["comment"] = "Nice <b>work</b>"
    assert client.post(reverse("exams:review_grade", args=[submission.pk]), data).status_code == 302
    submission.refresh_from_db()
    assert submission.status == "passed"
    login(client, submission.person)
    detail = client.get(reverse("exams:project_detail", args=["payment-flow"]))
    assert b"Nice &lt;b&gt;work&lt;/b&gt;" in detail.content
    assert b'data-status="passed"' in detail.content


def test_blind_grading_page_hides_the_learner(client, learner):
    brief = make_brief(blind_grading=True)
    submission = project_services.submission_create(person=learner, brief=brief, files=[upload()])
    grader = make_instructor()
    login(client, grader)
    queue = client.get(reverse("exams:review_queue"))
    assert b"Lee Learner" not in queue.content and b"learner@example.com" not in queue.content
    client.post(reverse("exams:review_claim", args=[submission.pk]))
    page = client.get(reverse("exams:review_grade", args=[submission.pk]))
    assert page.status_code == 200
    assert b"Lee Learner" not in page.content and b"learner@example.com" not in page.content
    assert b"blind grading" in page.content


def test_grading_page_needs_a_claim(client, submission):
    login(client, make_instructor())
    response = client.get(reverse("exams:review_grade", args=[submission.pk]))
    assert response.status_code == 404  # not claimed by this grader: not visible either
