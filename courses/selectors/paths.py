"""Reads for the learning-path pages: a path's steps with the person's state.

Part of courses.selectors; its contract is in that package's docstring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from lms.errors import NotFound
from lms.types import AnyUser

from ..models import Certification, CoursePage, Enrolment, LearningPathCourse
from ..models import LearningPath as AuthoredPath
from .learning import (
    STEPLEN,
    Progress,
    _done_ids,
    hidden_paths_for,
    live_lessons_of,
    visible_q,
)

# The states a step can be in, by kind. "coming": programme staff have not
# published this certification's exam or project yet.
COURSE_STEP_STATES = ("not_started", "in_progress", "completed")
EXAM_STEP_STATES = ("not_started", "in_progress", "passed", "failed", "certified", "coming")
PROJECT_STEP_STATES = (
    "not_submitted",
    "submitted",
    "in_review",
    "revise",
    "passed",
    "failed",
    "coming",
)
CERTIFICATION_STEP_STATES = ("not_issued", "active", "expiring", "expired", "revoked", "coming")
# States in which a step counts as done towards the path's progress.
DONE_STEP_STATES = frozenset({"completed", "passed", "certified", "active", "expiring"})


@dataclass(frozen=True)
class PathStep:
    kind: str  # "course", "exam", "project" or "certification"
    title: str
    url: str
    state: str  # one of the kind's *_STEP_STATES
    percent: int = 0
    # When the next attempt opens (a failed exam waiting out its retake time).
    available_at: datetime | None = None
    # The moment that goes with the state: an open attempt's deadline, the
    # day an exam was passed, a certificate's expiry.
    at: datetime | None = None
    # What the person should read next (a grader's comments on a revision).
    note: str = ""
    # The call to action the URL leads to ("Start", "Resume", "Renew"...).
    action: str = ""

    @property
    def done(self) -> bool:
        return self.state in DONE_STEP_STATES

    @property
    def progress(self) -> float:
        """This step's share of done, 0-1 (a course counts its lessons)."""
        if self.done:
            return 1.0
        if self.kind == "course":
            return self.percent / 100
        return 0.0


PathStepsProvider = Callable[..., dict[str, list[PathStep]]]
_path_step_providers: list[PathStepsProvider] = []


def register_path_steps(provider: PathStepsProvider) -> PathStepsProvider:
    """Let a higher app add the steps after the courses (exam, project, certification).

    `provider(user=, certifications=[slug, ...])` returns, by certification
    slug, its steps for that path, in order, with the person's state; a fixed
    number of queries for all of them. Apps register in their `ready()`;
    steps follow the order of registration.
    """
    if provider not in _path_step_providers:
        _path_step_providers.append(provider)
    return provider


@dataclass(frozen=True)
class LearningPath:
    slug: str
    certification: str  # "developer", "architect", or "none" (a sales path)
    title: str
    intro: str
    steps: list[PathStep]
    # A path to no certification ends in the completion record: the day its
    # last course was completed (None while some are not).
    completed_at: datetime | None = None

    @property
    def completed_steps(self) -> int:
        return sum(1 for step in self.steps if step.done)

    @property
    def percent(self) -> int:
        """Progress along the path in %: done steps, plus a started course's lessons."""
        if not self.steps:
            return 0
        return int(100 * sum(step.progress for step in self.steps) / len(self.steps))

    @property
    def leads_to_certification(self) -> bool:
        return self.certification != Certification.NONE


PATH_CERTIFICATIONS = [Certification.DEVELOPER, Certification.ARCHITECT]


def learning_path_list() -> list[AuthoredPath]:
    """The published paths, in their authored order (1 query)."""
    return list(AuthoredPath.objects.filter(is_published=True))


def learning_path_for(
    *, user: AnyUser, slug: str, path: AuthoredPath | None = None
) -> LearningPath:
    """A path as instructors authored it, with the user's state on each step:
    its live courses in the authored order, then, for a certification path,
    the exam, the project and the certificate.

    The steps after the courses come from the higher apps that own them,
    through `register_path_steps` (they sit above courses). A course that is
    unpublished or hidden from the user is left out. NotFound
    (`path_not_found`) for an unknown or unpublished path. Pass `path` when
    it was read already.
    """
    if path is None:
        path = AuthoredPath.objects.filter(slug=slug, is_published=True).first()
    if path is None:
        raise NotFound("No such learning path.", code="path_not_found")
    return learning_paths_for(user=user, paths=[path])[0]


def learning_paths_for(
    *, user: AnyUser, paths: list[AuthoredPath], hidden: list[str] | None = None
) -> list[LearningPath]:
    """`learning_path_for` for several paths at once (the dashboard lists
    every published one): the courses, their lessons and the person's
    enrolments are read once for all of them, and each step provider is
    asked once for every certification, so the query count does not grow
    with the number of paths. Pass `hidden` when the caller has read it
    already."""
    if not paths:
        return []
    if hidden is None:
        hidden = hidden_paths_for(user)
    positions: dict[int, dict[int, int]] = defaultdict(dict)
    courses: dict[int, CoursePage] = {}
    for row in (
        LearningPathCourse.objects.filter(
            path_id__in=[path.pk for path in paths], course__live=True
        )
        .filter(visible_q(hidden, prefix="course__"))
        .select_related("course")
    ):
        positions[row.path_id][row.course_id] = row.sort_order
        courses[row.course_id] = row.course
    lessons_by_course = defaultdict(list)
    lessons = live_lessons_of([course.path for course in courses.values()], hidden, done_by=user)
    for lesson in lessons:
        lessons_by_course[lesson.path[:-STEPLEN]].append(lesson.pk)
    enrolments = {}
    if user.is_authenticated and courses:
        enrolments = {
            enrolment.course_id: enrolment
            for enrolment in Enrolment.objects.filter(person=user, course_id__in=list(courses))
        }
    done = _done_ids(lessons)
    certifications = sorted(
        {path.certification for path in paths if path.certification != Certification.NONE}
    )
    later: dict[str, list[PathStep]] = defaultdict(list)
    if certifications:
        for provider in _path_step_providers:
            for certification, steps in provider(user=user, certifications=certifications).items():
                later[certification].extend(steps)
    return [
        _path_with_steps(
            path,
            positions[path.pk],
            courses,
            lessons_by_course,
            enrolments,
            done,
            later[path.certification],
        )
        for path in paths
    ]


def _path_with_steps(
    path: AuthoredPath,
    positions: dict[int, int],
    courses: dict[int, CoursePage],
    lessons_by_course: dict[str, list[int]],
    enrolments: dict[int, Enrolment],
    done: set[int],
    later: list[PathStep],
) -> LearningPath:
    ordered = sorted(
        (course for pk, course in courses.items() if pk in positions),
        key=lambda course: (positions[course.pk], course.pk),
    )
    steps = []
    for course in ordered:
        enrolment = enrolments.get(course.pk)
        lesson_ids = lessons_by_course[course.path]
        progress = Progress(
            completed_count=sum(1 for pk in lesson_ids if pk in done),
            total=len(lesson_ids),
            completed_at=enrolment.completed_at if enrolment else None,
        )
        if enrolment is None:
            state = "not_started"
        elif enrolment.completed_at:
            state = "completed"
        else:
            state = "in_progress"
        steps.append(PathStep("course", course.title, course.url, state, progress.percent))
    completed_at = None
    if path.certification != Certification.NONE:
        steps.extend(later)
    elif ordered and all(step.state == "completed" for step in steps):
        completed_at = max(cast(datetime, enrolments[course.pk].completed_at) for course in ordered)
    return LearningPath(
        slug=path.slug,
        certification=path.certification,
        title=path.title,
        intro=path.intro,
        steps=steps,
        completed_at=completed_at,
    )
