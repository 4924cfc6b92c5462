"""Item analysis for authors: selector (pinned queries), admin page + CSV, API, regrade screens."""

import pytest
from django.contrib.auth.models import Group

from exams import selectors
from exams.models import RegradeEvent
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import make_exam
from .test_regrade import _first_item_version, take

pytestmark = pytest.mark.django_db

EXAMS = "/admin/exams/exams/"


@pytest.fixture
def fixed_exam():
    return make_exam(topics=1, draw=5, pool=5, shuffle_questions=False)


@pytest.fixture
def instructor():
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Instructors"))
    return user


def test_selector_figures_from_stored_items(fixed_exam):
    take(fixed_exam, wrong=0)
    take(fixed_exam, wrong=1)
    take(fixed_exam, wrong=2)
    report = selectors.exam_item_analysis(exam=fixed_exam)
    s = report.statistics
    assert s.attempts == 3
    assert s.mean == pytest.approx(4.0)
    assert len(report.rows) == 5
    first = report.rows[0]
    assert first.stats.attempts == 3
    assert sum(freq.count for _, freq in first.option_rows) >= 3
    # 5 + 4 + 3 right answers; each attempt draws the questions in its own order.
    assert sum(row.stats.correct for row in report.rows) == 12
    assert all(row.stats.attempts == 3 for row in report.rows)


def test_selector_query_count_does_not_grow(fixed_exam, django_assert_num_queries):
    take(fixed_exam)
    with django_assert_num_queries(3):
        selectors.exam_item_analysis(exam=fixed_exam)
    for wrong in (0, 1, 2, 3, 4):
        take(fixed_exam, wrong=wrong)
    with django_assert_num_queries(3):
        selectors.exam_item_analysis(exam=fixed_exam)


def test_no_attempts_yet(fixed_exam):
    report = selectors.exam_item_analysis(exam=fixed_exam)
    assert report.statistics.attempts == 0 and report.rows == ()


def test_admin_page_and_csv(client, instructor, fixed_exam):
    take(fixed_exam, wrong=1)
    take(fixed_exam)
    client.force_login(instructor, backend=MODEL_BACKEND)
    page = client.get(f"{EXAMS}item-analysis/{fixed_exam.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "KR-20" in body
    assert "Drop / credit" in body  # authors may drop or credit a faulty question
    csv = client.get(f"{EXAMS}item-analysis/{fixed_exam.pk}/?format=csv")
    assert csv.status_code == 200
    assert csv["Content-Disposition"].endswith('-item-analysis.csv"')
    assert "difficulty" in csv.content.decode()


def test_regrade_screens_dry_run_then_apply(client, fixed_exam):
    failing = take(fixed_exam, wrong=2)
    version = _first_item_version(failing)
    staff = UserFactory()
    staff.groups.add(Group.objects.get(name="Programme staff"))
    client.force_login(staff, backend=MODEL_BACKEND)
    url = f"{EXAMS}regrade/{fixed_exam.pk}/{version.pk}/"
    preview = client.get(url, {"action": "credited"})
    assert preview.status_code == 200
    assert "1 pass/fail result(s) change" in preview.content.decode()
    assert not RegradeEvent.objects.exists()
    response = client.post(url, {"action": "credited", "reason": "Ambiguous"}, follow=True)
    assert response.status_code == 200
    event = RegradeEvent.objects.get()
    assert event.actor == staff and event.reason == "Ambiguous"
    assert "Ambiguous" in response.content.decode()


def test_regrade_screen_refusal_is_a_message(client, fixed_exam, instructor):
    attempt = take(fixed_exam)
    version = _first_item_version(attempt)
    client.force_login(instructor, backend=MODEL_BACKEND)
    response = client.post(
        f"{EXAMS}regrade/{fixed_exam.pk}/{version.pk}/", {"action": "normal"}, follow=True
    )
    assert response.status_code == 200
    assert "Nothing to change" in response.content.decode()
    bad = client.post(f"{EXAMS}regrade/{fixed_exam.pk}/{version.pk}/", {"action": "nuke"})
    assert bad.status_code == 302


def test_learners_cannot_open_the_analysis(client, learner, fixed_exam):
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.get(f"{EXAMS}item-analysis/{fixed_exam.pk}/")
    assert response.status_code in (302, 403)


# --- API ------------------------------------------------------------------------------


def test_api_item_analysis_for_authors_only(client, instructor, learner, fixed_exam):
    take(fixed_exam, wrong=1)
    client.force_login(learner, backend=MODEL_BACKEND)
    denied = client.get(f"/api/v1/exams/{fixed_exam.slug}/item-analysis")
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"
    client.force_login(instructor, backend=MODEL_BACKEND)
    body = client.get(f"/api/v1/exams/{fixed_exam.slug}/item-analysis").json()
    assert body["attempts"] == 1
    assert len(body["questions"]) == 5
    assert {"difficulty", "discrimination", "flags", "options"} <= body["questions"][0].keys()
    missing = client.get("/api/v1/exams/nope/item-analysis")
    assert missing.status_code == 404


@pytest.mark.parametrize(("fmt", "status"), [("gift", 200), ("csv", 200), ("xml", 422)])
def test_api_bank_export(client, instructor, fixed_exam, fmt, status):
    bank = fixed_exam.blueprint.first().topic.bank
    client.force_login(instructor, backend=MODEL_BACKEND)
    response = client.get(f"/api/v1/question-banks/{bank.slug}/export", {"format": fmt})
    assert response.status_code == status
    if status == 200:
        assert "attachment" in response["Content-Disposition"]
    else:
        assert response.json()["code"] == "invalid_format"


def test_api_bank_export_refused_for_learners_and_unknown_banks(client, learner, instructor):
    client.force_login(learner, backend=MODEL_BACKEND)
    assert client.get("/api/v1/question-banks/x/export").status_code == 403
    client.force_login(instructor, backend=MODEL_BACKEND)
    assert client.get("/api/v1/question-banks/x/export").status_code == 404
