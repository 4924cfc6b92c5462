"""Guards for the library internals our performance shortcuts rely on.

Each shortcut is listed in docs/performance.md with what it replaces and its
measured gain. If an upgrade renames or removes one of these private names,
the test here fails and names the shortcut to revisit, instead of the
shortcut silently falling back or breaking in production.
"""

import inspect

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import RequestFactory


def test_django_database_wrapper_still_wraps_raw_cursors_with_prepare_cursor():
    # lms.db.prepared_cursor wraps psycopg's server-binding cursor like Django's own.
    assert callable(BaseDatabaseWrapper._prepare_cursor)
    assert list(inspect.signature(BaseDatabaseWrapper._prepare_cursor).parameters) == [
        "self",
        "cursor",
    ]


def test_psycopg_cursor_still_sends_prepared_queries_through_send_query_prepared():
    psycopg = pytest.importorskip("psycopg")
    method = psycopg.Cursor._send_query_prepared
    assert list(inspect.signature(method).parameters)[:3] == ["self", "name", "pgq"]
    assert "binary" in inspect.signature(method).parameters
    assert hasattr(psycopg.Cursor, "_query")  # where Django's query log reads the SQL


def test_django_request_body_is_still_read_from_body_and_stream():
    # lms.api_input.read_body_limited stores the bounded body where Django keeps it.
    request = RequestFactory().post("/", data=b"{}", content_type="application/json")
    request._body = b'{"a": 1}'
    assert request.body == b'{"a": 1}'
    assert hasattr(request, "_stream")


@pytest.mark.django_db
def test_treebeard_still_returns_a_cached_parent_without_a_query(django_assert_num_queries):
    # courses.routing's one-query walk leaves the course on the lesson (_cached_parent_obj).
    from tests.courses.factories import course_with_lessons

    course, lessons = course_with_lessons(1)
    lesson = type(lessons[0]).objects.get(pk=lessons[0].pk)
    lesson._cached_parent_obj = course
    with django_assert_num_queries(0):
        assert lesson.get_parent() is course
