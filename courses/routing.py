"""Routing shortcuts for the course pages: the same answers as Wagtail's own
routing and view-restriction checks, in fewer queries (a page view is mostly
routing before it is anything else).

Contract:
- `route_below_catalogue(catalogue, path_components)` -> the course or lesson
  page at that URL below the catalogue (one query), or None to let Wagtail's
  own walk answer; liveness is left to the caller, as in Wagtail.
- `OneQueryViewRestrictions`: a mixin for page classes; the page's view
  restrictions (and, for an alias, its source's) in one query instead of two.
- `ancestor_paths(page)` -> the tree paths of the page and its ancestors.
- `never_shared(response)` -> the response, marked private and no-cache.

Nothing here imports the course models: rows are reached through Wagtail's
`Page` and the `coursepage` / `lessonpage` relations it gives every page.
"""

from django.db.models import Q
from django.utils.cache import patch_cache_control
from wagtail.models import Page, PageViewRestriction


def never_shared(response):
    # Pages show per-learner state (progress, enrolment): never let a shared
    # cache keep one learner's page for another (Wagtail's caching advice).
    patch_cache_control(response, private=True, no_cache=True)
    return response


def ancestor_paths(page) -> list[str]:
    step = Page.steplen
    return [page.path[:end] for end in range(step, len(page.path) + 1, step)]


class OneQueryViewRestrictions:
    """Wagtail reads a page's view restrictions with two queries on every view
    (the ancestors, then their restrictions); the ancestors' tree paths are
    prefixes of the page's own, so one query does. Like Wagtail, a page that
    is an alias is checked against its source page's restrictions."""

    def get_view_restrictions(self):
        paths = ancestor_paths(self)
        return PageViewRestriction.objects.filter(
            Q(page__path__in=paths, page__alias_of__isnull=True) | Q(page__aliases__path__in=paths)
        ).distinct()


def route_below_catalogue(catalogue, path_components):
    """The course (one component) or lesson (two) at this URL below the
    catalogue, fetched in one query by `url_path` (Wagtail keeps it in step
    with slugs on publish, rename and move) instead of Wagtail's two queries
    per segment; None for anything else, which Wagtail's own walk then
    handles (and answers 404 where it should). Liveness is checked by the
    caller exactly like Wagtail does (`route(request, [])`)."""
    if not 1 <= len(path_components) <= 2:
        return None
    url_paths = []
    prefix = catalogue.url_path
    for slug in path_components:
        prefix = f"{prefix}{slug}/"
        url_paths.append(prefix)
    rows = {
        row.url_path: row
        for row in Page.objects.filter(
            slug__in=path_components,
            url_path__in=url_paths,
            path__startswith=catalogue.path,
        ).select_related("coursepage", "lessonpage")
    }
    course_row = rows.get(url_paths[0])
    if course_row is None or course_row.depth != catalogue.depth + 1:
        return None
    course = getattr(course_row, "coursepage", None)
    if course is None:
        return None
    course._cached_parent_obj = catalogue
    if len(path_components) == 1:
        return course
    lesson_row = rows.get(url_paths[1])
    if (
        lesson_row is None
        or lesson_row.depth != course.depth + 1
        or not lesson_row.path.startswith(course.path)
    ):
        return None
    lesson = getattr(lesson_row, "lessonpage", None)
    if lesson is None:
        return None
    # Wagtail's own walk leaves the parent on the page too: the lesson page
    # reuses it instead of fetching its course again.
    lesson._cached_parent_obj = course
    return lesson
