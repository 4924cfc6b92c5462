"""Cursor pagination: pages in the list's own order, both directions, bad cursors."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pydantic import ValidationError

from lms.pagination import InvalidCursor, PageParams, list_page, page_of, paginate
from tests.lms.factories import UserFactory

pytestmark = pytest.mark.django_db

ORDER = ("last_name", "-id")


@pytest.fixture
def people():
    names = ["Baker", "Adams", "Baker", "Cole", "Adams", "Baker", "Diaz"]
    for name in names:
        UserFactory(last_name=name)
    User = get_user_model()
    return list(User.objects.order_by(*ORDER))


def walk(forward=True, limit=2):
    User = get_user_model()
    seen, cursor = [], None
    while True:
        key = "starting_after" if forward else "ending_before"
        page = PageParams(limit=limit, **({key: str(cursor)} if cursor else {}))
        rows, has_more = paginate(User.objects.all(), page, order=ORDER)
        seen = seen + rows if forward else rows + seen
        if not has_more:
            return seen
        cursor = (rows[-1] if forward else rows[0]).pk


def test_walking_forward_visits_every_row_once_in_order(people):
    assert walk(forward=True) == people


def test_walking_backward_from_the_end_gives_the_same_order(people):
    User = get_user_model()
    last = people[-1]
    rows, has_more = paginate(
        User.objects.all(), PageParams(limit=3, ending_before=str(last.pk)), order=ORDER
    )
    assert rows == people[-4:-1]
    assert has_more is True


def test_first_page_and_has_more(people):
    User = get_user_model()
    rows, has_more = paginate(User.objects.all(), PageParams(limit=100), order=ORDER)
    assert rows == people and has_more is False
    rows, has_more = paginate(User.objects.all(), PageParams(limit=6), order=ORDER)
    assert rows == people[:6] and has_more is True


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_limit_outside_1_to_100_is_a_validation_error(limit):
    with pytest.raises(ValidationError):
        PageParams(limit=limit)


def test_both_cursors_is_invalid(people):
    User = get_user_model()
    page = PageParams(starting_after=str(people[0].pk), ending_before=str(people[1].pk))
    with pytest.raises(InvalidCursor):
        paginate(User.objects.all(), page, order=ORDER)


@pytest.mark.parametrize("cursor", ["999999", "abc", "1.5", ""])
def test_cursor_that_is_not_in_the_list_is_invalid(people, cursor):
    User = get_user_model()
    with pytest.raises(InvalidCursor) as error:
        paginate(User.objects.all(), PageParams(starting_after=cursor), order=ORDER)
    assert error.value.code == "invalid_cursor" and error.value.status == 400


def test_cursor_outside_the_callers_filter_is_invalid(people):
    User = get_user_model()
    other = people[0]
    visible = User.objects.exclude(pk=other.pk)
    with pytest.raises(InvalidCursor):
        paginate(visible, PageParams(starting_after=str(other.pk)), order=ORDER)


@pytest.mark.parametrize("limit", [1, 5, 100])
def test_query_count_does_not_depend_on_page_size(people, limit):
    User = get_user_model()
    with CaptureQueriesContext(connection) as plain:
        paginate(User.objects.all(), PageParams(limit=limit), order=ORDER)
    with CaptureQueriesContext(connection) as cursored:
        paginate(
            User.objects.all(),
            PageParams(limit=limit, starting_after=str(people[0].pk)),
            order=ORDER,
        )
    assert (len(plain), len(cursored)) == (1, 2)


def test_list_shape():
    from ninja import Schema

    class Thing(Schema):
        id: int

    schema = page_of(Thing)
    assert schema is page_of(Thing)
    body = schema(**list_page([{"id": 1}], True)).model_dump()
    assert body == {"object": "list", "data": [{"id": 1}], "has_more": True}


@pytest.mark.parametrize("cursor", [str(2**63), str(2**70), "-1", "0", "1e3", "١٢"])
def test_an_integer_cursor_no_column_could_hold_is_invalid_not_a_database_error(people, cursor):
    User = get_user_model()
    with pytest.raises(InvalidCursor):
        paginate(User.objects.all(), PageParams(starting_after=cursor), order=ORDER)


def test_the_cursor_may_be_another_unique_field(people):
    User = get_user_model()
    second = people[1]
    rows, _ = paginate(
        User.objects.all(),
        PageParams(limit=2, starting_after=second.email),
        order=ORDER,
        cursor_field="email",
    )
    assert rows == people[2:4]
    with pytest.raises(InvalidCursor):
        paginate(
            User.objects.all(),
            PageParams(starting_after=str(second.pk)),
            order=ORDER,
            cursor_field="email",
        )
