"""Reads for the catalogue, course, lesson and dashboard pages and the API.

Contract:
- Learners only ever see live (published) courses and lessons that their view
  restrictions let them see: a "login" restriction passes for anyone signed
  in, a "groups" restriction for members of one of its groups (and
  superusers); password-protected sections are hidden here (Wagtail itself
  asks for the password when the page is opened).
- Every function runs a fixed number of queries whatever the number of
  courses, lessons or blocks (tests pin the counts at two sizes).
- Progress counts only live lessons. A course's completion is a record kept on
  the enrolment (courses.services): it never vanishes when lessons are added
  later; `has_new_content` says a completed course has lessons the person has
  not done yet.
- Results are frozen dataclasses; pages and the API shape them further.
"""

# One module per concern; callers import from the package.
from .events import (
    MAX_ID,
    EventCard,
    event_get_for,
    event_list_upcoming,
    event_page_upcoming,
    event_seat_holders,
)
from .learning import (
    BUSINESS_FOUNDATIONS_SLUG,
    MAX_QUERY_LENGTH,
    STEPLEN,
    CatalogueFilters,
    CourseCard,
    CourseDetail,
    CourseProgress,
    Dashboard,
    LessonDetail,
    LessonState,
    Progress,
    catalogue_url,
    clean_query,
    completions_for,
    course_detail_for,
    course_get_for_learner,
    course_get_live,
    course_list_for_catalogue,
    course_page_for_catalogue,
    dashboard_for,
    hidden_paths_for,
    lesson_detail_for,
    lesson_get_for_learner,
    lesson_get_live,
    live_lessons_of,
    people_who_completed,
    prefetch_lesson_media,
    visible_q,
)
from .paths import (
    PATH_CERTIFICATIONS,
    LearningPath,
    PathStep,
    learning_path_for,
    learning_path_list,
    learning_paths_for,
    register_path_steps,
)

__all__ = [
    "EventCard",
    "MAX_ID",
    "event_get_for",
    "event_list_upcoming",
    "event_page_upcoming",
    "course_page_for_catalogue",
    "event_seat_holders",
    "BUSINESS_FOUNDATIONS_SLUG",
    "CatalogueFilters",
    "CourseCard",
    "CourseDetail",
    "CourseProgress",
    "Dashboard",
    "LearningPath",
    "LessonDetail",
    "LessonState",
    "MAX_QUERY_LENGTH",
    "PATH_CERTIFICATIONS",
    "PathStep",
    "Progress",
    "STEPLEN",
    "catalogue_url",
    "clean_query",
    "completions_for",
    "course_detail_for",
    "course_get_for_learner",
    "course_get_live",
    "course_list_for_catalogue",
    "dashboard_for",
    "hidden_paths_for",
    "learning_path_for",
    "learning_paths_for",
    "learning_path_list",
    "lesson_detail_for",
    "lesson_get_for_learner",
    "lesson_get_live",
    "live_lessons_of",
    "people_who_completed",
    "register_path_steps",
    "prefetch_lesson_media",
    "visible_q",
]
