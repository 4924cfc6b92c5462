"""Guards for the library internals our performance shortcuts rely on.

Each shortcut is listed in docs/performance.md with what it replaces and its
measured gain. If an upgrade renames or removes one of these private names,
the test here fails and names the shortcut to revisit, instead of the
shortcut silently falling back or breaking in production.
"""

import pytest
from django.test import RequestFactory


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
