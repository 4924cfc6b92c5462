"""Courses JSON API (a ninja Router mounted by cms.api at /api/v1/).

Endpoints need an authenticated caller (bearer token or session + CSRF, from
the API root). Only live courses and lessons the caller may see exist here;
anything else answers 404 (`course_not_found`, `lesson_not_found`). Bad
parameters answer 422 `validation_error`. Errors come from lms.api's handlers.

- GET  /courses                   catalogue (filters `kind`, `level`, `certification`, `q`),
                                  paginated (lms.pagination; the course id is the cursor)
- GET  /courses/{slug}            one course with its lessons and the caller's progress
- POST /courses/{slug}/enrolment  enrol: 201 new, 200 already enrolled (same enrolment)
- POST /lessons/{id}/completion   complete a lesson (enrols automatically, see
                                  courses.services): 201 new, 200 already complete
- GET  /me/progress               the caller's dashboard
- GET  /paths/{slug}              a learning path with your state on each step
- GET  /events                    upcoming sessions (join link only for seat holders),
                                  paginated (the event id is the cursor)
- POST /events/{id}/registration  register: 201 (seat or waitlist), 200 already registered
- DELETE /events/{id}/registration  cancel: 204; the first waitlisted person gets the seat
"""

from datetime import datetime
from typing import Literal

from ninja import Field, Path, Query, Router, Schema, Status

from lms.pagination import PageParams, list_page, page_of

from . import selectors, services

MAX_ID = 2**63 - 1  # beyond this the database's integer column overflows
SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"

router = Router(tags=["courses"])

Kind = Literal["sales", "technical"]
Level = Literal["beginner", "intermediate", "advanced"]
CertificationKey = Literal["none", "developer", "architect"]


class ErrorOut(Schema):
    detail: str
    code: str


class CatalogueQuery(Schema):
    kind: Kind | None = None
    level: Level | None = None
    certification: CertificationKey | None = None
    q: str = Field("", max_length=selectors.MAX_QUERY_LENGTH)


class CourseOut(Schema):
    id: int
    slug: str
    title: str
    url: str
    summary: str
    kind: Kind
    level: Level
    certification: CertificationKey
    estimated_duration_minutes: int
    lesson_count: int
    enrolled: bool
    completed: bool


class ProgressOut(Schema):
    completed_lessons: int
    total_lessons: int
    percent: int
    completed_at: datetime | None
    has_new_content: bool


class LessonOut(Schema):
    id: int
    title: str
    url: str
    position: int
    estimated_minutes: int
    completed: bool


class EnrolmentOut(Schema):
    course: str
    enrolled_at: datetime
    completed_at: datetime | None
    last_lesson_id: int | None


class CourseDetailOut(CourseOut):
    outcomes: list[str]
    lessons: list[LessonOut]
    enrolment: EnrolmentOut | None
    progress: ProgressOut | None
    resume_lesson_id: int | None


class CompletionOut(Schema):
    lesson_id: int
    completed_at: datetime
    enrolled_now: bool
    course_completed_now: bool
    enrolment: EnrolmentOut
    progress: ProgressOut


class CourseProgressOut(Schema):
    course: CourseOut
    progress: ProgressOut
    enrolled_at: datetime
    last_activity_at: datetime
    resume_lesson_id: int | None


class MyProgressOut(Schema):
    continue_with: CourseProgressOut | None
    in_progress: list[CourseProgressOut]
    completed: list[CourseProgressOut]


def _progress(progress: selectors.Progress) -> dict:
    return {
        "completed_lessons": progress.completed_count,
        "total_lessons": progress.total,
        "percent": progress.percent,
        "completed_at": progress.completed_at,
        "has_new_content": progress.has_new_content,
    }


def _enrolment(enrolment, slug: str) -> dict:
    return {
        "course": slug,
        "enrolled_at": enrolment.enrolled_at,
        "completed_at": enrolment.completed_at,
        "last_lesson_id": enrolment.last_lesson_id,
    }


def _course_progress(item: selectors.CourseProgress) -> dict:
    return {
        "course": item.course,
        "progress": _progress(item.progress),
        "enrolled_at": item.enrolled_at,
        "last_activity_at": item.last_activity_at,
        "resume_lesson_id": item.resume.id if item.resume else None,
    }


Slug = Path(..., min_length=1, max_length=255, pattern=SLUG_PATTERN)


@router.get(
    "/courses",
    response={200: page_of(CourseOut), 400: ErrorOut},
    summary="The course catalogue",
)
def course_list(request, filters: Query[CatalogueQuery], page: Query[PageParams]):
    """In catalogue order, paginated (the course `id` is the cursor)."""
    cards, has_more = selectors.course_page_for_catalogue(
        page=page,
        filters=selectors.CatalogueFilters(
            kind=filters.kind or "",
            level=filters.level or "",
            certification=filters.certification or "",
        ),
        query=filters.q,
        user=request.auth,
    )
    return list_page(cards, has_more)


@router.get(
    "/courses/{slug}",
    response={200: CourseDetailOut, 404: ErrorOut},
    summary="One course with its lessons and your progress",
)
def course_get(request, slug: str = Slug):
    course = selectors.course_get_for_learner(user=request.auth, slug=slug)
    detail = selectors.course_detail_for(user=request.auth, course=course)
    return {
        **detail.card.__dict__,
        "outcomes": course.outcome_list,
        "lessons": detail.lessons,
        "enrolment": _enrolment(detail.enrolment, course.slug) if detail.enrolment else None,
        "progress": _progress(detail.progress) if detail.enrolment else None,
        "resume_lesson_id": detail.resume.id if detail.resume else None,
    }


@router.post(
    "/courses/{slug}/enrolment",
    response={200: EnrolmentOut, 201: EnrolmentOut, 404: ErrorOut},
    summary="Enrol in a course (idempotent)",
)
def course_enrol(request, slug: str = Slug):
    """201 with the new enrolment; 200 with the existing one when already enrolled."""
    course = selectors.course_get_for_learner(user=request.auth, slug=slug)
    enrolment, created = services.enrolment_create(person=request.auth, course=course)
    return Status(201 if created else 200, _enrolment(enrolment, course.slug))


@router.post(
    "/lessons/{lesson_id}/completion",
    response={200: CompletionOut, 201: CompletionOut, 404: ErrorOut},
    summary="Mark a lesson complete (idempotent; enrols you in its course)",
)
def lesson_completion(request, lesson_id: int = Path(..., ge=1, le=MAX_ID)):
    """Completing a lesson of a course you are not enrolled in enrols you.
    201 when the lesson was not complete yet, 200 when it already was."""
    result = services.lesson_complete(person=request.auth, lesson_id=lesson_id)
    course = result.enrolment.course
    detail = selectors.course_detail_for(user=request.auth, course=course)
    return Status(
        201 if result.lesson_created else 200,
        {
            "lesson_id": lesson_id,
            "completed_at": result.progress.completed_at,
            "enrolled_now": result.enrolled_now,
            "course_completed_now": result.course_completed_now,
            "enrolment": _enrolment(result.enrolment, course.slug),
            "progress": _progress(detail.progress),
        },
    )


@router.get("/me/progress", response=MyProgressOut, tags=["me"], summary="Your learning")
def my_progress(request):
    dashboard = selectors.dashboard_for(user=request.auth)
    return {
        "continue_with": (
            _course_progress(dashboard.continue_with) if dashboard.continue_with else None
        ),
        "in_progress": [_course_progress(item) for item in dashboard.in_progress],
        "completed": [_course_progress(item) for item in dashboard.completed],
    }


PathStepState = Literal[
    "not_started",
    "in_progress",
    "completed",
    "passed",
    "failed",
    "certified",
    "not_submitted",
    "submitted",
    "in_review",
    "revise",
    "not_issued",
    "active",
    "expiring",
    "expired",
    "revoked",
    "coming",
]


class PathStepOut(Schema):
    kind: Literal["course", "exam", "project", "certification"]
    title: str
    url: str = Field(description="Where to go for this step; empty when there is nowhere yet.")
    state: PathStepState = Field(
        description=(
            "course: not_started | in_progress | completed; exam: not_started | in_progress |"
            " passed | failed | certified; project: not_submitted | submitted | in_review |"
            " revise | passed | failed; certification: not_issued | active | expiring |"
            " expired | revoked. `coming`: the certification's exam or project is not"
            " published yet."
        )
    )
    percent: int = Field(description="A course's lessons done, in %.")
    available_at: datetime | None = Field(
        description="A failed exam: when the next attempt opens (null when it is open now)."
    )
    at: datetime | None = Field(
        description=(
            "An exam in progress: its deadline; passed: when; a certification: its expiry."
        )
    )
    note: str = Field(description="A revision's grader comments, or why an exam is closed.")
    action: str = Field(description="What the URL offers: Start, Resume, Renew...")


class LearningPathOut(Schema):
    slug: str
    certification: Literal["developer", "architect", "none"] = Field(
        description="The certification the path leads to; none for a sales path."
    )
    title: str
    intro: str
    completed_at: datetime | None = Field(
        description="A path to no certification: when its last course was completed."
    )
    percent: int = Field(description="Progress along the path, in %.")
    steps: list[PathStepOut]


@router.get(
    "/paths/{slug}",
    response={200: LearningPathOut, 404: ErrorOut},
    tags=["paths"],
    summary="The learning path to a certification",
)
def learning_path_get(request, slug: str = Slug):
    """The path's courses in the order instructors set, then (for a certification
    path) the exam, the project and the certification, each with your state."""
    return selectors.learning_path_for(user=request.auth, slug=slug)


# --- events ---------------------------------------------------------------------------


class EventOut(Schema):
    id: int
    title: str
    description: str
    course_title: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    instructor_name: str
    capacity: int
    seats_left: int
    status: Literal["registered", "waitlisted", ""]
    waitlist_position: int | None
    join_url: str


class RegistrationOut(Schema):
    event_id: int
    status: Literal["registered", "waitlisted", "cancelled"]
    created_at: datetime
    waitlist_position: int | None
    join_url: str


EventId = Path(..., ge=1, le=MAX_ID)


def _registration(request, event_id: int, registration) -> dict:
    card = selectors.event_get_for(user=request.auth, event_id=event_id)
    return {
        "event_id": event_id,
        "status": registration.status,
        "created_at": registration.created_at,
        "waitlist_position": card.waitlist_position,
        "join_url": card.join_url,
    }


@router.get(
    "/events",
    response={200: page_of(EventOut), 400: ErrorOut},
    tags=["events"],
    summary="Upcoming sessions",
)
def event_list(request, page: Query[PageParams]):
    """Soonest first, paginated (the event `id` is the cursor). The join link is
    filled in only for sessions where you hold a seat."""
    cards, has_more = selectors.event_page_upcoming(user=request.auth, page=page)
    return list_page(cards, has_more)


@router.post(
    "/events/{event_id}/registration",
    response={200: RegistrationOut, 201: RegistrationOut, 404: ErrorOut, 409: ErrorOut},
    tags=["events"],
    summary="Register for a session (or join its waitlist)",
)
def event_register(request, event_id: int = EventId):
    """201 with status `registered` or `waitlisted`; 200 with your existing
    registration if you registered before. 409 `event_cancelled` / `event_past`."""
    registration, created = services.event_register(person=request.auth, event_id=event_id)
    return Status(201 if created else 200, _registration(request, event_id, registration))


@router.delete(
    "/events/{event_id}/registration",
    response={204: None, 404: ErrorOut, 409: ErrorOut},
    tags=["events"],
    summary="Cancel your seat or waitlist place",
)
def event_unregister(request, event_id: int = EventId):
    """A freed seat goes to the first person on the waitlist, who is e-mailed."""
    services.event_registration_cancel(person=request.auth, event_id=event_id)
    return Status(204, None)
