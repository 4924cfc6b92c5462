"""The two statements of an answer save, as SQL written once.

An answer is saved every time a learner clicks an option (the exam page sends
each change at once), so this is the busiest write of the system. Built by
the ORM, its read and its update cost ten times what the database takes to
run them (query compilation); here they are composed once per process from
the models' own table and column names and run with parameters.

Contract:
- `read_item(attempt_id, item_id, person_id)` -> SaveRow | None: the item of
  this person's attempt with what a save checks (attempt status, deadline,
  the exam's grace, the question's kind, the option order), in one query.
  It takes no lock: the write re-checks.
- `write_item(item_id, attempt_id, open_since, changes)` -> bool: one UPDATE
  of the given fields (`selected_choice_ids`, `answered_at`, `flagged`),
  values prepared by the model fields exactly as the ORM would, that writes
  only while that attempt (the item's) is in progress and its deadline is at
  or after `open_since`, checked in the same statement; False when nothing
  was written. On PostgreSQL the statement share-locks the attempt's row, so
  a save never lands after the attempt was scored (see `_share_lock`); on
  SQLite one writer at a time gives the same. Either way no transaction is
  opened: the save is two statements in autocommit, the write lock (SQLite)
  or row lock (PostgreSQL) held for one.
- Both run as prepared statements on PostgreSQL (`lms.db.prepared_cursor`).
- Values come back converted like the ORM's (JSON lists, aware datetimes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from django.db import connection

from lms.db import convert_row, prepared_cursor

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
)


@cache
def _read_sql() -> str:
    col = _column
    select = ", ".join(col(model, name, alias) for model, name, alias in _READ)
    # Table and column names come from the models; values are parameters.
    sql = (
        f"SELECT {select} FROM {_table(AttemptItem, 'i')}"  # noqa: S608
        f" JOIN {_table(Attempt, 'a')} ON a.{_pk(Attempt)} = {col(AttemptItem, 'attempt', 'i')}"
        f" JOIN {_table(Exam, 'e')} ON e.{_pk(Exam)} = {col(Attempt, 'exam', 'a')}"
        f" JOIN {_table(QuestionVersion, 'v')}"
        f" ON v.{_pk(QuestionVersion)} = {col(AttemptItem, 'question_version', 'i')}"
        f" JOIN {_table(Question, 'q')}"
        f" ON q.{_pk(Question)} = {col(QuestionVersion, 'question', 'v')}"
        f" WHERE i.{_pk(AttemptItem)} = %s AND {col(AttemptItem, 'attempt', 'i')} = %s"
        f" AND {col(Attempt, 'person', 'a')} = %s"
    )
    return sql


def _pk(model) -> str:
    return connection.ops.quote_name(model._meta.pk.column)


def _read_fields() -> list:
    return [model._meta.get_field(name) for model, name, _ in _READ]


def read_item(*, attempt_id: int, item_id: int, person_id: int) -> SaveRow | None:
    with prepared_cursor() as cursor:
        cursor.execute(_read_sql(), [item_id, attempt_id, person_id])
        row = cursor.fetchone()
    if row is None:
        return None
    order, selected, flagged, answered_at, status, deadline, grace, kind = convert_row(
        _read_fields(), row
    )
    return SaveRow(
        choice_order=order,
        selected_choice_ids=selected,
        flagged=bool(flagged),
        answered_at=answered_at,
        attempt_status=status,
        deadline=deadline,
        grace_seconds=int(grace),
        kind=kind,
    )


_WRITABLE = ("selected_choice_ids", "answered_at", "flagged")


@cache
def _write_sql(names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    fields = [AttemptItem._meta.get_field(name) for name in names]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    table = quote(AttemptItem._meta.db_table)
    attempt_column = quote(AttemptItem._meta.get_field("attempt").column)
    # Names come from the models; values are parameters.
    return (
        f"UPDATE {table} SET {assignments} WHERE {_pk(AttemptItem)} = %s"  # noqa: S608
        f" AND {attempt_column} = %s AND EXISTS (SELECT 1 FROM {_table(Attempt, 'a')}"
        f" WHERE a.{_pk(Attempt)} = %s AND {_column(Attempt, 'status', 'a')} = %s"
        f" AND {_column(Attempt, 'deadline', 'a')} >= %s{_share_lock()})"
    )


def _share_lock() -> str:
    # PostgreSQL: the attempt's row is share-locked for the statement, so a
    # submit (whose UPDATE of the attempt takes a lock this one conflicts with)
    # either waits for this write and scores it, or has committed first and
    # this write finds the attempt closed (the sub-select is re-checked on the
    # row as the submit left it). Saves share the lock: they do not wait on
    # each other. SQLite has one writer at a time and no row locks.
    return " FOR SHARE" if connection.features.has_select_for_update else ""


def write_item(*, item_id: int, attempt_id: int, open_since: dt.datetime, changes: dict) -> bool:
    """UPDATE the item, only while its attempt `attempt_id` is in progress with a
    deadline at or after `open_since` (checked in the same statement). True
    when the row was written."""
    unknown = set(changes) - set(_WRITABLE)
    if unknown or not changes:
        raise ValueError(f"write_item: nothing to write or not writable: {sorted(unknown)}")
    names = tuple(name for name in _WRITABLE if name in changes)
    meta = AttemptItem._meta
    params = [meta.get_field(name).get_db_prep_save(changes[name], connection) for name in names]
    deadline = Attempt._meta.get_field("deadline")
    open_since = deadline.get_db_prep_value(open_since, connection)
    params += [item_id, attempt_id, attempt_id, AttemptStatus.IN_PROGRESS, open_since]
    with prepared_cursor() as cursor:
        cursor.execute(_write_sql(names), params)
        return cursor.rowcount == 1
