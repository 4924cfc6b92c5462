"""The answer save's own SQL (exams.save_sql), the attempt forms each process
keeps (exams.attempt_forms), and the save's race with the submit.

A save checks the choice against the attempt's form (read once per process)
and writes with one UPDATE that itself re-checks that the attempt is still
open (share-locking it on PostgreSQL), so a submit (or the deadline) after
the form was read is refused with 409, never a lost or late answer.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exams import attempt_forms, save_sql, services
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
    saved = save_sql.write_item(
        item_id=item.pk, changes=changes, attempt_id=attempt.pk, open_since=now
    )
    stored = AttemptItem.objects.get(pk=item.pk)
    assert stored.selected_choice_ids == [item.choice_order[0]]
    assert saved == save_sql.Saved(
        selected_choice_ids=[item.choice_order[0]], flagged=False, answered_at=stored.answered_at
    )
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


def test_read_form_gives_every_item_of_the_persons_attempt(learner, other, started):
    attempt, items = started
    form = save_sql.read_form(attempt_id=attempt.pk, person_id=learner.pk)
    assert form.person_id == learner.pk
    assert form.deadline == attempt.deadline and form.deadline.tzinfo is not None
    assert form.grace_seconds == attempt.exam.grace_seconds
    assert form.items == {
        item.pk: save_sql.ItemForm(
            choice_order=tuple(item.choice_order), kind=item.question_version.question.kind
        )
        for item in items
    }
    assert save_sql.read_form(attempt_id=attempt.pk, person_id=other.pk) is None
    assert save_sql.read_form(attempt_id=attempt.pk + 1000, person_id=learner.pk) is None


def save_first_option(learner, item, *, now=None):
    return services.attempt_item_save(
        person=learner,
        attempt_id=item.attempt_id,
        item_id=item.pk,
        choice_ids=[item.choice_order[0]],
        now=now,
    )


def statements(queries) -> list[str]:
    return [q["sql"].split()[0].upper() for q in queries.captured_queries]


def test_the_form_is_read_once_then_a_save_is_one_update(learner, started):
    attempt, items = started
    with CaptureQueriesContext(connection) as first:
        save_first_option(learner, items[0])
    assert statements(first) == ["SELECT", "UPDATE"]  # the form, all items at once
    with CaptureQueriesContext(connection) as later:
        save_first_option(learner, items[1])
        save_first_option(learner, items[2])
        services.attempt_flag(
            person=learner, attempt_id=attempt.pk, item_id=items[0].pk, flagged=True
        )
    assert statements(later) == ["UPDATE", "UPDATE", "UPDATE"]  # no transaction either
    stored = AttemptItem.objects.get(pk=items[0].pk)
    assert stored.flagged is True and stored.selected_choice_ids == [items[0].choice_order[0]]


def test_a_save_returns_the_item_as_stored(learner, started):
    attempt, items = started
    save_first_option(learner, items[1])
    flagged = services.attempt_flag(
        person=learner, attempt_id=attempt.pk, item_id=items[1].pk, flagged=True
    )
    stored = AttemptItem.objects.get(pk=items[1].pk)
    assert flagged.selected_choice_ids == stored.selected_choice_ids == [items[1].choice_order[0]]
    assert flagged.flagged is stored.flagged is True
    assert flagged.answered_at == stored.answered_at is not None
    assert flagged.choice_order == stored.choice_order
    # a save that changes nothing answers what is stored
    same = services.attempt_item_save(person=learner, attempt_id=attempt.pk, item_id=items[1].pk)
    assert (same.selected_choice_ids, same.flagged) == ([items[1].choice_order[0]], True)


def test_a_submit_after_the_form_was_read_is_refused_not_lost(learner, started):
    attempt, items = started
    save_first_option(learner, items[0])  # this process now holds the form
    services.attempt_submit(person=learner, attempt_id=attempt.pk)
    with pytest.raises(DomainError) as refused:
        save_first_option(learner, items[1])
    assert (refused.value.status, refused.value.code) == (409, "attempt_closed")
    assert refused.value.extra["closed_because"] == "submitted"
    assert AttemptItem.objects.get(pk=items[1].pk).selected_choice_ids == []


def test_the_deadline_passing_after_the_form_was_read_is_refused(learner, started):
    attempt, items = started
    save_first_option(learner, items[0])
    late = attempt.deadline + timedelta(seconds=attempt.exam.grace_seconds + 1)
    with pytest.raises(DomainError) as refused:
        save_first_option(learner, items[1], now=late)
    assert (refused.value.status, refused.value.code) == (409, "attempt_closed")
    assert refused.value.extra["closed_because"] == "deadline"
    assert AttemptItem.objects.get(pk=items[1].pk).selected_choice_ids == []


def test_a_form_held_is_not_anyone_elses(learner, other, started):
    attempt, items = started
    save_first_option(learner, items[0])
    with pytest.raises(DomainError) as refused:
        save_first_option(other, items[1])
    assert (refused.value.status, refused.value.code) == (404, "attempt_not_found")
    assert AttemptItem.objects.get(pk=items[1].pk).selected_choice_ids == []


def test_a_grace_period_raised_while_the_form_is_held_is_honoured(learner, started):
    attempt, items = started
    save_first_option(learner, items[0])  # holds grace as it was
    exam = attempt.exam
    exam.grace_seconds += 600
    exam.save(update_fields=["grace_seconds"])
    late = attempt.deadline + timedelta(seconds=300)  # past the old grace, within the new
    saved = save_first_option(learner, items[1], now=late)
    assert saved.selected_choice_ids == [items[1].choice_order[0]]
    assert AttemptItem.objects.get(pk=items[1].pk).selected_choice_ids == saved.selected_choice_ids


def test_forms_are_read_again_after_their_time_and_few_are_kept(learner, started, monkeypatch):
    attempt, items = started
    save_first_option(learner, items[0])
    monkeypatch.setattr(attempt_forms, "TTL_SECONDS", 0)
    with CaptureQueriesContext(connection) as queries:
        save_first_option(learner, items[1])
    assert statements(queries) == ["SELECT", "UPDATE"]
    monkeypatch.setattr(attempt_forms, "TTL_SECONDS", 60)
    monkeypatch.setattr(attempt_forms, "KEPT", 2)
    others = [services.attempt_start(person=learner, exam=make_exam(topics=1, draw=1, pool=1))[0]]
    others.append(
        services.attempt_start(person=learner, exam=make_exam(topics=1, draw=1, pool=1))[0]
    )
    for other_attempt in others:
        save_first_option(learner, other_attempt.items.get())
    assert list(attempt_forms._forms) == [other.pk for other in others]  # the oldest went
