"""Enrolment and progress workflows.

Contract:
- `enrolment_create(*, person, course)` -> `(Enrolment, created)`. Idempotent:
  enrolling again returns the existing enrolment (`created` False); the unique
  constraint `courses_enrolment_unique_person_course` settles races. The course
  must be live and visible to the person, else `NotFound` (`course_not_found`).
- `lesson_complete(*, person, lesson_id)` -> `LessonCompletion`. Idempotent.
  Completing a lesson of a course the person is not enrolled in **enrols them
  automatically** (finishing a lesson is the clearest sign of taking the
  course; refusing would only add a click). A lesson that is not live, whose
  course is not live, or that the person may not see is `NotFound`
  (`lesson_not_found`, 404). When every live lesson of the course is complete,
  the enrolment's `completed_at` is set once and never cleared: lessons
  published later do not take a completion away (selectors flag new content).
- `enrolment_touch(*, person, lesson, enrolment=UNKNOWN)` remembers the lesson
  a person opened ("continue where you left off"); it does nothing unless they
  are enrolled, and re-opening the remembered lesson writes at most once per
  TOUCH_INTERVAL (5 minutes), so reading is not a write.
- Events (registration, waitlist, attendance, reminders): see the contract
  at the events section below.

Completion is decided with the enrolment row locked (`select_for_update`, a
no-op on SQLite whose IMMEDIATE transactions serialise writers anyway), so two
lessons completed at the same moment cannot both miss the course's completion.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from lms.errors import Conflict, NotFound, PermissionDenied
from lms.models import User
from lms.outbox import outbox_enqueue
from lms.permissions import is_programme_staff
from lms.types import AnyUser

from . import learner_page_cache, selectors, signals
from .models import (
    CoursePage,
    Enrolment,
    Event,
    EventRegistration,
    LessonPage,
    LessonProgress,
    RegistrationStatus,
)


@dataclass(frozen=True)
class LessonCompletion:
    lesson: LessonPage
    progress: LessonProgress
    enrolment: Enrolment
    lesson_created: bool  # False when the lesson was already complete
    enrolled_now: bool
    course_completed_now: bool


def _enrolment_get_or_create(
    *, person: User, course: CoursePage, now: datetime
) -> tuple[Enrolment, bool]:
    return Enrolment.objects.get_or_create(
        person=person,
        course=course,
        defaults={"enrolled_at": now, "last_activity_at": now},
    )


@transaction.atomic
def enrolment_create(*, person: User, course: CoursePage) -> tuple[Enrolment, bool]:
    course = selectors.course_get_for_learner(user=person, slug=course.slug)
    return _enrolment_get_or_create(person=person, course=course, now=timezone.now())


@transaction.atomic
def lesson_complete(*, person: User, lesson_id: int) -> LessonCompletion:
    lesson, course = selectors.lesson_get_for_learner(user=person, lesson_id=lesson_id)
    now = timezone.now()
    enrolment, enrolled_now = _enrolment_get_or_create(person=person, course=course, now=now)
    enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)

    progress, lesson_created = LessonProgress.objects.get_or_create(
        person=person, lesson=lesson, defaults={"completed_at": now}
    )
    enrolment.last_lesson = lesson
    enrolment.last_activity_at = now
    update_fields = ["last_lesson", "last_activity_at"]

    course_completed_now = False
    if enrolment.completed_at is None:
        hidden = selectors.hidden_paths_for(person)
        live_ids = {row.pk for row in selectors.live_lessons_of([course.path], hidden)}
        done_ids = set(
            LessonProgress.objects.filter(person=person, lesson_id__in=live_ids).values_list(
                "lesson_id", flat=True
            )
        )
        if live_ids and live_ids <= done_ids:
            enrolment.completed_at = now
            update_fields.append("completed_at")
            course_completed_now = True
    enrolment.save(update_fields=update_fields)
    if course_completed_now:
        transaction.on_commit(
            lambda: signals.course_completed.send(sender=Enrolment, enrolment=enrolment)
        )
    return LessonCompletion(
        lesson=lesson,
        progress=progress,
        enrolment=enrolment,
        lesson_created=lesson_created,
        enrolled_now=enrolled_now,
        course_completed_now=course_completed_now,
    )


# Re-opening the lesson already remembered refreshes `last_activity_at` at most
# this often: a page view must not be a database write (on SQLite every write
# takes the database's single write lock).
TOUCH_INTERVAL = timedelta(minutes=5)


class _Unread(Enum):
    UNKNOWN = "unknown"


UNKNOWN = _Unread.UNKNOWN  # `enrolment_touch(enrolment=...)`: the caller has not read it


def enrolment_touch(
    *,
    person: AnyUser,
    lesson: LessonPage,
    enrolment: Enrolment | None | Literal[_Unread.UNKNOWN] = UNKNOWN,
    now: datetime | None = None,
) -> bool:
    """Remember the lesson a person opened; True when a row was written.

    Writes only when the lesson differs from the one remembered or the last
    activity is older than TOUCH_INTERVAL, with one conditional UPDATE (no row
    for people not enrolled). A caller that has just read the enrolment passes
    it (`None`: not enrolled), and then nothing at all runs when there is
    nothing to change."""
    if not person.is_authenticated:
        return False
    now = now or timezone.now()
    since = now - TOUCH_INTERVAL
    if enrolment is None:
        return False
    if (
        enrolment is not UNKNOWN
        and enrolment.last_lesson_id == lesson.pk
        and enrolment.last_activity_at > since
    ):
        return False
    course_path = lesson.path[: -selectors.STEPLEN]
    stale = ~Q(last_lesson_id=lesson.pk) | Q(last_activity_at__lte=since)
    updated = (
        Enrolment.objects.filter(person=person, course__path=course_path)
        .filter(stale)
        .update(last_lesson=lesson, last_activity_at=now)
    )
    if updated:  # a queryset update sends no post_save
        learner_page_cache.learner_changed(person.pk)
    return bool(updated)


# --- instructor-led events ----------------------------------------------------------
#
# Contract:
# - `event_register(*, person, event_id)` -> `(EventRegistration, created)`. A free
#   seat gives status "registered", a full session "waitlisted". Registering again
#   returns the active registration (`created` False). Refused: unknown event
#   (NotFound `event_not_found`), cancelled (Conflict `event_cancelled`), already
#   started or past (Conflict `event_past`).
# - `event_registration_cancel(*, person, event_id)` -> the cancelled registration.
#   A freed seat goes to the first waitlisted person (arrival order), who is told
#   by e-mail after commit. Refused: no active registration (NotFound
#   `registration_not_found`), session already started (Conflict `event_past`).
# - `event_attendance_record(*, by, event_id, attended_ids)`: the event's instructor
#   or programme staff mark who attended among the people holding a seat.
# - `event_cancel(*, by, event_id)`: the instructor or programme staff cancel a
#   session (once; registrations are kept) and everyone registered or waiting is
#   e-mailed after commit.
#
# Seats: every change locks the event row first (`select_for_update`; SQLite's
# IMMEDIATE transactions serialise writers anyway) and moves `seats_taken` with a
# conditional UPDATE (`seats_taken < capacity`), backed by the check constraint
# `courses_event_seats_within_capacity` and the partial unique constraint
# `courses_eventregistration_one_active_per_person`. So 100 people racing for the
# last 3 seats give exactly 3 seats and 97 waitlisted, in arrival order.


def _event_locked(event_id: int) -> Event:
    if not 0 < event_id <= selectors.MAX_ID:
        raise NotFound("No such event.", code="event_not_found")
    event = Event.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        raise NotFound("No such event.", code="event_not_found")
    return event


def check_event_open_for_registration(event: Event, *, now: datetime) -> None:
    if event.cancelled_at is not None:
        raise Conflict("This session was cancelled.", code="event_cancelled")
    if event.starts_at <= now:
        raise Conflict("This session has already started.", code="event_past")


def event_register(*, person: User, event_id: int) -> tuple[EventRegistration, bool]:
    try:
        return _event_register(person=person, event_id=event_id)
    except IntegrityError:
        # The same person registering twice at the same moment: the partial
        # unique constraint let one through; the other gets the first's row.
        existing = EventRegistration.objects.filter(event_id=event_id, person=person).exclude(
            status=RegistrationStatus.CANCELLED
        )
        registration = existing.first()
        if registration is None:
            raise
        return registration, False


@transaction.atomic
def _event_register(*, person: User, event_id: int) -> tuple[EventRegistration, bool]:
    event = _event_locked(event_id)
    now = timezone.now()  # after the lock: arrival order is the order seats are given
    existing = (
        EventRegistration.objects.filter(event=event, person=person)
        .exclude(status=RegistrationStatus.CANCELLED)
        .first()
    )
    if existing is not None:
        return existing, False
    check_event_open_for_registration(event, now=now)
    seat = Event.objects.filter(
        pk=event.pk, seats_taken__lt=F("capacity"), cancelled_at__isnull=True
    ).update(seats_taken=F("seats_taken") + 1)
    registration = EventRegistration.objects.create(
        event=event,
        person=person,
        status=RegistrationStatus.REGISTERED if seat else RegistrationStatus.WAITLISTED,
        created_at=now,
    )
    return registration, True


@transaction.atomic
def event_registration_cancel(*, person: User, event_id: int) -> EventRegistration:
    now = timezone.now()
    event = _event_locked(event_id)
    registration = (
        EventRegistration.objects.filter(event=event, person=person)
        .exclude(status=RegistrationStatus.CANCELLED)
        .first()
    )
    if registration is None:
        raise NotFound("You are not registered for this session.", code="registration_not_found")
    if event.starts_at <= now:
        raise Conflict("This session has already started.", code="event_past")
    held_seat = registration.status == RegistrationStatus.REGISTERED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.save(update_fields=["status", "cancelled_at"])
    if held_seat and not _promote_first_waitlisted(event=event, now=now):
        Event.objects.filter(pk=event.pk, seats_taken__gt=0).update(
            seats_taken=F("seats_taken") - 1
        )
    return registration


def _promote_first_waitlisted(*, event: Event, now: datetime) -> EventRegistration | None:
    """Give the freed seat to the first waitlisted person (the seat count stays)."""
    waitlist = EventRegistration.objects.filter(
        event=event, status=RegistrationStatus.WAITLISTED
    ).order_by("pk")
    for candidate in waitlist[:10]:
        promoted = EventRegistration.objects.filter(
            pk=candidate.pk, status=RegistrationStatus.WAITLISTED
        ).update(status=RegistrationStatus.REGISTERED, promoted_at=now)
        if promoted:
            outbox_enqueue("courses.tasks.send_seat_promotion_email", candidate.pk)
            return candidate
    return None


def check_can_manage_event(*, user: User, event_id: int) -> None:
    if not 0 < event_id <= selectors.MAX_ID:
        raise NotFound("No such event.", code="event_not_found")
    event = Event.objects.filter(pk=event_id).only("instructor_id").first()
    if event is None:
        raise NotFound("No such event.", code="event_not_found")
    if not (event.instructor_id == user.pk or is_programme_staff(user)):
        raise PermissionDenied("Only the session's instructor or programme staff may do this.")


@transaction.atomic
def event_attendance_record(*, by: User, event_id: int, attended_ids: Iterable[int | str]) -> int:
    """Mark attendance for the people holding a seat; returns how many attended."""
    check_can_manage_event(user=by, event_id=event_id)
    event = _event_locked(event_id)
    attended = {int(pk) for pk in attended_ids}
    seats = EventRegistration.objects.filter(event=event, status=RegistrationStatus.REGISTERED)
    seats.filter(person_id__in=attended).update(attended=True)
    seats.exclude(person_id__in=attended).update(attended=False)
    return seats.filter(attended=True).count()


def event_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail seat holders of sessions starting within 24 hours, once each
    (`reminded_at` is claimed with a conditional UPDATE in the transaction
    that sends, so a send that fails, or a worker killed before the commit,
    leaves it for the next hourly run)."""
    from django.core.mail import send_mail

    now = now or timezone.now()
    due = EventRegistration.objects.filter(
        status=RegistrationStatus.REGISTERED,
        reminded_at__isnull=True,
        event__cancelled_at__isnull=True,
        event__starts_at__gt=now,
        event__starts_at__lte=now + timedelta(hours=24),
    ).select_related("event", "person")
    sent = 0
    for registration in due:
        with transaction.atomic():
            claimed = EventRegistration.objects.filter(
                pk=registration.pk, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not claimed:
                continue
            event = registration.event
            send_mail(
                subject=f"Reminder: {event.title} starts soon",
                message=(
                    f"{event.title} starts soon: {event.when_for(registration.person)}.\n"
                    f"Join: {event.join_url}\n"
                ),
                from_email=None,
                recipient_list=[registration.person.email],
            )
        sent += 1
    return sent


@transaction.atomic
def event_cancel(*, by: User, event_id: int) -> Event:
    check_can_manage_event(user=by, event_id=event_id)
    event = _event_locked(event_id)
    cancelled = Event.objects.filter(pk=event.pk, cancelled_at__isnull=True).update(
        cancelled_at=timezone.now()
    )
    if cancelled:
        outbox_enqueue("courses.tasks.send_event_cancelled_emails", event.pk)
    event.refresh_from_db()
    return event
