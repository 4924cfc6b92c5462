"""Cursor pagination for every API list, in the payments API's shape.

A list endpoint takes `PageParams` as query parameters and answers
`{"object": "list", "data": [...], "has_more": bool}`:

- `limit`: 1-100, default 20 (outside: 422 `validation_error`);
- `starting_after=<id>`: the page after that object; `ending_before=<id>`:
  the page before it. Both at once, or an id that is not in this caller's
  list under the same filters: 400 `invalid_cursor`.

The order is the list's own (`order`, e.g. `("-issued_at", "id")`; the last
key must be unique) and the page resumes after the cursor object's sort key
(keyset, so a page costs the same at any depth). Reading a page is one query
(plus one to find the cursor object when there is a cursor), whatever the
page size. The cursor is the object's primary key unless the list shows
another field as its `id` (`cursor_field`, e.g. a credential's public id).

    @router.get("/things", response=page_of(ThingOut))
    def things(request, page: Query[PageParams]):
        rows, has_more = paginate(visible_things(request.user), page, order=("name", "id"))
        return list_page([to_out(row) for row in rows], has_more)
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import IntegerField, Q, QuerySet
from ninja import Field, Schema
from pydantic import create_model

from lms.errors import DomainError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(DomainError):
    status = 400
    code = "invalid_cursor"


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1-{MAX_LIMIT}.")
    starting_after: str | None = Field(
        None, max_length=64, description="The id of the last object of the previous page."
    )
    ending_before: str | None = Field(
        None, max_length=64, description="The id of the first object of the next page."
    )


@cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The response schema of a list of `item` (one class per item schema)."""
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{item.__name__}List",
        __base__=Schema,
        object=(Literal["list"], "list"),
        data=(list[item], ...),  # type: ignore[valid-type]
        has_more=(bool, ...),
    )


def list_page(data: list[Any], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more}


def _key_value(obj: dict[str, Any], key: str) -> Any:
    return obj[key.lstrip("-")]


def _after(order: tuple[str, ...], values: dict[str, Any], *, reverse: bool) -> Q:
    """Rows strictly after `values` in `order` (before, when `reverse`)."""
    condition = Q()
    for depth in range(len(order) - 1, -1, -1):
        key = order[depth]
        field = key.lstrip("-")
        descending = key.startswith("-") != reverse
        value = values[field]
        if value is None:
            # NULLs sort last ascending on PostgreSQL and first on SQLite;
            # a nullable sort key needs a non-null stand-in in the queryset.
            raise ValueError(f"the sort key {field!r} may not be NULL")
        step = Q(**{f"{field}__lt" if descending else f"{field}__gt": value})
        if depth < len(order) - 1:
            step |= Q(**{field: value}) & condition
        condition = step
    return condition


MAX_INTEGER_ID = 2**63 - 1


def _storable_cursor(queryset: QuerySet[Any], cursor_field: str, cursor: str) -> bool:
    """False for a cursor the cursor field's column could not even hold: an
    integer id beyond 64 bits is a database error (SQLite: OverflowError;
    PostgreSQL: an aborted transaction), not an unknown object."""
    opts = queryset.model._meta
    field = opts.pk if cursor_field == "pk" else opts.get_field(cursor_field)
    while field.is_relation:  # a multi-table child's pk points at its parent's
        field = field.target_field
    if isinstance(field, IntegerField):
        return cursor.isascii() and cursor.isdigit() and 0 < int(cursor) <= MAX_INTEGER_ID
    return True


def paginate(
    queryset: QuerySet[Any],
    page: PageParams,
    *,
    order: tuple[str, ...],
    cursor_field: str = "pk",
) -> tuple[list[Any], bool]:
    """One page of `queryset` in `order`, and whether there is more beyond it.

    Raises InvalidCursor for both cursors at once, or for a cursor that is
    not the id of an object of `queryset`.
    """
    if page.starting_after is not None and page.ending_before is not None:
        raise InvalidCursor("Give starting_after or ending_before, not both.")
    cursor = page.starting_after if page.starting_after is not None else page.ending_before
    backwards = page.ending_before is not None
    ordered = queryset
    if cursor is not None:
        fields = [key.lstrip("-") for key in order]
        values = None
        if _storable_cursor(queryset, cursor_field, cursor):
            try:
                values = queryset.filter(**{cursor_field: cursor}).values(*fields).first()
            except (ValueError, TypeError, DjangoValidationError):
                values = None
        if values is None:
            raise InvalidCursor("That cursor is not an object of this list.")
        ordered = ordered.filter(_after(order, values, reverse=backwards))
    if backwards:
        flipped = tuple(key[1:] if key.startswith("-") else f"-{key}" for key in order)
        rows = list(ordered.order_by(*flipped)[: page.limit + 1])
        has_more = len(rows) > page.limit
        return rows[: page.limit][::-1], has_more
    rows = list(ordered.order_by(*order)[: page.limit + 1])
    return rows[: page.limit], len(rows) > page.limit
