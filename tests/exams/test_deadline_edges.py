"""The deadline is the server's: answers, submits and reads at its edges, with a frozen clock.

The server clock (`django.utils.timezone.now`) is frozen with unittest.mock at
exact instants: the deadline, deadline + grace - 1 s, deadline + grace, and
deadline + grace + 1 s. Requests go through the API (and the attempt page).
Whatever the client says about time (a `Date` header, its own countdown)
plays no part.
"""

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from exams import services
from exams.models import Attempt, AttemptItem, AttemptStatus
from lms.tokens import token_create
from tests.exams.factories import make_exam
from tests.lms.factories import MODEL_BACKEND

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)


class FrozenClock:
    """A server clock that only moves when the test moves it."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at


@pytest.fixture
def clock():
    start = datetime.now(UTC).replace(microsecond=0)
    frozen = FrozenClock(start)
    with mock.patch("django.utils.timezone.now", frozen):
        yield frozen


@pytest.fixture
def bearer(learner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=learner, name='t')[1]}"}


@pytest.fixture
def timed_exam(db):
    return make_exam(topics=1, draw=3, pool=3, multiple_every=0, time_limit_minutes=30)


@pytest.fixture
def started(clock, timed_exam, bearer):
    """An attempt started through the API at the frozen instant `clock.at`."""
    response = Client().post(f"/api/v1/exams/{timed_exam.slug}/attempts", **bearer)
    assert response.status_code == 201, response.content
    return Attempt.objects.select_related("exam").get(pk=response.json()["id"])


def put(bearer, attempt, item, choice_ids, **extra):
    return Client().put(
        f"/api/v1/attempts/{attempt.pk}/items/{item.pk}",
        json.dumps({"choice_ids": choice_ids}),
        content_type="application/json",
        **bearer,
        **extra,
    )


def first_item(attempt) -> AttemptItem:
    return attempt.items.order_by("position").first()


def test_deadline_is_computed_from_the_server_clock(clock, started, bearer):
    assert started.started_at == clock.at
    assert started.deadline == clock.at + timedelta(minutes=30)
    body = Client().get(f"/api/v1/attempts/{started.pk}", **bearer).json()
    assert datetime.fromisoformat(body["deadline"].replace("Z", "+00:00")) == started.deadline
    assert datetime.fromisoformat(body["server_time"].replace("Z", "+00:00")) == clock.at


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (-SECOND, True),
        (timedelta(0), True),  # exactly at the deadline
        ("grace - 1s", True),
        ("grace", True),  # the last accepted instant
        ("grace + 1s", False),
        (timedelta(hours=5), False),
    ],
    ids=["deadline-1s", "deadline", "grace-1s", "grace", "grace+1s", "hours-later"],
)
def test_answer_at_the_edges(offset, accepted, clock, started, bearer):
    grace = timedelta(seconds=started.exam.grace_seconds)
    assert grace == timedelta(seconds=10)  # the model's default
    offsets = {"grace - 1s": grace - SECOND, "grace": grace, "grace + 1s": grace + SECOND}
    item = first_item(started)
    before = put(bearer, started, item, [item.choice_order[0]])
    assert before.status_code == 200

    clock.set(started.deadline + offsets.get(offset, offset))
    response = put(bearer, started, item, [item.choice_order[1]])
    item.refresh_from_db()
    if accepted:
        assert response.status_code == 200, response.content
        assert item.selected_choice_ids == [item.choice_order[1]]
        assert item.answered_at == clock.at
    else:
        assert response.status_code == 409, response.content
        body = response.json()
        assert body["code"] == "attempt_closed"
        assert body["closed_because"] == "deadline"
        assert item.selected_choice_ids == [item.choice_order[0]]  # what was saved in time


@pytest.mark.parametrize("grace_seconds", [0, 30])
def test_the_edges_follow_the_exams_grace(grace_seconds, clock, timed_exam, bearer):
    timed_exam.grace_seconds = grace_seconds
    timed_exam.save(update_fields=["grace_seconds"])
    attempt = Attempt.objects.get(
        pk=Client().post(f"/api/v1/exams/{timed_exam.slug}/attempts", **bearer).json()["id"]
    )
    item = first_item(attempt)
    edge = attempt.deadline + timedelta(seconds=grace_seconds)
    clock.set(edge - SECOND)
    assert put(bearer, attempt, item, [item.choice_order[0]]).status_code == 200
    clock.set(edge)
    assert put(bearer, attempt, item, [item.choice_order[1]]).status_code == 200
    clock.set(edge + SECOND)
    assert put(bearer, attempt, item, [item.choice_order[2]]).status_code == 409


@pytest.mark.parametrize(
    ("client_date", "server_offset", "expected"),
    [
        # The client claims it is still early: the server says the time is over.
        ("at start", "grace + 1s", 409),
        # The client claims it is long past the deadline: the server says there is time.
        ("a day later", "deadline - 1s", 200),
    ],
)
def test_the_clients_clock_plays_no_part(
    client_date, server_offset, expected, clock, started, bearer
):
    grace = timedelta(seconds=started.exam.grace_seconds)
    claimed = {"at start": started.started_at, "a day later": started.deadline + timedelta(days=1)}
    server = {
        "grace + 1s": started.deadline + grace + SECOND,
        "deadline - 1s": started.deadline - SECOND,
    }
    clock.set(server[server_offset])
    item = first_item(started)
    response = put(
        bearer,
        started,
        item,
        [item.choice_order[0]],
        HTTP_DATE=format_datetime(claimed[client_date], usegmt=True),
    )
    assert response.status_code == expected, response.content


def test_time_fields_in_the_body_are_refused_not_trusted(clock, started, bearer):
    item = first_item(started)
    clock.set(started.deadline + timedelta(minutes=5))
    response = Client().put(
        f"/api/v1/attempts/{started.pk}/items/{item.pk}",
        json.dumps({"choice_ids": [item.choice_order[0]], "answered_at": str(started.started_at)}),
        content_type="application/json",
        **bearer,
    )
    assert response.status_code == 422
    item.refresh_from_db()
    assert item.selected_choice_ids == []


def _answer_all_right(bearer, attempt):
    for item in attempt.items.select_related("question_version"):
        right = item.question_version.choices.get(is_correct=True).pk
        assert put(bearer, attempt, item, [right]).status_code == 200


def test_submit_within_grace_is_submitted_at_the_deadline(clock, started, bearer):
    _answer_all_right(bearer, started)
    clock.set(started.deadline + timedelta(seconds=started.exam.grace_seconds) - SECOND)
    response = Client().post(f"/api/v1/attempts/{started.pk}/submit", **bearer)
    assert response.status_code == 200
    assert response.json()["status"] == AttemptStatus.SUBMITTED
    started.refresh_from_db()
    assert started.submitted_at == started.deadline  # never later than the deadline
    assert started.score_correct == 3


def test_submit_after_grace_finalises_as_expired_with_the_answers_saved_in_time(
    clock, started, bearer
):
    items = list(started.items.select_related("question_version").order_by("position"))
    right = {i.pk: i.question_version.choices.get(is_correct=True).pk for i in items}
    clock.set(started.deadline)  # two answers saved exactly at the deadline
    for item in items[:2]:
        assert put(bearer, started, item, [right[item.pk]]).status_code == 200
    clock.set(started.deadline + timedelta(seconds=started.exam.grace_seconds) + SECOND)
    assert put(bearer, started, items[2], [right[items[2].pk]]).status_code == 409
    response = Client().post(f"/api/v1/attempts/{started.pk}/submit", **bearer)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == AttemptStatus.EXPIRED
    assert (body["correct"], body["total"]) == (2, 3)
    started.refresh_from_db()
    assert started.submitted_at == started.deadline


def test_reading_after_grace_finalises_lazily_but_not_before(clock, started, bearer):
    grace = timedelta(seconds=started.exam.grace_seconds)
    clock.set(started.deadline + grace)
    body = Client().get(f"/api/v1/attempts/{started.pk}", **bearer).json()
    assert body["status"] == AttemptStatus.IN_PROGRESS and body["result"] is None
    clock.set(started.deadline + grace + SECOND)
    body = Client().get(f"/api/v1/attempts/{started.pk}", **bearer).json()
    assert body["status"] == AttemptStatus.EXPIRED and body["result"] is not None


def test_attempt_page_after_grace_shows_the_result(clock, started, learner):
    client = Client()
    client.force_login(learner, backend=MODEL_BACKEND)
    url = reverse("exams:attempt", args=[started.pk])
    clock.set(started.deadline + timedelta(seconds=started.exam.grace_seconds))
    assert client.get(url).status_code == 200
    clock.set(started.deadline + timedelta(seconds=started.exam.grace_seconds) + SECOND)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("exams:attempt_result", args=[started.pk])


def test_the_overdue_job_at_the_edges(clock, started):
    grace = timedelta(seconds=started.exam.grace_seconds)
    assert services.attempt_finalise_overdue(now=started.deadline + grace) == 0
    clock.set(started.deadline + grace)
    assert services.attempt_finalise_overdue() == 0
    clock.set(started.deadline + grace + SECOND)
    assert services.attempt_finalise_overdue() == 1
    started.refresh_from_db()
    assert started.status == AttemptStatus.EXPIRED
    assert started.submitted_at == started.deadline
