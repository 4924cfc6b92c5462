"""The answer save's own SQL (exams.save_sql) and its race with the submit.

The save reads the item and its attempt in one statement and writes with one
UPDATE that itself re-checks that the attempt is still open (share-locking it
on PostgreSQL), so a submit (or the deadline) between the read and the write
is refused with 409, never a lost or late answer. Both are prepared
statements on PostgreSQL.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exams import save_sql, services
from exams.models import AttemptItem, AttemptStatus, QuestionKind
from lms.errors import DomainError
from tests.exams.factories import make_exam

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(learner):
    exam = make_exam(topics=1, draw=3, pool=3, multiple_every=2)
    attempt, _ = services.attempt_start(person=learner, exam=exam)
    return attempt, list(attempt.items.order_by("position"))


def test_read_item_gives_the_values_the_orm_gives(learner, started):
    attempt, items = started
    item = items[0]
    services.attempt_item_save(
        person=learner, attempt_id=attempt.pk, item_id=item.pk, choice_ids=[item.choice_order[1]]
    )
    row = save_sql.read_item(attempt_id=attempt.pk, item_id=item.pk, person_id=learner.pk)
    stored = AttemptItem.objects.select_related("attempt__exam", "question_version__question").get(
        pk=item.pk
    )
    assert row == save_sql.SaveRow(
        choice_order=stored.choice_order,
        selected_choice_ids=[item.choice_order[1]],
        flagged=False,
        answered_at=stored.answered_at,
        attempt_status=AttemptStatus.IN_PROGRESS,
        deadline=stored.attempt.deadline,
        grace_seconds=stored.attempt.exam.grace_seconds,
        kind=stored.question_version.question.kind,
    )
    assert row.deadline.tzinfo is not None and row.answered_at.tzinfo is not None
    assert row.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


def test_read_item_finds_nothing_for_someone_else_or_another_attempt(learner, other, started):
    attempt, items = started
    for kwargs in (
        {"attempt_id": attempt.pk, "item_id": items[0].pk, "person_id": other.pk},
        {"attempt_id": attempt.pk + 1000, "item_id": items[0].pk, "person_id": learner.pk},
        {"attempt_id": attempt.pk, "item_id": items[0].pk + 1000, "person_id": learner.pk},
    ):
        assert save_sql.read_item(**kwargs) is None


def test_write_item_writes_only_while_the_attempt_is_open(started):
    attempt, items = started
    item = items[0]
    now = timezone.now()
    changes = {"selected_choice_ids": [item.choice_order[0]], "answered_at": now}
    assert save_sql.write_item(
        item_id=item.pk, changes=changes, attempt_id=attempt.pk, open_since=now
    )
    assert AttemptItem.objects.get(pk=item.pk).selected_choice_ids == [item.choice_order[0]]
    # a deadline before `open_since`: nothing written
    later = attempt.deadline + timedelta(seconds=1)
    changes = {"selected_choice_ids": [item.choice_order[1]], "answered_at": later}
    assert not save_sql.write_item(
        item_id=item.pk, changes=changes, attempt_id=attempt.pk, open_since=later
    )
    assert AttemptItem.objects.get(pk=item.pk).selected_choice_ids == [item.choice_order[0]]
    # submitted: nothing written
    services.attempt_submit(person=attempt.person, attempt_id=attempt.pk)
    assert not save_sql.write_item(
        item_id=item.pk, changes=changes, attempt_id=attempt.pk, open_since=now
    )


def test_write_item_checks_the_items_own_attempt(started):
    attempt, items = started
    now = timezone.now()
    changes = {"flagged": True}
    assert not save_sql.write_item(
        item_id=items[0].pk, changes=changes, attempt_id=attempt.pk + 1000, open_since=now
    )
    assert AttemptItem.objects.get(pk=items[0].pk).flagged is False


def test_write_item_refuses_fields_it_does_not_write(started):
    attempt, items = started
    where = {"item_id": items[0].pk, "attempt_id": attempt.pk, "open_since": timezone.now()}
    with pytest.raises(ValueError):
        save_sql.write_item(**where, changes={"position": 3})
    with pytest.raises(ValueError):
        save_sql.write_item(**where, changes={})


def save_first_option(learner, item, *, now):
    return services.attempt_item_save(
        person=learner,
        attempt_id=item.attempt_id,
        item_id=item.pk,
        choice_ids=[item.choice_order[0]],
        now=now,
    )


def test_a_submit_between_read_and_write_is_refused_not_lost(learner, started, monkeypatch):
    attempt, items = started
    item = items[0]
    services.attempt_submit(person=learner, attempt_id=attempt.pk)
    real = save_sql.read_item
    reads = []

    def read_as_before_the_submit(**kwargs):
        row = real(**kwargs)
        reads.append(row.attempt_status)
        if len(reads) == 1:  # the read before the write still saw the attempt open
            return save_sql.SaveRow(**{**row.__dict__, "attempt_status": "in_progress"})
        return row

    monkeypatch.setattr(save_sql, "read_item", read_as_before_the_submit)
    with pytest.raises(DomainError) as refused:
        save_first_option(learner, item, now=timezone.now())
    assert (refused.value.status, refused.value.code) == (409, "attempt_closed")
    assert reads == [AttemptStatus.SUBMITTED, AttemptStatus.SUBMITTED]  # re-read to say why
    assert AttemptItem.objects.get(pk=item.pk).selected_choice_ids == []


def test_the_deadline_passing_between_read_and_write_is_refused(learner, started, monkeypatch):
    attempt, items = started
    item = items[0]
    late = attempt.deadline + timedelta(seconds=attempt.exam.grace_seconds + 1)
    real = save_sql.read_item
    reads = []

    def read_as_if_earlier(**kwargs):
        row = real(**kwargs)
        reads.append(row)
        if len(reads) == 1:  # the read saw a deadline still ahead
            return save_sql.SaveRow(**{**row.__dict__, "deadline": late + timedelta(hours=1)})
        return row

    monkeypatch.setattr(save_sql, "read_item", read_as_if_earlier)
    with pytest.raises(DomainError) as refused:
        save_first_option(learner, item, now=late)
    assert (refused.value.status, refused.value.code) == (409, "attempt_closed")
    assert AttemptItem.objects.get(pk=item.pk).selected_choice_ids == []


def test_a_save_writes_the_item_and_returns_it_as_stored(learner, started):
    attempt, items = started
    saved = services.attempt_item_save(
        person=learner,
        attempt_id=attempt.pk,
        item_id=items[1].pk,
        choice_ids=[items[1].choice_order[0]],
        flagged=True,
    )
    stored = AttemptItem.objects.get(pk=items[1].pk)
    assert stored.selected_choice_ids == saved.selected_choice_ids == [items[1].choice_order[0]]
    assert stored.flagged is True and stored.answered_at == saved.answered_at


def test_the_save_is_two_statements_and_no_transaction(learner, started):
    attempt, items = started
    with CaptureQueriesContext(connection) as queries:
        services.attempt_item_save(
            person=learner, attempt_id=attempt.pk, item_id=items[0].pk, flagged=True
        )
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements == ["SELECT", "UPDATE"]
