"""Reads for instructor-led events: upcoming events, one event, its seat holders.

Part of courses.selectors; its contract is in that package's docstring.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from lms.errors import NotFound
from lms.pagination import PageParams, paginate
from lms.types import AnyUser

from ..models import (
    Event,
    EventRegistration,
    RegistrationStatus,
)

# --- instructor-led events ----------------------------------------------------------


@dataclass(frozen=True)
class EventCard:
    id: int
    title: str
    description: str
    course_title: str
    course_url: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    instructor_name: str
    capacity: int
    seats_left: int
    status: str  # "registered", "waitlisted" or "" (not registered)
    waitlist_position: int | None
    join_url: str  # only for people holding a seat
    cancelled: bool = False
    instructor_id: int | None = None


def _event_cards(user: AnyUser, events: list[Event]) -> list[EventCard]:
    mine: dict[int, EventRegistration] = {}
    positions: dict[int, int] = {}
    if user.is_authenticated and events:
        mine = {
            registration.event_id: registration
            for registration in EventRegistration.objects.filter(
                person=user, event__in=events
            ).exclude(status=RegistrationStatus.CANCELLED)
        }
        waiting = [
            event_id
            for event_id, registration in mine.items()
            if registration.status == RegistrationStatus.WAITLISTED
        ]
        if waiting:
            queue = defaultdict(list)
            for event_id, pk in (
                EventRegistration.objects.filter(
                    event_id__in=waiting, status=RegistrationStatus.WAITLISTED
                )
                .order_by("pk")
                .values_list("event_id", "pk")
            ):
                queue[event_id].append(pk)
            positions = {
                event_id: queue[event_id].index(mine[event_id].pk) + 1 for event_id in waiting
            }
    cards = []
    for event in events:
        registration = mine.get(event.pk)
        status = registration.status if registration else ""
        cards.append(
            EventCard(
                id=event.pk,
                title=event.title,
                description=event.description,
                course_title=event.course.title if event.course else "",
                course_url=event.course.url if event.course and event.course.live else "",
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                time_zone=event.time_zone,
                instructor_name=event.instructor.get_full_name() or event.instructor.legal_name,
                capacity=event.capacity,
                seats_left=max(event.capacity - event.seats_taken, 0),
                status=status,
                waitlist_position=positions.get(event.pk),
                join_url=event.join_url if status == RegistrationStatus.REGISTERED else "",
                cancelled=event.cancelled_at is not None,
                instructor_id=event.instructor_id,
            )
        )
    return cards


def _upcoming(now: datetime | None) -> QuerySet[Event]:

    now = now or timezone.now()
    return Event.objects.filter(cancelled_at__isnull=True, ends_at__gt=now).select_related(
        "instructor", "course"
    )


EVENT_ORDER = ("starts_at", "id")


def event_list_upcoming(*, user: AnyUser, now: datetime | None = None) -> list[EventCard]:
    """Sessions not cancelled and not over yet, soonest first, with the user's status."""
    return _event_cards(user, list(_upcoming(now).order_by(*EVENT_ORDER)))


def event_page_upcoming(
    *, user: AnyUser, page: PageParams, now: datetime | None = None
) -> tuple[list[EventCard], bool]:
    """One page of `event_list_upcoming` (the event id is the cursor), and whether more follow."""
    events, has_more = paginate(_upcoming(now), page, order=EVENT_ORDER)
    return _event_cards(user, events), has_more


MAX_ID = 2**63 - 1  # larger ids overflow the database's integer column


def event_get_for(*, user: AnyUser, event_id: int) -> EventCard:
    if not 0 < event_id <= MAX_ID:
        raise NotFound("No such event.", code="event_not_found")
    event = Event.objects.select_related("instructor", "course").filter(pk=event_id).first()
    if event is None:
        raise NotFound("No such event.", code="event_not_found")
    return _event_cards(user, [event])[0]


def event_seat_holders(*, event_id: int) -> list[EventRegistration]:
    """People holding a seat, in arrival order (for the attendance sheet)."""
    return list(
        EventRegistration.objects.filter(event_id=event_id, status=RegistrationStatus.REGISTERED)
        .select_related("person")
        .order_by("pk")
    )
