"""Reads for the catalogue, course, lesson and dashboard pages.

Part of courses.selectors; its contract is in that package's docstring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Length, Substr
from django.http import QueryDict
from wagtail.models import Page, PageViewRestriction
from wagtail.query import PageQuerySet

from lms.errors import NotFound
from lms.models import User
from lms.pagination import PageParams, paginate
from lms.permissions import role_names
from lms.types import AnyUser

from ..models import (
    Certification,
    CourseIndexPage,
    CourseKind,
    CourseLevel,
    CoursePage,
    Enrolment,
    LessonPage,
    LessonProgress,
)

MAX_QUERY_LENGTH = 200
STEPLEN = Page.steplen

# The sales course every partner needs at least one person to complete
# (docs/product-rules.md: partner requirements). Its page slug is the stable key.
BUSINESS_FOUNDATIONS_SLUG = "business-foundations"


# --- visibility ---------------------------------------------------------------


def hidden_paths_for(user: AnyUser | None) -> list[str]:
    """Tree paths of the restricted sections `user` may not see (one query).

    Every restriction on a page must pass (like Wagtail's own check)."""
    rows = PageViewRestriction.objects.values_list(
        "pk", "page__path", "restriction_type", "groups__name"
    )
    signed_in = bool(getattr(user, "is_authenticated", False))
    is_superuser = bool(getattr(user, "is_superuser", False))
    groups = None  # the user's groups are read only if a group restriction exists
    paths: dict[int, str] = {}
    passed: set[int] = set()
    for pk, path, kind, group_name in rows:
        paths[pk] = path
        if kind == PageViewRestriction.LOGIN and signed_in:
            passed.add(pk)
        elif kind == PageViewRestriction.GROUPS:
            if groups is None:
                groups = role_names(user) if signed_in else frozenset()
            if is_superuser or group_name in groups:
                passed.add(pk)
    return sorted({path for pk, path in paths.items() if pk not in passed})


def visible_q(hidden_paths: list[str], prefix: str = "") -> Q:
    q = Q()
    for path in hidden_paths:
        q &= ~Q(**{f"{prefix}path__startswith": path})
    return q


def _live_courses(hidden: list[str]) -> PageQuerySet:
    return CoursePage.objects.live().filter(visible_q(hidden))


def live_lessons_of(
    course_paths: Iterable[str], hidden: list[str], *, done_by: AnyUser | None = None
) -> list[LessonPage]:
    """Live visible lessons of the given courses, in order, without their bodies.

    With `done_by` (a user) each lesson carries `done`: whether that person
    completed it (read in the same query)."""
    if not course_paths:
        return []
    course_paths = list(course_paths)
    lessons = LessonPage.objects.live().filter(visible_q(hidden))
    if len(course_paths) == 1:  # the children of one course: simpler SQL, cheaper to build
        path = course_paths[0]
        lessons = lessons.filter(path__startswith=path, depth=len(path) // STEPLEN + 1)
    else:
        lessons = lessons.annotate(parent_path=Substr("path", 1, Length("path") - STEPLEN)).filter(
            parent_path__in=course_paths
        )
    lessons = lessons.only(
        "id", "title", "slug", "path", "depth", "url_path", "estimated_minutes"
    ).order_by("path")
    if done_by is not None:
        if done_by.is_authenticated:
            progress = LessonProgress.objects.filter(person=done_by, lesson=OuterRef("pk"))
            lessons = lessons.annotate(done=Exists(progress))
        else:
            lessons = lessons.annotate(done=Value(False))
    return list(lessons)


def _done_ids(lessons: Iterable[LessonPage]) -> set[int]:
    return {lesson.pk for lesson in lessons if lesson.done}


# --- catalogue ----------------------------------------------------------------


def catalogue_url() -> str:
    """The live catalogue page's URL ("" when there is none)."""
    catalogue = CourseIndexPage.objects.live().order_by("path").first()
    return catalogue.url if catalogue else ""


@dataclass(frozen=True)
class CatalogueFilters:
    kind: str = ""
    level: str = ""
    certification: str = ""

    @classmethod
    def from_query_dict(cls, data: QueryDict) -> tuple[CatalogueFilters, list[str]]:
        """Filters from a query string; unknown values are dropped and reported."""
        values, errors = {}, []
        for name, choices in [
            ("kind", CourseKind.values),
            ("level", CourseLevel.values),
            ("certification", Certification.values),
        ]:
            value = (data.get(name) or "").strip()
            if value and value not in choices:
                errors.append(name)
                value = ""
            values[name] = value
        return cls(**values), errors


@dataclass(frozen=True)
class CourseCard:
    id: int
    slug: str
    title: str
    url: str
    summary: str
    kind: str
    kind_label: str
    level: str
    level_label: str
    certification: str
    certification_label: str
    estimated_duration_minutes: int
    lesson_count: int
    enrolled: bool
    completed: bool


def _card(course: CoursePage, lesson_count: int, enrolment_state: bool | None) -> CourseCard:
    return CourseCard(
        id=course.pk,
        slug=course.slug,
        title=course.title,
        url=course.url,
        summary=course.summary,
        kind=course.kind,
        kind_label=course.get_kind_display(),
        level=course.level,
        level_label=course.get_level_display(),
        certification=course.certification,
        certification_label=course.get_certification_display(),
        estimated_duration_minutes=course.estimated_duration_minutes,
        lesson_count=lesson_count,
        enrolled=enrolment_state is not None,
        completed=bool(enrolment_state),
    )


def _search_course_ids(query: str, hidden: list[str]) -> set[int]:
    """Courses matching `query` themselves or through one of their lessons."""
    course_ids = {page.pk for page in _live_courses(hidden).search(query)}
    lesson_paths = {
        page.path for page in LessonPage.objects.live().filter(visible_q(hidden)).search(query)
    }
    if lesson_paths:
        parent_paths = {path[:-STEPLEN] for path in lesson_paths}
        course_ids |= set(
            _live_courses(hidden).filter(path__in=parent_paths).values_list("pk", flat=True)
        )
    return course_ids


def clean_query(query: str | None) -> str:
    """Search words as typed, without control characters (SQLite's full-text
    parser stops at NUL), whitespace collapsed, at most MAX_QUERY_LENGTH long."""
    text = "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in query or "")
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def _catalogue_queryset(
    filters: CatalogueFilters | None, query: str, hidden: list[str]
) -> QuerySet[CoursePage]:
    filters = filters or CatalogueFilters()
    courses: QuerySet[CoursePage] = _live_courses(hidden)
    for name in ("kind", "level", "certification"):
        value = getattr(filters, name)
        if value:
            courses = courses.filter(**{name: value})
    query = clean_query(query)
    if query:
        courses = courses.filter(pk__in=_search_course_ids(query, hidden))
    return courses


def _catalogue_cards(
    courses: list[CoursePage], hidden: list[str], user: AnyUser | None
) -> list[CourseCard]:
    if not courses:
        return []
    counts = dict(
        LessonPage.objects.live()
        .filter(visible_q(hidden))
        .annotate(parent_path=Substr("path", 1, Length("path") - STEPLEN))
        .filter(parent_path__in=[course.path for course in courses])
        .order_by()  # Page's default ordering (path) would split the groups
        .values_list("parent_path")
        .annotate(n=Count("pk"))
        .values_list("parent_path", "n")
    )
    states = {}
    if user is not None and user.is_authenticated:
        states = {
            course_id: completed_at is not None
            for course_id, completed_at in Enrolment.objects.filter(
                person=user, course__in=[course.pk for course in courses]
            ).values_list("course_id", "completed_at")
        }
    return [_card(course, counts.get(course.path, 0), states.get(course.pk)) for course in courses]


def course_list_for_catalogue(
    *, filters: CatalogueFilters | None = None, query: str = "", user: AnyUser | None = None
) -> list[CourseCard]:
    """Live courses in catalogue order, filtered and (if `query`) searched in
    course and lesson text; `enrolled`/`completed` are the user's."""
    hidden = hidden_paths_for(user)
    courses = list(_catalogue_queryset(filters, query, hidden).order_by("path"))
    return _catalogue_cards(courses, hidden, user)


CATALOGUE_ORDER = ("path",)  # a page's tree path is unique: the catalogue's order


def course_page_for_catalogue(
    *,
    page: PageParams,
    filters: CatalogueFilters | None = None,
    query: str = "",
    user: AnyUser | None = None,
) -> tuple[list[CourseCard], bool]:
    """One page of `course_list_for_catalogue` (the course id is the cursor) and
    whether more follow; a cursor must be a course of this list under the same
    filters and search."""
    hidden = hidden_paths_for(user)
    courses, has_more = paginate(
        _catalogue_queryset(filters, query, hidden), page, order=CATALOGUE_ORDER
    )
    return _catalogue_cards(courses, hidden, user), has_more


# --- course -------------------------------------------------------------------


@dataclass(frozen=True)
class LessonState:
    id: int
    title: str
    url: str
    position: int
    estimated_minutes: int
    completed: bool
    current: bool = False


@dataclass(frozen=True)
class Progress:
    completed_count: int
    total: int
    completed_at: datetime | None

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.completed_at else 0
        return round(100 * self.completed_count / self.total)

    @property
    def has_new_content(self) -> bool:
        """Completed once, but lessons were published since that are not done."""
        return self.completed_at is not None and self.completed_count < self.total


@dataclass(frozen=True)
class CourseDetail:
    course: CoursePage
    lessons: list[LessonState]
    enrolment: Enrolment | None
    progress: Progress
    resume: LessonState | None = None

    @property
    def card(self) -> CourseCard:
        state = None if self.enrolment is None else self.enrolment.completed_at is not None
        return _card(self.course, len(self.lessons), state)

    @property
    def enrolled(self) -> bool:
        return self.enrolment is not None


def _lesson_url(lesson: LessonPage, course: CoursePage, course_url: str) -> str:
    # A lesson's URL is its course's plus its slug (one site-root lookup per
    # course instead of one per lesson); anything unusual asks Wagtail.
    if course_url and lesson.url_path == f"{course.url_path}{lesson.slug}/":
        return f"{course_url}{lesson.slug}/"
    url: str = lesson.url
    return url


def _lesson_states(
    lessons: list[LessonPage], done_ids: set[int], last_lesson_id: int | None, course: CoursePage
) -> list[LessonState]:
    course_url = course.url or ""
    return [
        LessonState(
            id=lesson.pk,
            title=lesson.title,
            url=_lesson_url(lesson, course, course_url),
            position=position,
            estimated_minutes=lesson.estimated_minutes,
            completed=lesson.pk in done_ids,
            current=lesson.pk == last_lesson_id,
        )
        for position, lesson in enumerate(lessons, start=1)
    ]


def _resume_lesson(states: list[LessonState]) -> LessonState | None:
    """Where to continue: the first lesson not done after the last one opened,
    else the first not done, else the last one opened (or the first)."""
    if not states:
        return None
    current = next((i for i, s in enumerate(states) if s.current), None)
    if current is not None:
        for state in states[current:]:
            if not state.completed:
                return state
    for state in states:
        if not state.completed:
            return state
    return states[current] if current is not None else states[0]


def course_detail_for(*, user: AnyUser, course: CoursePage) -> CourseDetail:
    """The course's live lessons with the user's state, progress and where to resume."""
    hidden = hidden_paths_for(user)
    lessons = live_lessons_of([course.path], hidden, done_by=user)
    enrolment = None
    if user.is_authenticated:
        enrolment = Enrolment.objects.filter(person=user, course=course).first()
    done = _done_ids(lessons) if enrolment else set()
    states = _lesson_states(lessons, done, enrolment.last_lesson_id if enrolment else None, course)
    progress = Progress(
        completed_count=len(done),
        total=len(states),
        completed_at=enrolment.completed_at if enrolment else None,
    )
    return CourseDetail(
        course=course,
        lessons=states,
        enrolment=enrolment,
        progress=progress,
        resume=_resume_lesson(states) if enrolment else (states[0] if states else None),
    )


def course_get_for_learner(*, user: AnyUser, slug: str) -> CoursePage:
    """The live course with this slug that `user` may see, or NotFound."""
    course: CoursePage | None = (
        _live_courses(hidden_paths_for(user)).filter(slug=slug).order_by("path").first()
    )
    if course is None:
        raise NotFound("No such course.", code="course_not_found")
    return course


def course_get_live(*, course_id: int) -> CoursePage:
    """The live course with this id, whoever may see it, or NotFound: where to
    send someone back to after signing in. Who may see it is checked when
    they act (`course_get_for_learner`)."""
    course: CoursePage | None = CoursePage.objects.live().filter(pk=course_id).first()
    if course is None:
        raise NotFound("No such course.", code="course_not_found")
    return course


# --- lesson -------------------------------------------------------------------


@dataclass(frozen=True)
class LessonDetail:
    lesson: LessonPage
    course: CoursePage
    position: int
    total: int
    completed: bool
    enrolled: bool
    progress: Progress
    previous: LessonState | None = None
    next: LessonState | None = None
    enrolment: Enrolment | None = None


def lesson_get_for_learner(*, user: AnyUser, lesson_id: int) -> tuple[LessonPage, CoursePage]:
    """The live lesson (of a live course) that `user` may see, or NotFound."""
    hidden = hidden_paths_for(user)
    lesson = LessonPage.objects.live().filter(visible_q(hidden), pk=lesson_id).first()
    course = None
    if lesson is not None:
        course = _live_courses(hidden).filter(path=lesson.path[:-STEPLEN]).first()
    if lesson is None or course is None:
        raise NotFound("No such lesson.", code="lesson_not_found")
    # As routing does: `lesson_detail_for` (and `get_parent`) reuse the course.
    lesson._cached_parent_obj = course
    return lesson, course


def lesson_get_live(*, lesson_id: int) -> LessonPage:
    """The live lesson with this id, whoever may see it, or NotFound: where to
    send someone back to after signing in. Who may see it is checked when
    they act (`lesson_get_for_learner`)."""
    lesson: LessonPage | None = LessonPage.objects.live().filter(pk=lesson_id).first()
    if lesson is None:
        raise NotFound("No such lesson.", code="lesson_not_found")
    return lesson


def lesson_detail_for(*, user: AnyUser, lesson: LessonPage, preview: bool = False) -> LessonDetail:
    """The lesson's place in its course, its neighbours and the user's progress.

    NotFound when the course is not live (Wagtail serves a live lesson of an
    unpublished course otherwise), unless previewing."""
    hidden = hidden_paths_for(user)
    course_path = lesson.path[:-STEPLEN]
    # Routing leaves the course it walked through on the lesson (fetched in
    # this request); otherwise read it.
    course = getattr(lesson, "_cached_parent_obj", None)
    if not (isinstance(course, CoursePage) and course.path == course_path):
        course = CoursePage.objects.filter(path=course_path).first()
    if course is None or not (preview or course.live):
        raise NotFound("No such lesson.", code="lesson_not_found")
    lessons = live_lessons_of([course.path], hidden, done_by=user)
    enrolment = None
    if user.is_authenticated:
        enrolment = Enrolment.objects.filter(person=user, course=course).first()
    done = _done_ids(lessons) if enrolment else set()
    states = _lesson_states(lessons, done, lesson.pk, course)
    index = next((i for i, state in enumerate(states) if state.id == lesson.pk), None)
    return LessonDetail(
        lesson=lesson,
        course=course,
        position=(index + 1) if index is not None else 0,
        total=len(states),
        completed=lesson.pk in done,
        enrolled=enrolment is not None,
        progress=Progress(
            completed_count=len(done),
            total=len(states),
            completed_at=enrolment.completed_at if enrolment else None,
        ),
        previous=states[index - 1] if index else None,
        next=states[index + 1] if index is not None and index + 1 < len(states) else None,
        enrolment=enrolment,
    )


def prefetch_lesson_media(*, lesson: LessonPage) -> None:
    """Load the renditions of every image in the body in one query (instead of
    one per image); renditions still missing are created on first render."""
    from django.db.models import prefetch_related_objects

    images = [
        block.value["image"]
        for block in lesson.body
        if block.block_type == "image" and block.value.get("image") is not None
    ]
    if images:
        prefetch_related_objects(images, "renditions")


# --- dashboard ----------------------------------------------------------------


@dataclass(frozen=True)
class CourseProgress:
    course: CourseCard
    progress: Progress
    enrolled_at: datetime
    last_activity_at: datetime
    resume: LessonState | None


@dataclass(frozen=True)
class Dashboard:
    in_progress: list[CourseProgress] = field(default_factory=list)
    completed: list[CourseProgress] = field(default_factory=list)

    @property
    def continue_with(self) -> CourseProgress | None:
        """The course in progress touched most recently."""
        return self.in_progress[0] if self.in_progress else None


def dashboard_for(*, user: AnyUser, hidden: list[str] | None = None) -> Dashboard:
    """The user's live courses: in progress (most recent first) and completed.

    A completed course with new lessons stays under completed (with
    `progress.has_new_content`); its completion date does not change. Pass
    `hidden` (`hidden_paths_for`) when the caller has read it already.
    """
    if not user.is_authenticated:
        return Dashboard()
    if hidden is None:
        hidden = hidden_paths_for(user)
    enrolments = list(
        Enrolment.objects.filter(person=user, course__live=True)
        .filter(visible_q(hidden, prefix="course__"))
        .select_related("course")
        .order_by("-last_activity_at", "-pk")
    )
    courses = {enrolment.course.path: enrolment.course for enrolment in enrolments}
    lessons_by_course = defaultdict(list)
    lessons = live_lessons_of(courses.keys(), hidden, done_by=user)
    for lesson in lessons:
        lessons_by_course[lesson.path[:-STEPLEN]].append(lesson)
    done = _done_ids(lessons)

    dashboard = Dashboard()
    for enrolment in enrolments:
        course = enrolment.course
        lessons = lessons_by_course[course.path]
        states = _lesson_states(lessons, done, enrolment.last_lesson_id, course)
        completed_count = sum(1 for state in states if state.completed)
        item = CourseProgress(
            course=_card(course, len(states), enrolment.completed_at is not None),
            progress=Progress(
                completed_count=completed_count,
                total=len(states),
                completed_at=enrolment.completed_at,
            ),
            enrolled_at=enrolment.enrolled_at,
            last_activity_at=enrolment.last_activity_at,
            resume=_resume_lesson(states),
        )
        (dashboard.completed if enrolment.completed_at else dashboard.in_progress).append(item)
    dashboard.completed.sort(
        key=lambda item: cast(datetime, item.progress.completed_at), reverse=True
    )
    return dashboard


# --- for other apps -----------------------------------------------------------


def people_who_completed(*, course_slug: str, person_ids: Iterable[int]) -> set[int]:
    """Which of `person_ids` have completed the course with this slug (ever:
    a completion is a record and stays valid if the course is later
    unpublished). For the partners app: "who of this partner completed
    Business Foundations?" (`BUSINESS_FOUNDATIONS_SLUG`). One query."""
    person_ids = list(person_ids)
    if not person_ids:
        return set()
    return set(
        Enrolment.objects.filter(
            course__slug=course_slug,
            person_id__in=person_ids,
            completed_at__isnull=False,
        ).values_list("person_id", flat=True)
    )


def completions_for(*, user: User) -> list[Enrolment]:
    """The user's course completion records (for a profile), newest first."""
    return list(
        Enrolment.objects.filter(person=user, completed_at__isnull=False)
        .select_related("course")
        .order_by("-completed_at")
    )
