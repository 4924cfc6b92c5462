"""After-commit work that is never lost: a row in the cause's transaction.

Contract:
- `outbox_enqueue(task, *args, **kwargs)` -> `OutboxTask`. Called inside the
  transaction of the change that causes the work (a credential issued, an
  invitation created): it inserts one row (the function's dotted path and
  its JSON arguments) that commits or rolls back with that change, and, on
  commit, queues the django-q2 task that runs it. When queueing fails (Redis
  down), the change stays committed, the row stays pending and due now, and
  the sweep queues it later. Outside a transaction the row commits at once.
- `outbox_run(task_id=)` -> `RunResult` (the django-q2 task body, through
  `lms.tasks.run_outbox_task`): claims the row with a conditional UPDATE
  (not done, not held by a live claim, under the attempt limit), so two
  workers never run it at once and a done row never runs again; calls the
  function; marks the row done and clears its payload. A failure records the
  error, sets the next try after a back-off and raises (django-q2 records
  the failure too); a killed worker's claim simply runs out.
- `outbox_sweep(now=)` -> `SweepResult` (every minute, `lms.tasks.sweep_outbox`):
  queues again every pending row that is due (its message lost with Redis or
  a killed worker, or a failure's back-off over) and not held, pushing its
  due time on by OUTBOX_REQUEUE_SECONDS first so parallel sweeps queue it
  once; deletes done rows older than OUTBOX_KEEP_DAYS.
- `outbox_retry(task_ids=)` -> count: a person's "try again" for given-up rows.
- `outbox_counts(now=)` -> `{pending, overdue, failed}` for /healthz (one query).

A task may run more than once (a worker killed after the work but before
the row was marked done; a claim that ran out under a very slow run): every
function queued here must be idempotent, and e-mails are sent at least once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import OutboxTask

logger = logging.getLogger(__name__)

RUN_TASK = "lms.tasks.run_outbox_task"
# `outbox_enqueue(SEND_EMAIL, subject=, body=, to=[...])`: an e-mail rendered by its cause.
SEND_EMAIL = "lms.tasks.send_email"
SWEEP_BATCH = 500
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
MAX_ERROR_LENGTH = 4000


@dataclass(frozen=True)
class RunResult:
    ran: bool
    value: object = None


@dataclass(frozen=True)
class SweepResult:
    queued: int
    deleted: int


def backoff(attempts: int) -> timedelta:
    """The wait before another run after `attempts` failed runs: 1, 2, 4... minutes, at most 1 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


def _claimable(now: datetime) -> Q:
    return Q(done_at__isnull=True, attempts__lt=settings.OUTBOX_MAX_ATTEMPTS) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    )


# --- queueing ----------------------------------------------------------------------


def _queue(task_id: int, *, task: str) -> bool:
    """Hand the row to django-q2; False (and the row due now) when the queue is unreachable."""
    from django_q.tasks import async_task

    inline = bool(settings.Q_CLUSTER.get("sync"))
    try:
        async_task(RUN_TASK, task_id, task_name=f"{task.rsplit('.', 1)[-1]}-{task_id}", sync=inline)
    except Exception as exc:
        if inline:
            raise  # the task itself failed, inline: let the caller see it
        logger.warning(
            "Could not queue %s #%s (%s); the outbox sweep will queue it", task, task_id, exc
        )
        OutboxTask.objects.filter(pk=task_id, done_at__isnull=True).update(due_at=timezone.now())
        return False
    return True


def outbox_enqueue(task: str, *args, **kwargs) -> OutboxTask:
    import_string(task)  # a wrong path fails here, in the cause, not later in a worker
    now = timezone.now()
    row = OutboxTask.objects.create(
        task=task,
        args=list(args),
        kwargs=kwargs,
        created_at=now,
        due_at=now + timedelta(seconds=settings.OUTBOX_REQUEUE_SECONDS),
    )
    transaction.on_commit(lambda: _queue(row.pk, task=task))
    return row


# --- running -----------------------------------------------------------------------


def outbox_run(*, task_id: int) -> RunResult:
    now = timezone.now()
    held_until = now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
    claimed = OutboxTask.objects.filter(_claimable(now), pk=task_id).update(
        claimed_until=held_until, due_at=held_until, attempts=F("attempts") + 1
    )
    if not claimed:
        return RunResult(ran=False)  # done, given up, or another worker holds it
    row = OutboxTask.objects.only("task", "args", "kwargs", "attempts").get(pk=task_id)
    try:
        value = import_string(row.task)(*row.args, **row.kwargs)
    except Exception as exc:
        failed_at = timezone.now()
        OutboxTask.objects.filter(pk=task_id, done_at__isnull=True).update(
            claimed_until=None,
            due_at=failed_at + backoff(row.attempts),
            last_error=f"{failed_at:%Y-%m-%d %H:%M:%S} UTC, run {row.attempts}: "
            f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH],
        )
        if row.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            logger.error(
                "%s #%s failed %d times; given up until someone retries it",
                row.task,
                task_id,
                row.attempts,
            )
        raise
    OutboxTask.objects.filter(pk=task_id, done_at__isnull=True).update(
        done_at=timezone.now(), claimed_until=None, args=[], kwargs={}
    )
    return RunResult(ran=True, value=value)


# --- the sweep -----------------------------------------------------------------------


def outbox_sweep(*, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    due = list(
        OutboxTask.objects.filter(_claimable(now), due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", "task", "due_at")[:SWEEP_BATCH]
    )
    next_due = now + timedelta(seconds=settings.OUTBOX_REQUEUE_SECONDS)
    queued = 0
    for pk, task, due_at in due:
        # Conditional: of two sweeps at once, one queues it.
        if not OutboxTask.objects.filter(pk=pk, due_at=due_at).update(due_at=next_due):
            continue
        if not _queue(pk, task=task):
            break  # the queue is down: the rest waits for the next sweep
        queued += 1
    deleted, _ = OutboxTask.objects.filter(
        done_at__lt=now - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    ).delete()
    if queued:
        logger.info("Outbox sweep queued %d overdue tasks again.", queued)
    return SweepResult(queued=queued, deleted=deleted)


def outbox_retry(*, task_ids) -> int:
    """Given-up or waiting rows run again: attempts reset, due now, queued after commit."""
    now = timezone.now()
    rows = list(
        OutboxTask.objects.filter(pk__in=list(task_ids), done_at__isnull=True).values_list(
            "pk", "task"
        )
    )
    OutboxTask.objects.filter(pk__in=[pk for pk, _ in rows]).update(
        attempts=0, due_at=now, claimed_until=None
    )
    for pk, task in rows:
        transaction.on_commit(lambda pk=pk, task=task: _queue(pk, task=task))
    return len(rows)


def outbox_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Pending rows, those overdue (due, not held, not given up) and those given up."""
    now = now or timezone.now()
    limit = settings.OUTBOX_MAX_ATTEMPTS
    return OutboxTask.objects.filter(done_at__isnull=True).aggregate(
        pending=Count("pk"),
        overdue=Count("pk", filter=_claimable(now) & Q(due_at__lte=now)),
        failed=Count("pk", filter=Q(attempts__gte=limit)),
    )
