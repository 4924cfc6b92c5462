"""Database helpers for bulk reads and writes, where Django's generic path is
the cost (measured with the partner status recompute, bench/partners.py).

- `c_timestamp_loader()`: inside it, timestamps read on PostgreSQL are parsed
  by psycopg's C loader instead of Django's Python subclass of it. Django
  registers that subclass on every psycopg 3 connection only to attach the
  connection's time zone; when the connection is in UTC (USE_TZ and no
  database TIME_ZONE, our settings) psycopg's own loader returns the very same
  aware UTC datetimes. The Python one costs ~7 µs a value against ~0.5 µs: 2 s
  per 300,000 timestamps. Elsewhere (SQLite, another time zone, psycopg 2) it
  changes nothing.
- `bulk_insert(objs)`: `bulk_create` for new rows whose ids are not needed,
  as one COPY on PostgreSQL (see its docstring).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from functools import cache

from django.conf import settings
from django.db import connections
from django.db.models import Model


def _c_loader(connection):
    """psycopg's own timestamptz loader when this connection can use it, else None."""
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        return None
    if connection.timezone_name != "UTC":
        return None
    try:
        import psycopg
        from psycopg.pq import Format
    except ImportError:  # psycopg 2
        return None
    types = psycopg.adapters.types
    return types["timestamptz"].oid, psycopg.adapters.get_loader(
        types["timestamptz"].oid, Format.TEXT
    )


@contextmanager
def c_timestamp_loader(using: str = "default") -> Iterator[None]:
    """Parse the timestamps of the queries run inside with psycopg's loader (see above)."""
    connection = connections[using]
    found = _c_loader(connection)
    if found is None:
        yield
        return
    oid, loader = found

    def register(execute, sql, params, many, context):
        # Per cursor: Django checks the connection's loader for its time zone.
        context["cursor"].cursor.adapters.register_loader(oid, loader)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(register):
        yield


def _is_psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


def bulk_insert(objs: Sequence[Model], *, using: str = "default") -> None:
    """Insert new instances of one model (primary keys not set, and not read back).

    On PostgreSQL it is one `COPY ... FROM STDIN`, the rows formatted by
    psycopg in C. Django 5.2's `bulk_create` sends `INSERT ... UNNEST` arrays
    whose elements psycopg escapes with a Python regular expression, once per
    double quote: a JSONField of 1 KB costs ~0.2 ms a row, 2 s for the 10,000
    track statuses of `bench/partners.py`, against 0.8 s with COPY. Elsewhere
    it is `bulk_create`. As with `bulk_create`: no `save()`, no signals; the
    values are prepared by the fields (`pre_save`, `get_db_prep_save`) and
    must be plain values, not expressions. Logged as one query.
    """
    if not objs:
        return
    model = type(objs[0])
    opts = model._meta
    if any(type(obj) is not model or (opts.pk.db_returning and obj.pk is not None) for obj in objs):
        raise ValueError("bulk_insert takes new instances of one model.")
    connection = connections[using]
    if connection.vendor != "postgresql" or not _is_psycopg3():
        model._default_manager.using(using).bulk_create(objs)
        return
    fields = [
        f
        for f in opts.concrete_fields
        if not f.generated and not (f.primary_key and f.db_returning)
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN"
    rows = []
    for obj in objs:
        values = [f.pre_save(obj, True) for f in fields]
        if any(hasattr(value, "resolve_expression") for value in values):
            raise ValueError("bulk_insert takes plain values, not expressions.")
        rows.append(
            [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
        )
    connection.validate_no_broken_transaction()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        log = cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext()
        with log, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)


# --- rows read with hand-written SQL, converted like the ORM converts them ---


@cache
def _converters(field, using: str) -> tuple:
    connection = connections[using]
    col = field.get_col(field.model._meta.db_table)
    return col, tuple(connection.ops.get_db_converters(col) + field.get_db_converters(connection))


def convert_row(fields: Sequence, values: Sequence, *, using: str = "default") -> list:
    """`values` (a row from a cursor) as the ORM would give them for `fields`:
    the backend's and each field's converters (aware datetimes on SQLite,
    decoded JSON, booleans ...)."""
    connection = connections[using]
    out = []
    for field, value in zip(fields, values, strict=True):
        col, converters = _converters(field, using)
        for convert in converters:
            value = convert(value, col, connection)
        out.append(value)
    return out
