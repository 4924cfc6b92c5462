"""POST /api/v1/question-banks/{slug}/import and the Moodle XML export."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from exams import services
from exams.models import Choice, Question, QuestionBank
from lms.tokens import token_create
from tests.lms.api.helpers import assert_error
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
MOODLE = (TESTDATA / "moodle" / "moodle4-export.xml").read_bytes()
GIFT = (TESTDATA / "gift" / "conformance.gift").read_bytes()


@pytest.fixture
def bank(db):
    return QuestionBank.objects.create(slug="payments", title="Payments")


@pytest.fixture
def author_headers(db):
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Instructors"))
    return {"Authorization": f"Bearer {token_create(user=user, name='ci')[1]}"}


def _post(client, headers, slug, content, fmt="gift", topic=None, name="bank.txt"):
    data = {"file": SimpleUploadedFile(name, content), "format": fmt}
    if topic is not None:
        data["topic"] = topic
    return client.post(f"/api/v1/question-banks/{slug}/import", data, headers=headers)


def test_a_moodle_export_imports_and_exports_back_the_same(client, bank, author_headers):
    response = _post(client, author_headers, bank.slug, MOODLE, fmt="moodlexml")
    assert response.status_code == 200, response.content
    assert response.json() == {"imported": 4, "unchanged": 0, "topics": ["Webhooks", "Refunds"]}
    assert Choice.objects.filter(feedback="Never follow them.").count() == 1
    first = client.get(
        f"/api/v1/question-banks/{bank.slug}/export",
        {"format": "moodlexml"},
        headers=author_headers,
    )
    assert first.status_code == 200 and first["Content-Type"].startswith("application/xml")
    again = _post(client, author_headers, bank.slug, first.content, fmt="moodlexml")
    assert again.json() == {"imported": 0, "unchanged": 4, "topics": []}
    second = client.get(
        f"/api/v1/question-banks/{bank.slug}/export",
        {"format": "moodlexml"},
        headers=author_headers,
    )
    assert second.content == first.content


def test_gift_without_category_goes_to_the_given_topic(client, bank, author_headers):
    response = _post(client, author_headers, bank.slug, GIFT, topic="Fundamentals")
    assert response.status_code == 200
    assert set(response.json()["topics"]) == {"Fundamentals", "Webhooks"}


def test_a_bad_question_imports_nothing_and_lists_lines(client, bank, author_headers):
    response = _post(client, author_headers, bank.slug, GIFT)  # no topic for the first two
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_invalid"
    assert [error["line"] for error in body["errors"]] == [6, 13]
    assert not Question.objects.exists()


@pytest.mark.parametrize(
    ("content", "fmt", "status", "code"),
    [
        (b"\xff\xfe\x00Q", "gift", 422, "invalid_import_file"),  # not UTF-8 text
        ("Frage? {=ja ~nein}".encode("latin-1") + b"\xe4", "gift", 422, "invalid_import_file"),
        (
            b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<quiz>&x;</quiz>",
            "moodlexml",
            422,
            "import_invalid",
        ),
        (b"<quiz><question>", "moodlexml", 422, "import_invalid"),
        (b"Q? {=a ~b}", "docx", 422, "validation_error"),
    ],
    ids=["binary", "latin-1", "xxe", "broken-xml", "unknown-format"],
)
def test_bad_files_are_refused_and_change_nothing(
    client, bank, author_headers, content, fmt, status, code
):
    response = _post(client, author_headers, bank.slug, content, fmt=fmt, topic="T")
    assert_error(response, status, code)
    assert not Question.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(client, bank, author_headers):
    content = b"a" * (services.MAX_IMPORT_BYTES + 32 * 1024)
    assert_error(_post(client, author_headers, bank.slug, content), 413, "import_too_large")


def test_not_multipart_is_415(client, bank, author_headers):
    response = client.post(
        f"/api/v1/question-banks/{bank.slug}/import",
        b"{}",
        content_type="application/json",
        headers=author_headers,
    )
    assert response.status_code == 415


def test_learners_get_403_and_unknown_banks_404(client, bank, author_headers):
    learner = {"Authorization": f"Bearer {token_create(user=UserFactory(), name='ci')[1]}"}
    assert_error(_post(client, learner, bank.slug, GIFT, topic="T"), 403, "permission_denied")
    assert _post(client, author_headers, "nope", GIFT, topic="T").status_code == 404
    assert not Question.objects.exists()
