"""Real parallel calls against PostgreSQL (SQLite serialises writers anyway).

The issue's numbers: 20 parallel start requests give one attempt, 20 parallel
submits give one score (and one `attempt_passed`), 200 parallel answer saves
on one attempt all land and the stored state is the last write per item.
Requests go through the whole stack (Django test Client, bearer token, the
JSON API) from a pool of threads, each with its own database connection.
"""

import json
import queue
import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import Client

from exams import services
from exams.models import Attempt, AttemptItem, AttemptStatus
from exams.services import attempts as attempts_services
from exams.signals import attempt_passed
from lms.tokens import token_create
from tests.exams.factories import make_exam
from tests.lms.factories import UserFactory

THREADS = 20
SAVES = 200
SAVE_ITEMS = 50  # 200 saves = 4 rounds over 50 items

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


def run_pool(target, calls, *, workers=THREADS):
    """Run target(*call) for every call on `workers` threads, all released at once.

    Calls are taken in order (FIFO), so a call may wait for an earlier one
    without deadlock. Returns the outcomes in the order of `calls`.
    """
    todo: queue.Queue = queue.Queue()
    for index, call in enumerate(calls):
        todo.put((index, call))
    outcomes: list = [None] * len(calls)
    go = threading.Event()

    def worker():
        go.wait(timeout=10)
        try:
            while True:
                try:
                    index, call = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcomes[index] = target(*call)
                except Exception as error:  # surfaced by the caller's assertions
                    outcomes[index] = error
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return outcomes


def bearer_for(person) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=person, name='t')[1]}"}


def no_errors(outcomes):
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors[:3]


# --- start ---------------------------------------------------------------------------


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
    no_errors(outcomes)
    assert Attempt.objects.filter(person=person, exam=exam).count() == 1
    attempt = Attempt.objects.get()
    assert {o[0].pk for o in outcomes} == {attempt.pk}
    assert sum(1 for o in outcomes if o[1]) == 1
    assert attempt.items.count() == 10


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_start_requests_give_one_attempt():
    person = UserFactory()
    exam = make_exam(topics=2, draw=5, pool=10)
    headers = bearer_for(person)

    def start():
        response = Client().post(f"/api/v1/exams/{exam.slug}/attempts", **headers)
        return response.status_code, response.json()

    outcomes = run_together(start, [()] * THREADS)
    no_errors(outcomes)
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 200: THREADS - 1}, statuses
    attempt = Attempt.objects.get(person=person, exam=exam)
    assert attempt.status == AttemptStatus.IN_PROGRESS
    # Everybody got the same form: same attempt, same items, same option order.
    forms = {json.dumps(body["items"], sort_keys=True) for _, body in outcomes}
    assert {body["id"] for _, body in outcomes} == {attempt.pk}
    assert len(forms) == 1
    assert attempt.items.count() == 10


# --- submit --------------------------------------------------------------------------


def _answer_everything_right(person, attempt):
    for item in attempt.items.select_related("question_version"):
        services.attempt_answer(
            person=person,
            attempt_id=attempt.pk,
            item_id=item.pk,
            choice_ids=list(
                item.question_version.choices.filter(is_correct=True).values_list("id", flat=True)
            ),
        )


class _Claims:
    """Counts the calls that store a score and the `attempt_passed` signals."""

    def __init__(self, monkeypatch):
        self.stored = Counter()
        self.signalled = []
        real_store = attempts_services.attempt_score_store

        def counting_store(attempt, result):
            self.stored[attempt.pk] += 1
            return real_store(attempt, result)

        monkeypatch.setattr(attempts_services, "attempt_score_store", counting_store)

    def receiver(self, sender, attempt, **kwargs):
        self.signalled.append(attempt.pk)


@pytest.mark.django_db(transaction=True)
def test_parallel_submits_score_once_and_signal_once(monkeypatch):
    person = UserFactory()
    exam = make_exam(topics=2, draw=3, pool=3)
    attempt, _ = services.attempt_start(person=person, exam=exam)
    _answer_everything_right(person, attempt)
    claims = _Claims(monkeypatch)
    attempt_passed.connect(claims.receiver)
    try:
        outcomes = run_together(
            lambda: services.attempt_submit(person=person, attempt_id=attempt.pk), [()] * THREADS
        )
    finally:
        attempt_passed.disconnect(claims.receiver)
    no_errors(outcomes)
    assert claims.stored == {attempt.pk: 1}
    assert claims.signalled == [attempt.pk]
    results = {(o.status, o.score_percent, o.passed, o.submitted_at) for o in outcomes}
    assert len(results) == 1
    assert next(iter(results))[2] is True


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_submit_requests_give_one_score_and_one_signal(monkeypatch):
    person = UserFactory()
    exam = make_exam(topics=2, draw=4, pool=4)
    attempt, _ = services.attempt_start(person=person, exam=exam)
    _answer_everything_right(person, attempt)
    headers = bearer_for(person)
    claims = _Claims(monkeypatch)

    def submit():
        response = Client().post(f"/api/v1/attempts/{attempt.pk}/submit", **headers)
        return response.status_code, response.content

    attempt_passed.connect(claims.receiver)
    try:
        outcomes = run_together(submit, [()] * THREADS)
    finally:
        attempt_passed.disconnect(claims.receiver)
    no_errors(outcomes)
    assert {status for status, _ in outcomes} == {200}
    bodies = {content for _, content in outcomes}
    assert len(bodies) == 1, bodies  # every call answers the same body
    body = json.loads(bodies.pop())
    assert body["status"] == AttemptStatus.SUBMITTED and body["passed"] is True
    assert claims.stored == {attempt.pk: 1}
    assert claims.signalled == [attempt.pk]
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SUBMITTED
    assert attempt.score_correct == attempt.score_total == 8


# --- answer saves --------------------------------------------------------------------


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
    no_errors(outcomes)
    saved = dict(
        AttemptItem.objects.filter(attempt=attempt).values_list("pk", "selected_choice_ids")
    )
    assert all(len(value) == 1 for value in saved.values())
    assert len(saved) == 20


@pytest.mark.django_db(transaction=True)
def test_two_hundred_parallel_save_requests_all_land_last_write_wins():
    """200 PUTs from 20 threads: 4 rounds over 50 items, alternating options and flags.

    Items are saved in parallel; the writes to one item are ordered (a write is
    sent only once the previous write to that item has been answered), so the
    last write per item is well defined and must be what is stored.
    """
    person = UserFactory()
    # Single- and multiple-answer items alike (every third is multiple-answer).
    exam = make_exam(topics=2, draw=SAVE_ITEMS // 2, pool=SAVE_ITEMS // 2)
    attempt, _ = services.attempt_start(person=person, exam=exam)
    headers = bearer_for(person)
    items = list(attempt.items.select_related("question_version__question").order_by("position"))
    rounds = SAVES // len(items)
    assert rounds * len(items) == SAVES and rounds >= 2

    def payload(item, round_no):
        choice_id = item.choice_order[round_no % len(item.choice_order)]
        if round_no == 1:
            choices = []  # a clear in the middle must not stick either
        elif item.question_version.question.kind == "multiple" and round_no % 2:
            choices = sorted(item.choice_order[:2])
        else:
            choices = [choice_id]
        return {"choice_ids": choices, "flagged": bool(round_no % 2)}

    answered = {(item.pk, r): threading.Event() for item in items for r in range(rounds)}
    local = threading.local()

    def save(item, round_no):
        if round_no:
            assert answered[item.pk, round_no - 1].wait(timeout=60), "previous write lost"
        if not hasattr(local, "client"):
            local.client = Client()
        body = payload(item, round_no)
        try:
            response = local.client.put(
                f"/api/v1/attempts/{attempt.pk}/items/{item.pk}",
                json.dumps(body),
                content_type="application/json",
                **headers,
            )
        finally:
            answered[item.pk, round_no].set()
        assert response.status_code == 200, response.content
        echoed = response.json()
        assert echoed["selected_choice_ids"] == sorted(
            body["choice_ids"], key=item.choice_order.index
        )
        assert echoed["flagged"] is body["flagged"]
        return response.status_code

    calls = [(item, r) for r in range(rounds) for item in items]
    outcomes = run_pool(save, calls)
    no_errors(outcomes)
    assert outcomes == [200] * SAVES

    last = {item.pk: payload(item, rounds - 1) for item in items}
    stored = {
        pk: (selected, flagged, answered_at)
        for pk, selected, flagged, answered_at in AttemptItem.objects.filter(
            attempt=attempt
        ).values_list("pk", "selected_choice_ids", "flagged", "answered_at")
    }
    assert len(stored) == len(items)
    for item in items:
        selected, flagged, answered_at = stored[item.pk]
        assert sorted(selected) == sorted(last[item.pk]["choice_ids"]), item.pk
        assert flagged is last[item.pk]["flagged"]
        assert answered_at is not None
    # And the API reads back exactly that.
    form = Client().get(f"/api/v1/attempts/{attempt.pk}", **headers).json()["items"]
    assert {i["id"]: sorted(i["selected_choice_ids"]) for i in form} == {
        pk: sorted(body["choice_ids"]) for pk, body in last.items()
    }


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


@pytest.mark.django_db(transaction=True)
def test_a_save_waits_for_a_submit_in_progress_and_is_refused_after_it():
    """The save's UPDATE share-locks the attempt: while a submit holds the
    attempt (its claim UPDATE, not yet committed), the save waits; once the
    submit commits, the save finds the attempt closed (409), so it can never
    be accepted after the score was computed without it."""
    from django.db import transaction
    from django.utils import timezone

    person = UserFactory()
    exam = make_exam(topics=1, draw=2, pool=2, multiple_every=0)
    attempt, _ = services.attempt_start(person=person, exam=exam)
    item = attempt.items.order_by("position").first()
    claimed, release = threading.Event(), threading.Event()
    saved: queue.Queue = queue.Queue()

    def submit_held_open():
        try:
            with transaction.atomic():
                Attempt.objects.filter(pk=attempt.pk).update(
                    status=AttemptStatus.SUBMITTED, submitted_at=timezone.now()
                )
                claimed.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def save():
        try:
            services.attempt_answer(
                person=person,
                attempt_id=attempt.pk,
                item_id=item.pk,
                choice_ids=[item.choice_order[0]],
            )
            saved.put("saved")
        except Exception as error:
            saved.put(error)
        finally:
            connection.close()

    submitter = threading.Thread(target=submit_held_open)
    submitter.start()
    assert claimed.wait(timeout=10)
    saver = threading.Thread(target=save)
    saver.start()
    with pytest.raises(queue.Empty):  # waiting on the submit's row lock
        saved.get(timeout=1)
    release.set()
    submitter.join(timeout=10)
    outcome = saved.get(timeout=10)
    saver.join(timeout=10)
    assert isinstance(outcome, services.AttemptClosed), outcome
    assert AttemptItem.objects.get(pk=item.pk).selected_choice_ids == []
