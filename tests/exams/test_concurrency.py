"""Real parallel calls against PostgreSQL (SQLite serialises writers anyway)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from exams import services
from exams.models import Attempt, AttemptItem, AttemptStatus
from exams.signals import attempt_passed
from tests.exams.factories import make_exam
from tests.lms.factories import UserFactory

THREADS = 10

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def run_together(target, args_list):
    """Run target(*args) in one thread each, released at the same moment."""
    barrier = threading.Barrier(len(args_list))
    outcomes = []
    lock = threading.Lock()

    def run(*args):
        try:
            barrier.wait(timeout=10)
            outcome = target(*args)
        except Exception as error:  # surfaced by the caller's assertions
            outcome = error
        finally:
            connection.close()  # this thread's own connection
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("friendly_check", [True, False], ids=["with-check", "constraint-only"])
def test_parallel_starts_give_one_attempt(friendly_check, monkeypatch):
    person = UserFactory()
    exam = make_exam(topics=2, draw=5, pool=10)
    if not friendly_check:
        # Every thread reaches the INSERT: the constraint alone must decide.
        real_filter = Attempt.objects.filter
        calls = threading.local()

        def blind_filter(*args, **kwargs):
            queryset = real_filter(*args, **kwargs)
            if (
                kwargs.get("status") == AttemptStatus.IN_PROGRESS
                and "person" in kwargs
                and not getattr(calls, "n", 0)
            ):
                calls.n = 1
                return queryset.none()
            return queryset

        monkeypatch.setattr(Attempt.objects, "filter", blind_filter)

    outcomes = run_together(
        lambda: services.attempt_start(person=person, exam=exam), [()] * THREADS
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert Attempt.objects.filter(person=person, exam=exam).count() == 1
    attempt = Attempt.objects.get()
    assert {o[0].pk for o in outcomes} == {attempt.pk}
    assert sum(1 for o in outcomes if o[1]) == 1
    assert attempt.items.count() == 10


@pytest.mark.django_db(transaction=True)
def test_parallel_submits_score_once_and_signal_once():
    person = UserFactory()
    exam = make_exam(topics=2, draw=3, pool=3)
    attempt, _ = services.attempt_start(person=person, exam=exam)
    for item in attempt.items.select_related("question_version"):
        services.attempt_answer(
            person=person,
            attempt_id=attempt.pk,
            item_id=item.pk,
            choice_ids=list(
                item.question_version.choices.filter(is_correct=True).values_list("id", flat=True)
            ),
        )
    received = []

    def receiver(sender, attempt, **kwargs):
        received.append(attempt.pk)

    attempt_passed.connect(receiver)
    claims = Counter()
    real_store = services._store_score

    def counting_store(attempt, result):
        claims[attempt.pk] += 1
        return real_store(attempt, result)

    services._store_score = counting_store
    try:
        outcomes = run_together(
            lambda: services.attempt_submit(person=person, attempt_id=attempt.pk), [()] * THREADS
        )
    finally:
        services._store_score = real_store
        attempt_passed.disconnect(receiver)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert claims == {attempt.pk: 1}
    assert received == [attempt.pk]
    results = {(o.status, o.score_percent, o.passed, o.submitted_at) for o in outcomes}
    assert len(results) == 1
    assert next(iter(results))[2] is True


@pytest.mark.django_db(transaction=True)
def test_parallel_answer_saves_all_land():
    person = UserFactory()
    exam = make_exam(topics=2, draw=10, pool=10, multiple_every=0)
    attempt, _ = services.attempt_start(person=person, exam=exam)
    items = list(attempt.items.order_by("position"))
    calls = [(item, item.choice_order[i % 4]) for i in range(2) for item in items]

    def save(item, choice_id):
        services.attempt_answer(
            person=person, attempt_id=attempt.pk, item_id=item.pk, choice_ids=[choice_id]
        )
        return choice_id

    outcomes = run_together(save, calls)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    saved = dict(
        AttemptItem.objects.filter(attempt=attempt).values_list("pk", "selected_choice_ids")
    )
    assert all(len(value) == 1 for value in saved.values())
    assert len(saved) == 20


@pytest.mark.django_db(transaction=True)
def test_answer_racing_submit_is_either_scored_or_refused():
    person = UserFactory()
    exam = make_exam(topics=1, draw=4, pool=4, multiple_every=0)
    attempt, _ = services.attempt_start(person=person, exam=exam)
    items = list(attempt.items.select_related("question_version"))

    def answer(item):
        right = item.question_version.choices.get(is_correct=True).pk
        services.attempt_answer(
            person=person, attempt_id=attempt.pk, item_id=item.pk, choice_ids=[right]
        )
        return "saved"

    def submit():
        return services.attempt_submit(person=person, attempt_id=attempt.pk)

    outcomes = run_together(lambda f, *a: f(*a), [(answer, item) for item in items] + [(submit,)])
    saved_before_score = sum(1 for o in outcomes if o == "saved")
    refused = [o for o in outcomes if isinstance(o, services.AttemptClosed)]
    assert saved_before_score + len(refused) == 4
    attempt.refresh_from_db()
    # Every answer that was accepted is in the score; none was accepted after it.
    assert attempt.score_correct == saved_before_score
