"""Rest breaks under real parallel requests on PostgreSQL (SQLite serialises writers).

Two break starts at once: one is taken, the other refused. Saves racing a
break start each either land before the break or are refused with
`attempt_paused`, and after resuming they are sent again and all land. Two
resumes at once move the deadline once.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from exams import services
from exams.accommodations import services as accommodation_services
from exams.models import Attempt, AttemptItem
from tests.exams.factories import make_exam
from tests.exams.test_concurrency import bearer_for, no_errors, run_together
from tests.lms.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def _attempt_with_breaks(breaks=2):
    person = UserFactory()
    exam = make_exam(topics=2, draw=5, pool=10)
    accommodation_services.accommodation_grant(
        by=None,
        person=person,
        exam=exam,
        extra_time_percent=50,
        breaks=breaks,
        break_minutes=10,
        ends_on=timezone.localdate() + timedelta(days=1),
        reason="Rest breaks",
    )
    attempt, _ = services.attempt_start(person=person, exam=exam)
    return person, attempt


@pytest.mark.django_db(transaction=True)
def test_two_break_starts_at_once_take_one_break():
    person, attempt = _attempt_with_breaks()
    headers = bearer_for(person)

    def take_break():
        response = Client().post(
            f"/api/v1/attempts/{attempt.pk}/break", content_type="application/json", **headers
        )
        return response.status_code, response.json()

    outcomes = run_together(take_break, [()] * 2)
    no_errors(outcomes)
    assert Counter(status for status, _ in outcomes) == {200: 1, 409: 1}, outcomes
    assert [body["code"] for status, body in outcomes if status == 409] == ["break_in_progress"]
    stored = Attempt.objects.get(pk=attempt.pk)
    assert stored.breaks_taken == 1 and stored.break_started_at is not None


@pytest.mark.django_db(transaction=True)
def test_saves_racing_a_break_land_or_wait_and_none_is_lost():
    person, attempt = _attempt_with_breaks()
    headers = bearer_for(person)
    items = list(AttemptItem.objects.filter(attempt=attempt).order_by("position"))

    def save(item):
        response = Client().put(
            f"/api/v1/attempts/{attempt.pk}/items/{item.pk}",
            f'{{"choice_ids": [{item.choice_order[0]}]}}',
            content_type="application/json",
            **headers,
        )
        return item, response.status_code, response.json()

    def take_break():
        response = Client().post(
            f"/api/v1/attempts/{attempt.pk}/break", content_type="application/json", **headers
        )
        return None, response.status_code, response.json()

    outcomes = run_together(
        lambda call, arg: call(arg) if arg is not None else call(),
        [(save, item) for item in items] + [(take_break, None)],
    )
    no_errors(outcomes)
    assert {status for item, status, _ in outcomes if item is None} == {200}
    refused = [item for item, status, body in outcomes if item is not None and status == 409]
    assert all(
        body["code"] == "attempt_paused"
        for item, status, body in outcomes
        if item is not None and status == 409
    )
    assert {status for item, status, _ in outcomes if item is not None} <= {200, 409}
    # Those that landed are stored; after resuming, the queued ones are sent again.
    assert (
        Client()
        .post(f"/api/v1/attempts/{attempt.pk}/resume", content_type="application/json", **headers)
        .status_code
        == 200
    )
    for item in refused:
        assert save(item)[1] == 200
    stored = dict(
        AttemptItem.objects.filter(attempt=attempt).values_list("pk", "selected_choice_ids")
    )
    assert stored == {item.pk: [item.choice_order[0]] for item in items}


@pytest.mark.django_db(transaction=True)
def test_two_resumes_at_once_move_the_deadline_once():
    person, attempt = _attempt_with_breaks()
    start = timezone.now()
    services.attempt_break_start(person=person, attempt_id=attempt.pk, now=start)
    later = start + timedelta(minutes=3)

    outcomes = run_together(
        lambda: services.attempt_break_end(person=person, attempt_id=attempt.pk, now=later),
        [()] * 2,
    )
    no_errors(outcomes)
    stored = Attempt.objects.get(pk=attempt.pk)
    assert stored.break_started_at is None
    assert stored.deadline == attempt.deadline + timedelta(minutes=3)
    assert stored.paused_seconds == 180
