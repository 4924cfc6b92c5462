"""What the catalogue, course and lesson pages show besides their own fields.

Contract:
- `register_readers()` (called once from CoursesConfig.ready) gives each page
  type its reader (`courses.models.register_context_reader`); the page's
  `get_context` adds what its reader returns. Readers only read.
- Catalogue: `filters` and `filter_errors` (from the query string), `query`
  (the cleaned search words) and `courses` (the cards the user may see).
- Course: `detail` (its live lessons with the user's progress and where to resume).
- Lesson: `detail` (its place in the course, neighbours, the user's progress;
  a lesson of a course that is not live is 404, except in a preview) and
  `body_html` (the body rendered once per body content,
  courses.lesson_body_cache; previews render the draft without the cache).
"""

from django.http import Http404

from lms.errors import NotFound

from . import lesson_body_cache, selectors
from .models import CourseIndexPage, CoursePage, LessonPage, register_context_reader


def catalogue_context(request, page: CourseIndexPage, *, preview: bool) -> dict:
    filters, errors = selectors.CatalogueFilters.from_query_dict(request.GET)
    query = selectors.clean_query(request.GET.get("q"))
    return {
        "filters": filters,
        "filter_errors": errors,
        "query": query,
        "courses": selectors.course_list_for_catalogue(
            filters=filters, query=query, user=request.user
        ),
    }


def course_context(request, page: CoursePage, *, preview: bool) -> dict:
    return {"detail": selectors.course_detail_for(user=request.user, course=page)}


def lesson_context(request, page: LessonPage, *, preview: bool) -> dict:
    try:
        detail = selectors.lesson_detail_for(user=request.user, lesson=page, preview=preview)
    except NotFound as error:
        raise Http404(error.message) from error
    return {
        "detail": detail,
        "body_html": lesson_body_cache.lazy_lesson_body_html(page, preview=preview),
    }


def register_readers() -> None:
    register_context_reader(CourseIndexPage, catalogue_context)
    register_context_reader(CoursePage, course_context)
    register_context_reader(LessonPage, lesson_context)
