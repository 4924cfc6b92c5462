"""lms.outbox: after-commit work recorded with its cause, run once, never lost.

The test settings run django-q2 tasks inline (`sync`), so "queued on commit"
means "run on commit" here; the tests that need a queue that fails or a
message that is lost replace `async_task` or capture the commit callbacks.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule
from redis.exceptions import ConnectionError as RedisConnectionError

from lms import tasks as lms_tasks
from lms.models import OutboxTask
from lms.outbox import (
    backoff,
    outbox_counts,
    outbox_enqueue,
    outbox_retry,
    outbox_run,
    outbox_sweep,
)
from tests.lms import outbox_tasks
from tests.lms.factories import UserFactory

RECORD = "tests.lms.outbox_tasks.record"


@pytest.fixture(autouse=True)
def _fresh_runs():
    outbox_tasks.RUNS.clear()
    yield
    outbox_tasks.RUNS.clear()


@pytest.fixture
def queue_down(monkeypatch, settings):
    """django-q2 as with Redis down: queueing raises (and nothing runs inline)."""
    import django_q.tasks

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}

    def unreachable(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(django_q.tasks, "async_task", unreachable)
    return monkeypatch


def queue_up(monkeypatch, settings):
    import django_q.tasks

    monkeypatch.undo()
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    assert django_q.tasks.async_task.__module__ == "django_q.tasks"


def expire_claim(row: OutboxTask) -> None:
    """Time passes: the row's claim (and due time) run out."""
    past = timezone.now() - timedelta(seconds=1)
    OutboxTask.objects.filter(pk=row.pk).update(claimed_until=past, due_at=past)


# --- the row and its cause -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_row_commits_with_its_cause_and_runs_after_commit():
    with transaction.atomic():
        UserFactory(email="cause@example.com")
        row = outbox_enqueue(RECORD, "issued")
        assert outbox_tasks.RUNS == []  # nothing runs before the commit
    row.refresh_from_db()
    assert outbox_tasks.RUNS == ["issued"]
    assert row.done_at is not None
    assert row.attempts == 1
    assert (row.args, row.kwargs) == ([], {})  # the payload is cleared once done


@pytest.mark.django_db(transaction=True)
def test_the_row_vanishes_with_a_rollback():
    with pytest.raises(RuntimeError), transaction.atomic():
        UserFactory(email="cause@example.com")
        outbox_enqueue(RECORD, "never")
        raise RuntimeError("the cause fails")
    assert not OutboxTask.objects.exists()
    assert outbox_tasks.RUNS == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_takes_its_row_along():
    with transaction.atomic():
        outbox_enqueue(RECORD, "kept")
        try:
            with transaction.atomic():
                outbox_enqueue(RECORD, "lost")
                raise RuntimeError
        except RuntimeError:
            pass
    assert outbox_tasks.RUNS == ["kept"]
    assert list(OutboxTask.objects.values_list("task", flat=True)) == [RECORD]


def test_a_wrong_task_path_fails_in_the_cause(db):
    with pytest.raises(ImportError):
        outbox_enqueue("tests.lms.outbox_tasks.no_such_function", 1)
    assert not OutboxTask.objects.exists()


def test_arguments_must_be_json(db):
    with pytest.raises(TypeError):
        outbox_enqueue(RECORD, object())


# --- a killed worker -----------------------------------------------------------------------


def test_a_worker_killed_after_claiming_is_run_again_by_the_sweep_once(
    db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # its queue message is lost
        row = outbox_enqueue("tests.lms.outbox_tasks.die_once", "render")
    with pytest.raises(outbox_tasks.WorkerKilled):
        outbox_run(task_id=row.pk)  # claimed, then the worker dies
    row.refresh_from_db()
    assert row.done_at is None and row.claimed_until > timezone.now()
    assert row.attempts == 1

    # While the claim holds, nobody runs it: not a duplicate message, not the sweep.
    assert outbox_run(task_id=row.pk).ran is False
    assert outbox_sweep().queued == 0

    expire_claim(row)
    assert outbox_sweep().queued == 1  # queued again, and (inline) run
    row.refresh_from_db()
    assert row.done_at is not None
    assert row.attempts == 2
    assert outbox_tasks.RUNS == ["render"]

    # Done is done: later sweeps and stray messages change nothing.
    assert outbox_sweep(now=timezone.now() + timedelta(days=1)).queued == 0
    assert outbox_run(task_id=row.pk).ran is False
    assert outbox_tasks.RUNS == ["render"]


def test_a_lost_queue_message_is_queued_again_once_due(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        row = outbox_enqueue(RECORD, "mail")
    assert outbox_sweep().queued == 0  # not due yet: its message may still be in the queue
    assert outbox_counts()["overdue"] == 0
    later = row.due_at + timedelta(seconds=1)
    assert outbox_counts(now=later) == {"pending": 1, "overdue": 1, "failed": 0}
    assert outbox_sweep(now=later).queued == 1
    assert outbox_tasks.RUNS == ["mail"]
    assert outbox_counts() == {"pending": 0, "overdue": 0, "failed": 0}


# --- the queue unavailable at commit ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_with_the_queue_down_the_cause_commits_and_the_sweep_queues_it_later(queue_down, settings):
    with transaction.atomic():
        UserFactory(email="cause@example.com")
        row = outbox_enqueue(RECORD, "certificate")
    # The cause is committed; the work waits in the database, due now.
    from django.contrib.auth import get_user_model

    assert get_user_model().objects.filter(email="cause@example.com").exists()
    row.refresh_from_db()
    assert row.done_at is None and row.attempts == 0
    assert row.due_at <= timezone.now()
    assert outbox_counts()["overdue"] == 1
    # A sweep while the queue is still down queues nothing and loses nothing.
    assert outbox_sweep().queued == 0
    expire_claim(row)

    queue_up(queue_down, settings)
    assert outbox_sweep().queued == 1
    row.refresh_from_db()
    assert row.done_at is not None
    assert outbox_tasks.RUNS == ["certificate"]


def test_the_sweep_is_scheduled_every_minute(db):
    schedule = Schedule.objects.get(func="lms.tasks.sweep_outbox")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    assert lms_tasks.sweep_outbox() == 0


# --- failures, back-off and the attempt limit -----------------------------------------------


def test_a_failure_is_recorded_and_retried_after_a_back_off(
    db, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=False):
        row = outbox_enqueue("tests.lms.outbox_tasks.fail", "zip")
    with pytest.raises(RuntimeError):
        outbox_run(task_id=row.pk)
    row.refresh_from_db()
    assert "RuntimeError: zip failed" in row.last_error
    assert row.claimed_until is None
    assert row.due_at > timezone.now() + backoff(1) - timedelta(seconds=5)
    assert outbox_sweep().queued == 0  # backing off

    with pytest.raises(RuntimeError):  # due again: the sweep queues it (run inline: fails)
        outbox_sweep(now=row.due_at + timedelta(seconds=1))
    row.refresh_from_db()
    assert row.attempts == 2
    # Given up: the sweep leaves it, /healthz counts it, a person may retry it.
    assert outbox_sweep(now=timezone.now() + timedelta(days=1)).queued == 0
    assert outbox_counts() == {"pending": 1, "overdue": 0, "failed": 1}
    assert outbox_run(task_id=row.pk).ran is False


def test_a_person_retries_a_given_up_task(db, settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=False):
        row = outbox_enqueue("tests.lms.outbox_tasks.die_once", "retry-me")
    with pytest.raises(outbox_tasks.WorkerKilled):
        outbox_run(task_id=row.pk)
    expire_claim(row)
    assert outbox_sweep().queued == 0  # one attempt allowed, used
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry(task_ids=[row.pk]) == 1
    row.refresh_from_db()
    assert row.done_at is not None
    assert outbox_tasks.RUNS == ["retry-me"]


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [60, 120, 240, 3600, 3600]


def test_the_sweep_deletes_old_done_rows(db, settings):
    settings.OUTBOX_KEEP_DAYS = 7
    now = timezone.now()
    old = OutboxTask.objects.create(task=RECORD, due_at=now, done_at=now - timedelta(days=8))
    recent = OutboxTask.objects.create(task=RECORD, due_at=now, done_at=now - timedelta(days=1))
    pending = OutboxTask.objects.create(task=RECORD, args=["x"], due_at=now + timedelta(hours=1))
    assert outbox_sweep(now=now).deleted == 1
    assert set(OutboxTask.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not OutboxTask.objects.filter(pk=old.pk).exists()


def test_the_sweep_and_the_counts_cost_a_fixed_number_of_queries(
    db, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for size in (1, 6):
        OutboxTask.objects.all().delete()
        with django_capture_on_commit_callbacks(execute=False):
            for n in range(size):
                outbox_enqueue(RECORD, f"row {n}")
        with django_assert_num_queries(1):
            outbox_counts()
        # The sweep: one read, one delete; per row due, one UPDATE (then its run).
        with django_assert_num_queries(2):
            outbox_sweep()


# --- the tasks moved onto it -------------------------------------------------------------------


def test_a_pdf_whose_render_task_runs_twice_is_rendered_once(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    from certificates import pdf
    from certificates.services import RENDER_TASK
    from certificates.tasks import render_certificate
    from tests.certificates.factories import CredentialFactory

    renders = []
    monkeypatch.setattr(
        pdf, "render_certificate_pdf", lambda credential: renders.append(credential.pk) or b"%PDF"
    )
    credential = CredentialFactory()
    with django_capture_on_commit_callbacks(execute=False):
        row = outbox_enqueue(RENDER_TASK, credential.pk)
    # The task itself, twice (a retried message, a sweep after a killed worker).
    assert render_certificate(credential.pk) is True
    assert render_certificate(credential.pk) is False
    # And through the outbox: its claim says it runs once more at most, and
    # the stored file makes that run a no-op.
    assert outbox_run(task_id=row.pk).ran is True
    assert outbox_run(task_id=row.pk).ran is False
    assert renders == [credential.pk]
    credential.refresh_from_db()
    assert credential.pdf.name and credential.pdf_rendered_at is not None


def test_a_worker_dying_mid_render_has_the_pdf_rendered_again_once(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    from certificates import pdf
    from certificates.services import RENDER_TASK
    from tests.certificates.factories import CredentialFactory

    renders = []

    def render(credential):
        renders.append(credential.pk)
        if len(renders) == 1:
            raise outbox_tasks.WorkerKilled("mid-render")
        return b"%PDF"

    monkeypatch.setattr(pdf, "render_certificate_pdf", render)
    credential = CredentialFactory()
    with django_capture_on_commit_callbacks(execute=False):
        row = outbox_enqueue(RENDER_TASK, credential.pk)
    with pytest.raises(outbox_tasks.WorkerKilled):
        outbox_run(task_id=row.pk)
    credential.refresh_from_db()
    assert not credential.pdf  # nothing stored by the run that died

    expire_claim(row)
    assert outbox_sweep().queued == 1
    assert outbox_sweep(now=timezone.now() + timedelta(days=1)).queued == 0
    assert renders == [credential.pk, credential.pk]  # the dead run, and one more
    credential.refresh_from_db()
    assert credential.pdf.name and credential.pdf.storage.exists(credential.pdf.name)


def test_issuing_a_credential_records_its_render_in_the_same_transaction(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    from certificates import pdf
    from certificates.services import RENDER_TASK, credential_issue_if_eligible
    from tests.certificates.factories import CertificationFactory, meet_requirements

    monkeypatch.setattr(pdf, "render_certificate_pdf", lambda credential: b"%PDF")
    certification = CertificationFactory()
    person = UserFactory()
    meet_requirements(person=person, certification=certification)
    with django_capture_on_commit_callbacks(execute=False):
        credential, issued = credential_issue_if_eligible(
            person=person, certification=certification
        )
    assert issued
    row = OutboxTask.objects.get(task=RENDER_TASK)
    assert row.args == [credential.pk] and row.done_at is None
    assert outbox_run(task_id=row.pk).ran is True
    credential.refresh_from_db()
    assert credential.pdf.name


# --- parallel runners on PostgreSQL ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_parallel_runners_claim_a_row_once(settings):
    threads_count = 8
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    rows = []
    for n in range(5):
        rows.append(
            OutboxTask.objects.create(
                task=RECORD, args=[f"row {n}"], kwargs={"pause": 0.05}, due_at=timezone.now()
            )
        )
    outcomes = []
    lock = threading.Lock()
    start_together = threading.Barrier(threads_count)

    def runner():
        try:
            start_together.wait(timeout=10)
            for row in rows:
                ran = outbox_run(task_id=row.pk).ran
                with lock:
                    outcomes.append((row.pk, ran))
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(outcomes) == threads_count * len(rows)
    for row in rows:
        assert sum(ran for pk, ran in outcomes if pk == row.pk) == 1
    assert sorted(outbox_tasks.RUNS) == sorted(f"row {n}" for n in range(5))
    assert OutboxTask.objects.filter(done_at__isnull=False, attempts=1).count() == 5


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_parallel_sweeps_queue_a_due_row_once(monkeypatch, settings):
    import django_q.tasks

    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    queued = []
    lock = threading.Lock()

    def fake_queue(func, task_id, **kwargs):
        with lock:
            queued.append(task_id)

    monkeypatch.setattr(django_q.tasks, "async_task", fake_queue)
    now = timezone.now()
    rows = [OutboxTask.objects.create(task=RECORD, args=[n], due_at=now) for n in range(10)]
    start_together = threading.Barrier(4)

    def sweeper():
        try:
            start_together.wait(timeout=10)
            outbox_sweep()
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(queued) == sorted(row.pk for row in rows)


def test_a_superuser_sees_the_rows_and_retries_one_in_the_django_admin(
    db, client, django_capture_on_commit_callbacks, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=False):
        row = outbox_enqueue("tests.lms.outbox_tasks.die_once", "from-admin")
    with pytest.raises(outbox_tasks.WorkerKilled):
        outbox_run(task_id=row.pk)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/django-admin/lms/outboxtask/")
    assert listing.status_code == 200
    assert b"tests.lms.outbox_tasks.die_once" in listing.content
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/django-admin/lms/outboxtask/",
            {"action": "retry_now", "_selected_action": [row.pk]},
        )
    assert done.status_code == 302
    row.refresh_from_db()
    assert row.done_at is not None
    assert outbox_tasks.RUNS == ["from-admin"]
