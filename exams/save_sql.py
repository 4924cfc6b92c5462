"""The statements of an answer save, as SQL written once.

An answer is saved every time a learner clicks an option (the exam page sends
each change at once), so this is the busiest write of the system. Built by
the ORM, its reads and its update cost ten times what the database takes to
run them (query compilation); here they are composed once per process from
the models' own table and column names and run with parameters.

Contract:
- `read_form(attempt_id, person_id)` -> AttemptForm | None: what never
  changes in this person's attempt and a save checks (the deadline, the
  exam's grace, and per item its option order and question kind), in one
  query; None when it is not theirs. `exams.attempt_forms` keeps it.
- `read_item(attempt_id, item_id, person_id)` -> SaveRow | None: one item of
  this person's attempt with its current answer and the attempt's status
  and running break, in one query. Used to say exactly why a write was refused, and when a
  save changes nothing.
- `write_item(item_id, attempt_id, open_since, changes)` -> Saved | None:
  one UPDATE of the given fields (`selected_choice_ids`, `answered_at`,
  `flagged`), values prepared by the model fields exactly as the ORM would,
  that writes only while that attempt (the item's) is in progress, not on a
  rest break, and its deadline is at or after `open_since`, checked in the
  same statement, and
  returns the item's answer as stored; None when nothing was written. On
  PostgreSQL the statement share-locks the attempt's row, so a save never
  lands after the attempt was scored (see `_share_lock`); on SQLite one
  writer at a time gives the same. No transaction is opened: a save is one
  statement in autocommit (two when the form is not known yet).
- Their text is fixed (values are parameters), so on PostgreSQL each is
  prepared once per connection (server-side binding and psycopg's
  `prepare_threshold`, lms.settings).
- Values come back converted like the ORM's (JSON lists, aware datetimes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.db import connection

from lms.db import convert_row

from .models import Attempt, AttemptItem, AttemptStatus, Exam, Question, QuestionVersion


@dataclass(frozen=True)
class SaveRow:
    choice_order: list[int]
    selected_choice_ids: list[int]
    flagged: bool
    answered_at: dt.datetime | None
    attempt_status: str
    deadline: dt.datetime
    grace_seconds: int
    kind: str
    # The running rest break, if any (exams.services.breaks).
    break_started_at: dt.datetime | None = None
    break_ends_at: dt.datetime | None = None


@dataclass(frozen=True)
class ItemForm:
    choice_order: tuple[int, ...]
    kind: str


@dataclass(frozen=True)
class AttemptForm:
    person_id: int
    deadline: dt.datetime
    grace_seconds: int
    items: dict[int, ItemForm]  # by item id


@dataclass(frozen=True)
class Saved:
    selected_choice_ids: list[int]
    flagged: bool
    answered_at: dt.datetime | None


def _column(model, name: str, alias: str) -> str:
    return f"{alias}.{connection.ops.quote_name(model._meta.get_field(name).column)}"


def _table(model, alias: str) -> str:
    return f"{connection.ops.quote_name(model._meta.db_table)} {alias}"


# What a save reads, in this order: (model, field, table alias in _read_sql).
_READ = (
    (AttemptItem, "choice_order", "i"),
    (AttemptItem, "selected_choice_ids", "i"),
    (AttemptItem, "flagged", "i"),
    (AttemptItem, "answered_at", "i"),
    (Attempt, "status", "a"),
    (Attempt, "deadline", "a"),
    (Exam, "grace_seconds", "e"),
    (Question, "kind", "q"),
    (Attempt, "break_started_at", "a"),
    (Attempt, "break_ends_at", "a"),
)


@cache
def _read_sql() -> str:
    col = _column
    # Table and column names come from the models; values are parameters.
    return (
        f"SELECT {_select(_READ)}{_from_items()}"  # noqa: S608
        f" WHERE i.{_pk(AttemptItem)} = %s AND {col(AttemptItem, 'attempt', 'i')} = %s"
        f" AND {col(Attempt, 'person', 'a')} = %s"
    )


def _select(columns) -> str:
    return ", ".join(_column(model, name, alias) for model, name, alias in columns)


@cache
def _from_items() -> str:
    """Items with their attempt, exam, question version and question."""
    col = _column
    return (
        f" FROM {_table(AttemptItem, 'i')}"
        f" JOIN {_table(Attempt, 'a')} ON a.{_pk(Attempt)} = {col(AttemptItem, 'attempt', 'i')}"
        f" JOIN {_table(Exam, 'e')} ON e.{_pk(Exam)} = {col(Attempt, 'exam', 'a')}"
        f" JOIN {_table(QuestionVersion, 'v')}"
        f" ON v.{_pk(QuestionVersion)} = {col(AttemptItem, 'question_version', 'i')}"
        f" JOIN {_table(Question, 'q')}"
        f" ON q.{_pk(Question)} = {col(QuestionVersion, 'question', 'v')}"
    )


# What the form read returns per item, in this order.
_FORM = (
    (Attempt, "person", "a"),
    (Attempt, "deadline", "a"),
    (Exam, "grace_seconds", "e"),
    (AttemptItem, "id", "i"),
    (AttemptItem, "choice_order", "i"),
    (Question, "kind", "q"),
)


@cache
def _form_sql() -> str:
    col = _column
    # Table and column names come from the models; values are parameters.
    return (
        f"SELECT {_select(_FORM)}{_from_items()}"  # noqa: S608
        f" WHERE {col(AttemptItem, 'attempt', 'i')} = %s AND {col(Attempt, 'person', 'a')} = %s"
    )


def read_form(*, attempt_id: int, person_id: int) -> AttemptForm | None:
    with connection.cursor() as cursor:
        cursor.execute(_form_sql(), [attempt_id, person_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    fields = [model._meta.get_field(name) for model, name, _ in _FORM]
    items = {}
    for row in rows:
        person, deadline, grace, item_id, order, kind = convert_row(fields, row)
        items[item_id] = ItemForm(choice_order=tuple(order), kind=kind)
    return AttemptForm(person_id=person, deadline=deadline, grace_seconds=int(grace), items=items)


def _pk(model) -> str:
    return connection.ops.quote_name(model._meta.pk.column)


def _read_fields() -> list:
    return [model._meta.get_field(name) for model, name, _ in _READ]


def read_item(*, attempt_id: int, item_id: int, person_id: int) -> SaveRow | None:
    with connection.cursor() as cursor:
        cursor.execute(_read_sql(), [item_id, attempt_id, person_id])
        row = cursor.fetchone()
    if row is None:
        return None
    (
        order,
        selected,
        flagged,
        answered_at,
        status,
        deadline,
        grace,
        kind,
        break_started_at,
        break_ends_at,
    ) = convert_row(_read_fields(), row)
    return SaveRow(
        choice_order=order,
        selected_choice_ids=selected,
        flagged=bool(flagged),
        answered_at=answered_at,
        attempt_status=status,
        deadline=deadline,
        grace_seconds=int(grace),
        kind=kind,
        break_started_at=break_started_at,
        break_ends_at=break_ends_at,
    )


_WRITABLE = ("selected_choice_ids", "answered_at", "flagged")


@cache
def _write_sql(names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    fields = [AttemptItem._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    returning = ", ".join(quote(f.column) for f in _returned_fields())
    table = quote(AttemptItem._meta.db_table)
    attempt_column = quote(AttemptItem._meta.get_field("attempt").column)
    # Names come from the models; values are parameters.
    return (
        f"UPDATE {table} SET {assignments} WHERE {_pk(AttemptItem)} = %s"  # noqa: S608
        f" AND {attempt_column} = %s AND EXISTS (SELECT 1 FROM {_table(Attempt, 'a')}"
        f" WHERE a.{_pk(Attempt)} = %s AND {_column(Attempt, 'status', 'a')} = %s"
        f" AND {_column(Attempt, 'deadline', 'a')} >= %s"
        f" AND {_column(Attempt, 'break_started_at', 'a')} IS NULL{_share_lock()})"
        f" RETURNING {returning}"
    )


def _returned_fields() -> list:
    return [AttemptItem._meta.get_field(name) for name in _WRITABLE]


def _share_lock() -> str:
    # PostgreSQL: the attempt's row is share-locked for the statement, so a
    # submit (whose UPDATE of the attempt takes a lock this one conflicts with)
    # either waits for this write and scores it, or has committed first and
    # this write finds the attempt closed (the sub-select is re-checked on the
    # row as the submit left it). Saves share the lock: they do not wait on
    # each other. SQLite has one writer at a time and no row locks.
    return " FOR SHARE" if connection.features.has_select_for_update else ""


def write_item(
    *, item_id: int, attempt_id: int, open_since: dt.datetime, changes: dict
) -> Saved | None:
    """UPDATE the item, only while its attempt `attempt_id` is in progress with a
    deadline at or after `open_since` (checked in the same statement). The
    item's answer as stored, or None when nothing was written."""
    unknown = set(changes) - set(_WRITABLE)
    if unknown or not changes:
        raise ValueError(f"write_item: nothing to write or not writable: {sorted(unknown)}")
    names = tuple(name for name in _WRITABLE if name in changes)
    meta = AttemptItem._meta
    params = [meta.get_field(name).get_db_prep_save(changes[name], connection) for name in names]
    deadline = Attempt._meta.get_field("deadline")
    open_since = deadline.get_db_prep_value(open_since, connection)
    params += [item_id, attempt_id, attempt_id, AttemptStatus.IN_PROGRESS, open_since]
    with connection.cursor() as cursor:
        cursor.execute(_write_sql(names), params)
        rows = cursor.fetchall()  # to the end: SQLite ends the statement (and commits) there
    if not rows:
        return None
    (row,) = rows
    selected, answered_at, flagged = convert_row(_returned_fields(), row)
    return Saved(selected_choice_ids=selected, flagged=bool(flagged), answered_at=answered_at)
