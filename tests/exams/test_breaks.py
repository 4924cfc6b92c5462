"""Rest breaks: the clock stops, saves and the submit wait, the deadline moves
by the break's length, and nothing expires an attempt during a break."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exams import services
from exams.accommodations import services as accommodation_services
from exams.models import Attempt, AttemptItem, AttemptStatus
from lms.errors import DomainError
from lms.tokens import token_create
from tests.exams.factories import make_exam
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    user = UserFactory()
    user.groups.add(Group.objects.get(name="Programme staff"))
    return user


@pytest.fixture
def exam(db):
    return make_exam(time_limit_minutes=60)


@pytest.fixture
def with_breaks(staff, learner, exam):
    return accommodation_services.accommodation_grant(
        by=staff,
        person=learner,
        exam=exam,
        extra_time_percent=None,
        breaks=2,
        break_minutes=10,
        ends_on=timezone.localdate() + timedelta(days=1),
        reason="Needs rest breaks",
    )


@pytest.fixture
def started(with_breaks, learner, exam):
    now = timezone.now()
    attempt, _ = services.attempt_start(person=learner, exam=exam, now=now)
    return attempt, now


@pytest.fixture
def api(learner):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=learner, name='t')[1]}"}
    client = Client()

    class Api:
        def post(self, path, body=None):
            data = json.dumps(body) if body is not None else ""
            return client.post(f"/api/v1{path}", data, content_type="application/json", **headers)

        def put(self, path, body):
            return client.put(
                f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers
            )

        def get(self, path):
            return client.get(f"/api/v1{path}", **headers)

    return Api()


def first_item(attempt):
    return AttemptItem.objects.filter(attempt=attempt).order_by("position").first()


def save(learner, attempt, item, *, now, option=0):
    return services.attempt_answer(
        person=learner,
        attempt_id=attempt.pk,
        item_id=item.pk,
        choice_ids=[item.choice_order[option]],
        now=now,
    )


def code_of(call):
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.status, caught.value.code


def test_a_break_pauses_the_clock_and_moves_the_deadline_by_its_length(learner, started):
    attempt, t0 = started
    deadline = attempt.deadline
    item = first_item(attempt)
    on_break = services.attempt_break_start(
        person=learner, attempt_id=attempt.pk, now=t0 + timedelta(minutes=20)
    )
    assert on_break.on_break and on_break.breaks_left == 1
    assert on_break.break_ends_at == t0 + timedelta(minutes=30)
    during = t0 + timedelta(minutes=24)
    assert code_of(lambda: save(learner, attempt, item, now=during)) == (409, "attempt_paused")
    assert code_of(
        lambda: services.attempt_submit(person=learner, attempt_id=attempt.pk, now=during)
    ) == (409, "attempt_paused")
    assert first_item(attempt).selected_choice_ids == []
    resumed = services.attempt_break_end(person=learner, attempt_id=attempt.pk, now=during)
    assert not resumed.on_break
    assert resumed.deadline == deadline + timedelta(minutes=4)
    assert resumed.paused_seconds == 240
    saved = save(learner, attempt, item, now=during + timedelta(seconds=1))
    assert saved.selected_choice_ids == [item.choice_order[0]]
    # A second resume changes nothing.
    again = services.attempt_break_end(person=learner, attempt_id=attempt.pk, now=during)
    assert again.deadline == deadline + timedelta(minutes=4)


def test_a_break_ends_by_itself_at_its_length(learner, started):
    attempt, t0 = started
    deadline = attempt.deadline
    item = first_item(attempt)
    services.attempt_break_start(person=learner, attempt_id=attempt.pk, now=t0)
    later = t0 + timedelta(minutes=25)  # the 10-minute break ran out at t0 + 10
    saved = save(learner, attempt, item, now=later)
    assert saved.selected_choice_ids == [item.choice_order[0]]
    attempt.refresh_from_db()
    assert attempt.break_started_at is None
    assert attempt.deadline == deadline + timedelta(minutes=10)


def test_the_overdue_sweep_never_expires_an_attempt_on_a_break(learner, started):
    attempt, t0 = started
    deadline = attempt.deadline
    services.attempt_break_start(
        person=learner, attempt_id=attempt.pk, now=deadline - timedelta(minutes=1)
    )
    assert services.attempt_finalise_overdue(now=deadline + timedelta(minutes=5)) == 0
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.IN_PROGRESS and attempt.on_break
    # The break (10 minutes) ran out at deadline + 9 min; one minute of the exam was left.
    new_deadline = deadline + timedelta(minutes=10)
    assert services.attempt_finalise_overdue(now=new_deadline) == 0
    attempt.refresh_from_db()
    assert attempt.deadline == new_deadline and not attempt.on_break
    grace = timedelta(seconds=attempt.exam.grace_seconds + 1)
    assert services.attempt_finalise_overdue(now=new_deadline + grace) == 1
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.EXPIRED
    assert attempt.submitted_at == new_deadline


def test_breaks_over_the_grant_are_refused(learner, started):
    attempt, t0 = started
    assert code_of(
        lambda: services.attempt_break_start(
            person=learner, attempt_id=attempt.pk, minutes=11, now=t0
        )
    ) == (409, "break_too_long")
    services.attempt_break_start(person=learner, attempt_id=attempt.pk, minutes=2, now=t0)
    assert code_of(
        lambda: services.attempt_break_start(person=learner, attempt_id=attempt.pk, now=t0)
    ) == (409, "break_in_progress")
    services.attempt_break_end(person=learner, attempt_id=attempt.pk, now=t0 + timedelta(minutes=1))
    services.attempt_break_start(
        person=learner, attempt_id=attempt.pk, now=t0 + timedelta(minutes=5)
    )
    services.attempt_break_end(person=learner, attempt_id=attempt.pk, now=t0 + timedelta(minutes=6))
    assert code_of(
        lambda: services.attempt_break_start(
            person=learner, attempt_id=attempt.pk, now=t0 + timedelta(minutes=7)
        )
    ) == (409, "no_breaks_left")


def test_without_a_grant_there_is_no_break(learner, other):
    exam = make_exam()
    attempt, _ = services.attempt_start(person=other, exam=exam)
    assert code_of(lambda: services.attempt_break_start(person=other, attempt_id=attempt.pk)) == (
        409,
        "no_breaks_left",
    )
    assert code_of(lambda: services.attempt_break_start(person=learner, attempt_id=attempt.pk)) == (
        404,
        "attempt_not_found",
    )


def test_the_api_pauses_saves_and_sends_them_after_resuming(api, started):
    attempt, _ = started
    item = first_item(attempt)
    body = api.post(f"/attempts/{attempt.pk}/break").json()
    assert body["on_break"] is True and body["items"] == [] and body["breaks_taken"] == 1
    refused = api.put(
        f"/attempts/{attempt.pk}/items/{item.pk}", {"choice_ids": [item.choice_order[0]]}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "attempt_paused")
    assert refused.json()["break_ends_at"]
    submit = api.post(f"/attempts/{attempt.pk}/submit")
    assert (submit.status_code, submit.json()["code"]) == (409, "attempt_paused")
    assert api.get(f"/attempts/{attempt.pk}").json()["items"] == []
    resumed = api.post(f"/attempts/{attempt.pk}/resume").json()
    assert resumed["on_break"] is False and len(resumed["items"]) == 6
    assert resumed["deadline"] >= body["deadline"]
    saved = api.put(
        f"/attempts/{attempt.pk}/items/{item.pk}", {"choice_ids": [item.choice_order[0]]}
    )
    assert saved.status_code == 200
    short = api.post(f"/attempts/{attempt.pk}/break", {"minutes": 11})
    assert (short.status_code, short.json()["code"]) == (409, "break_too_long")
    bad = api.post(f"/attempts/{attempt.pk}/break", {"minutes": "ten"})
    assert bad.status_code == 422


def test_the_page_hides_the_questions_during_a_break(learner, learner_client, started):
    attempt, _ = started
    page = reverse("exams:attempt", args=[attempt.pk])
    html = learner_client.get(page).content.decode()
    assert "Take a break" in html and "2 rest breaks of up to 10 minutes left" in html
    response = learner_client.post(reverse("exams:attempt_break", args=[attempt.pk]))
    assert response["Location"] == page
    html = learner_client.get(page).content.decode()
    assert "On a break" in html and "Resume now" in html
    assert "data-item=" not in html
    submitted = learner_client.post(reverse("exams:attempt_submit", args=[attempt.pk]))
    assert submitted["Location"] == page
    assert Attempt.objects.get(pk=attempt.pk).status == AttemptStatus.IN_PROGRESS
    learner_client.post(reverse("exams:attempt_resume", args=[attempt.pk]))
    html = learner_client.get(page).content.decode()
    assert "On a break" not in html and "data-item=" in html
    assert "1 rest break of up to 10 minutes left" in html
