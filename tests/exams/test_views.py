import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exams import services
from exams.models import Attempt, AttemptStatus, Choice
from lms.tokens import token_create
from tests.exams.factories import make_exam
from tests.lms.factories import MODEL_BACKEND, UserFactory

pytestmark = pytest.mark.django_db


def test_exam_list_needs_sign_in(client):
    response = client.get(reverse("exams:exam_list"))
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_exam_list_start_attempt_and_resume(learner_client, exam):
    page = learner_client.get(reverse("exams:exam_list"))
    assert page.status_code == 200
    assert exam.title in page.content.decode() and "Start attempt" in page.content.decode()
    response = learner_client.post(reverse("exams:attempt_start", args=[exam.slug]))
    attempt = Attempt.objects.get()
    assert response["Location"] == reverse("exams:attempt", args=[attempt.pk])
    again = learner_client.post(reverse("exams:attempt_start", args=[exam.slug]))
    assert again["Location"] == reverse("exams:attempt", args=[attempt.pk])
    page = learner_client.get(reverse("exams:exam_list")).content.decode()
    assert "Resume attempt" in page


def test_start_refusal_shows_the_reason(learner_client, learner, exam):
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    services.attempt_submit(person=learner, attempt_id=attempt.pk)
    response = learner_client.post(reverse("exams:attempt_start", args=[exam.slug]), follow=True)
    text = response.content.decode()
    assert "first retake is allowed 24 hours" in text
    assert "Next attempt from" in text


def test_the_retake_reason_names_the_time_in_the_learners_zone(learner_client, learner, exam):
    learner.time_zone = "Asia/Tokyo"
    learner.save(update_fields=["time_zone"])
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    services.attempt_submit(person=learner, attempt_id=attempt.pk)
    attempt.refresh_from_db()
    available = timezone.localtime(
        attempt.submitted_at + timedelta(hours=24), ZoneInfo("Asia/Tokyo")
    )
    wanted = f"from {available:%-d %b %Y, %H:%M} JST (Asia/Tokyo)."
    page = learner_client.get(reverse("exams:exam_list")).content.decode()
    assert "first retake is allowed 24 hours" in page and wanted in page
    assert " UTC." not in page
    # The API answers in the same zone.
    bearer = {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}
    card = Client().get(f"/api/v1/exams/{exam.slug}", headers=bearer).json()
    assert card["reason"].endswith(wanted)
    refused = Client().post(f"/api/v1/exams/{exam.slug}/attempts", headers=bearer).json()
    assert refused["code"] == "retake_too_soon" and refused["detail"].endswith(wanted)


def test_start_unknown_exam_and_get_are_refused(learner_client):
    assert learner_client.post(reverse("exams:attempt_start", args=["nope"])).status_code == 404
    assert learner_client.get(reverse("exams:attempt_start", args=["nope"])).status_code == 405


def test_attempt_page_renders_the_form_without_correctness(learner_client, learner):
    # Every question drawn (pool == draw): the form surely has both kinds of question.
    exam = make_exam(draw=3, pool=3)
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    response = learner_client.get(reverse("exams:attempt", args=[attempt.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for item in attempt.items.all():
        assert f'data-item="{item.pk}"' in html
        for choice_id in item.choice_order:
            assert f'value="{choice_id}"' in html
    assert "<legend" in html and 'type="radio"' in html and 'type="checkbox"' in html
    assert "is_correct" not in html and "SECRET-EXPLANATION" not in html
    assert "exams/attempt.js" in html
    config = json.loads(
        re.search(
            r'<script id="attempt-config" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert config["attemptId"] == attempt.pk and config["deadline"] == attempt.deadline.isoformat()
    # No inline script other than the JSON data block (CSP).
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert scripts and all('type="application/json"' in attrs for attrs in scripts)
    assert "style=" not in html


def test_attempt_page_shows_saved_answers_and_flags(learner_client, learner, exam):
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    item = attempt.items.order_by("position").first()
    services.attempt_item_save(
        person=learner,
        attempt_id=attempt.pk,
        item_id=item.pk,
        choice_ids=[item.choice_order[1]],
        flagged=True,
    )
    html = learner_client.get(reverse("exams:attempt", args=[attempt.pk])).content.decode()
    assert f'value="{item.choice_order[1]}" checked' in html
    assert 'aria-pressed="true"' in html and "is-answered is-flagged" in html


def test_someone_elses_attempt_pages_are_404(client, exam):
    owner = UserFactory()
    attempt, _ = services.attempt_start(person=owner, exam=exam)
    stranger = UserFactory()
    client.force_login(stranger, backend=MODEL_BACKEND)
    for name in ("exams:attempt", "exams:attempt_result"):
        assert client.get(reverse(name, args=[attempt.pk])).status_code == 404
    assert client.post(reverse("exams:attempt_submit", args=[attempt.pk])).status_code == 404
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS


def test_submit_and_result(learner_client, learner, exam):
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    assert learner_client.get(reverse("exams:attempt_result", args=[attempt.pk]))[
        "Location"
    ] == reverse("exams:attempt", args=[attempt.pk])
    response = learner_client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    assert response["Location"] == reverse("exams:attempt_result", args=[attempt.pk])
    again = learner_client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    assert again["Location"] == response["Location"]
    html = learner_client.get(response["Location"]).content.decode()
    assert "Not passed this time" in html and "0 %" in html
    for topic in exam.blueprint.select_related("topic"):
        assert topic.topic.name in html
    assert "is_correct" not in html and "SECRET-EXPLANATION" not in html
    for choice in Choice.objects.filter(version__attempt_items__attempt=attempt):
        assert choice.text not in html
    # The attempt page now redirects to the result.
    page = learner_client.get(reverse("exams:attempt", args=[attempt.pk]))
    assert page["Location"] == reverse("exams:attempt_result", args=[attempt.pk])
    history = learner_client.get(reverse("exams:exam_list")).content.decode()
    assert "Not passed" in history


def test_overdue_attempt_is_finalised_when_visited(learner_client, learner, exam):
    attempt, _ = services.attempt_start(
        person=learner, exam=exam, now=timezone.now() - timedelta(hours=3)
    )
    response = learner_client.get(reverse("exams:attempt", args=[attempt.pk]))
    assert response["Location"] == reverse("exams:attempt_result", args=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED
    html = learner_client.get(response["Location"]).content.decode()
    assert "Time ran out" in html


@pytest.mark.parametrize("size", [10, 60])
def test_attempt_page_query_count_is_constant(size, learner, django_assert_num_queries):
    exam = make_exam(topics=2, draw=size // 2, pool=size // 2)
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    client = Client()
    client.force_login(learner, backend=MODEL_BACKEND)
    url = reverse("exams:attempt", args=[attempt.pk])
    client.get(url)
    # session, user, attempt, items, choices + the navigation's admin-link check (groups)
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.content.decode().count("data-item=") == size


def test_no_correctness_anywhere_during_a_whole_attempt(learner_client, learner, exam):
    """Every HTML and JSON response of a whole attempt, scanned for correctness data."""
    responses = [learner_client.get(reverse("exams:exam_list"))]
    start = learner_client.post(reverse("exams:attempt_start", args=[exam.slug]))
    attempt = Attempt.objects.get()
    responses.append(learner_client.get(start["Location"]))
    csrf = learner_client.cookies["csrftoken"].value
    api = Client(enforce_csrf_checks=True)
    api.cookies = learner_client.cookies
    responses.append(api.get(f"/api/v1/attempts/{attempt.pk}"))
    for item in attempt.items.all():
        responses.append(
            api.put(
                f"/api/v1/attempts/{attempt.pk}/items/{item.pk}",
                json.dumps({"choice_ids": [item.choice_order[0]], "flagged": True}),
                content_type="application/json",
                HTTP_X_CSRFTOKEN=csrf,
            )
        )
        assert responses[-1].status_code == 200
    responses.append(learner_client.get(start["Location"]))
    submit = learner_client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    responses.append(learner_client.get(submit["Location"]))
    responses.append(api.get(f"/api/v1/attempts/{attempt.pk}"))
    correct_ids = set(
        Choice.objects.filter(version__attempt_items__attempt=attempt, is_correct=True).values_list(
            "id", flat=True
        )
    )
    assert correct_ids
    for response in responses:
        assert response.status_code == 200
        text = response.content.decode()
        assert "is_correct" not in text
        assert "SECRET-EXPLANATION" not in text
        assert "explanation" not in text.lower()
        assert "data-correct" not in text
