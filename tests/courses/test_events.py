"""Instructor-led events: registration, waitlist, promotion, calendar, reminders."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from courses import ics, selectors, services
from courses.models import Event, EventRegistration
from lms.errors import Conflict, NotFound, PermissionDenied
from lms.tokens import token_create
from tests.lms.api.helpers import assert_error
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import EventFactory

pytestmark = pytest.mark.django_db


def register(person, event):
    return services.event_register(person=person, event_id=event.pk)


def statuses(event):
    return list(
        EventRegistration.objects.filter(event=event)
        .order_by("pk")
        .values_list("status", flat=True)
    )


def assert_seat_count_matches(event):
    event.refresh_from_db()
    held = EventRegistration.objects.filter(event=event, status="registered").count()
    assert event.seats_taken == held <= event.capacity


# --- registration ---------------------------------------------------------------------


def test_seats_then_waitlist_in_arrival_order():
    event = EventFactory(capacity=2)
    people = [UserFactory() for _ in range(4)]
    results = [register(person, event) for person in people]
    assert [r.status for r, _ in results] == [
        "registered",
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    assert all(created for _, created in results)
    cards = [selectors.event_get_for(user=person, event_id=event.pk) for person in people]
    assert [card.waitlist_position for card in cards] == [None, None, 1, 2]
    assert [bool(card.join_url) for card in cards] == [True, True, False, False]
    assert_seat_count_matches(event)


def test_registering_twice_returns_the_same_registration(learner):
    event = EventFactory()
    first, created = register(learner, event)
    again, created_again = register(learner, event)
    assert created and not created_again and again.pk == first.pk
    assert EventRegistration.objects.count() == 1
    assert_seat_count_matches(event)


def test_registering_for_a_past_or_started_event_is_refused(learner):
    event = EventFactory(starts_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(Conflict) as raised:
        register(learner, event)
    assert raised.value.code == "event_past" and raised.value.status == 409
    assert not EventRegistration.objects.exists()


def test_registering_for_a_cancelled_event_is_refused(learner):
    event = EventFactory(cancelled_at=timezone.now())
    with pytest.raises(Conflict) as raised:
        register(learner, event)
    assert raised.value.code == "event_cancelled"


@pytest.mark.parametrize("event_id", [999_999, 0, -1, 2**64])
def test_registering_for_an_unknown_event_is_not_found(learner, event_id):
    with pytest.raises(NotFound):
        services.event_register(person=learner, event_id=event_id)


def test_a_freed_seat_goes_to_the_first_waitlisted_who_is_told(
    django_capture_on_commit_callbacks,
):
    event = EventFactory(capacity=1)
    holder, first, second = UserFactory(), UserFactory(), UserFactory()
    register(holder, event)
    register(first, event)
    register(second, event)
    with django_capture_on_commit_callbacks(execute=True):
        services.event_registration_cancel(person=holder, event_id=event.pk)
    assert statuses(event) == ["cancelled", "registered", "waitlisted"]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [first.email]
    assert "You have a seat" in mail.outbox[0].subject
    assert_seat_count_matches(event)
    # The e-mail task is idempotent: running it again sends nothing.
    from courses.tasks import send_seat_promotion_email

    promoted = EventRegistration.objects.get(person=first)
    assert send_seat_promotion_email(promoted.pk) is False
    assert len(mail.outbox) == 1


def test_cancelling_a_waitlist_place_frees_no_seat():
    event = EventFactory(capacity=1)
    holder, waiting = UserFactory(), UserFactory()
    register(holder, event)
    register(waiting, event)
    services.event_registration_cancel(person=waiting, event_id=event.pk)
    assert statuses(event) == ["registered", "cancelled"]
    assert_seat_count_matches(event)


def test_cancelling_a_seat_with_nobody_waiting_frees_it(learner):
    event = EventFactory(capacity=1)
    register(learner, event)
    services.event_registration_cancel(person=learner, event_id=event.pk)
    event.refresh_from_db()
    assert event.seats_taken == 0
    again, created = register(learner, event)  # may register again after cancelling
    assert created and again.status == "registered"


def test_cancelling_without_registration_is_not_found(learner):
    event = EventFactory()
    with pytest.raises(NotFound) as raised:
        services.event_registration_cancel(person=learner, event_id=event.pk)
    assert raised.value.code == "registration_not_found"


def test_the_database_refuses_an_end_before_the_start():
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        EventFactory(starts_at=start, ends_at=start - timedelta(hours=1))


# --- attendance and reminders -------------------------------------------------------


def test_the_instructor_marks_attendance_and_others_may_not(learner):
    event = EventFactory(capacity=2)
    other = UserFactory()
    register(learner, event)
    register(other, event)
    assert (
        services.event_attendance_record(
            by=event.instructor, event_id=event.pk, attended_ids=[learner.pk]
        )
        == 1
    )
    assert dict(EventRegistration.objects.values_list("person_id", "attended")) == {
        learner.pk: True,
        other.pk: False,
    }
    with pytest.raises(PermissionDenied):
        services.event_attendance_record(by=learner, event_id=event.pk, attended_ids=[])


def test_reminders_go_once_to_seat_holders_of_sessions_tomorrow():
    soon = EventFactory(starts_at=timezone.now() + timedelta(hours=20), capacity=1)
    later = EventFactory(starts_at=timezone.now() + timedelta(days=5))
    holder, waiting, later_holder = UserFactory(), UserFactory(), UserFactory()
    register(holder, soon)
    register(waiting, soon)
    register(later_holder, later)
    from courses.tasks import send_event_reminders

    assert send_event_reminders() == 1
    assert [message.to for message in mail.outbox] == [[holder.email]]
    assert send_event_reminders() == 0


def test_a_reminder_whose_send_fails_goes_out_on_the_next_run(monkeypatch):
    soon = EventFactory(starts_at=timezone.now() + timedelta(hours=20), capacity=1)
    holder = UserFactory()
    register(holder, soon)
    from courses.tasks import send_event_reminders

    def mail_server_down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("django.core.mail.send_mail", mail_server_down)
    with pytest.raises(ConnectionRefusedError):
        send_event_reminders()
    assert EventRegistration.objects.get(person=holder).reminded_at is None  # not claimed
    monkeypatch.undo()
    assert send_event_reminders() == 1
    assert [message.to for message in mail.outbox] == [[holder.email]]


def test_reminder_schedule_exists():
    from django_q.models import Schedule

    assert Schedule.objects.filter(func="courses.tasks.send_event_reminders").exists()


# --- calendar -------------------------------------------------------------------------


def test_calendar_entry_is_valid_escaped_and_folded():
    text = ics.calendar_entry(
        uid="event-1@example.com",
        title="Webhooks; retries, and more",
        description="Line one\nLine two " + "x" * 120,
        starts_at=datetime(2027, 1, 5, 9, 0, tzinfo=UTC),
        ends_at=datetime(2027, 1, 5, 10, 0, tzinfo=UTC),
        now=datetime(2026, 12, 1, tzinfo=UTC),
        url="https://meet.example.com/x",
    )
    lines = text.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20270105T090000Z" in lines and "DTEND:20270105T100000Z" in lines
    assert "SUMMARY:Webhooks\\; retries\\, and more" in lines
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # folded continuation


def test_calendar_download_reveals_the_join_link_to_seat_holders_only(client, learner):
    event = EventFactory(capacity=1)
    client.force_login(learner, backend=MODEL_BACKEND)
    response = client.get(f"/events/{event.pk}/calendar.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert "meet.example.com" not in response.content.decode()
    register(learner, event)
    assert (
        "URL:https://meet.example.com/webhooks"
        in client.get(f"/events/{event.pk}/calendar.ics").content.decode()
    )
    assert client.get("/events/999999/calendar.ics").status_code == 404


# --- pages ------------------------------------------------------------------------------


def test_events_page_register_waitlist_and_cancel(client, learner):
    full = EventFactory(title="Full workshop", capacity=1)
    register(UserFactory(), full)
    open_event = EventFactory(title="Open workshop", capacity=5)
    client.force_login(learner, backend=MODEL_BACKEND)
    html = client.get("/events/").content.decode()
    assert "Full: waitlist open" in html and "5 seats left" in html
    assert "meet.example.com" not in html

    client.post(f"/events/{open_event.pk}/registration/", {"action": "register"})
    client.post(f"/events/{full.pk}/registration/", {"action": "register"})
    html = client.get("/events/").content.decode()
    assert "You have a seat" in html and "Waitlist #1" in html
    assert html.count("meet.example.com") == 1

    client.post(f"/events/{open_event.pk}/registration/", {"action": "cancel"})
    assert EventRegistration.objects.get(person=learner, event=open_event).status == "cancelled"


def test_events_page_bad_input(client, learner):
    event = EventFactory(starts_at=timezone.now() - timedelta(hours=1))
    client.force_login(learner, backend=MODEL_BACKEND)
    url = f"/events/{event.pk}/registration/"
    assert client.post(url, {"action": "dance"}).status_code == 400
    assert client.get(url).status_code == 405
    response = client.post(url, {"action": "register"}, follow=True)
    assert "already started" in response.content.decode()
    assert client.post("/events/999999/registration/", {"action": "register"}).status_code == 404
    assert not EventRegistration.objects.exists()


def test_attendance_page_for_the_instructor_only(client, learner):
    event = EventFactory()
    register(learner, event)
    client.force_login(learner, backend=MODEL_BACKEND)
    assert client.get(f"/events/{event.pk}/attendance/").status_code == 403
    client.force_login(event.instructor, backend=MODEL_BACKEND)
    assert learner.legal_name in client.get(f"/events/{event.pk}/attendance/").content.decode()
    client.post(f"/events/{event.pk}/attendance/", {"attended": [str(learner.pk), "abc"]})
    assert EventRegistration.objects.get(person=learner).attended is True


def test_admin_refuses_an_event_ending_before_it_starts(client, instructor):
    client.force_login(instructor, backend=MODEL_BACKEND)
    response = client.post(
        "/admin/events/new/",
        {
            "title": "Backwards",
            "description": "",
            "course": "",
            "starts_at": "2030-01-05 10:00",
            "ends_at": "2030-01-05 09:00",
            "time_zone": "Europe/Dublin",
            "join_url": "https://meet.example.com/x",
            "instructor": str(instructor.pk),
            "capacity": "10",
        },
    )
    assert response.status_code == 200
    assert "must end after it starts" in response.content.decode()
    assert not Event.objects.exists()


def test_admin_refuses_an_unknown_time_zone(client, instructor):
    client.force_login(instructor, backend=MODEL_BACKEND)
    response = client.post(
        "/admin/events/new/",
        {
            "title": "Somewhere",
            "starts_at": "2030-01-05 10:00",
            "ends_at": "2030-01-05 11:00",
            "time_zone": "Mars/Olympus",
            "join_url": "https://meet.example.com/x",
            "instructor": str(instructor.pk),
            "capacity": "10",
        },
    )
    assert "not a known time zone" in response.content.decode()
    assert not Event.objects.exists()


# --- API ------------------------------------------------------------------------------


@pytest.fixture
def bearer(learner):
    return {"Authorization": f"Bearer {token_create(user=learner, name='ci')[1]}"}


def test_api_register_waitlist_and_cancel(client, bearer, learner):
    event = EventFactory(capacity=1)
    listed = client.get("/api/v1/events", headers=bearer).json()["data"]
    assert listed[0]["id"] == event.pk and listed[0]["join_url"] == ""
    url = f"/api/v1/events/{event.pk}/registration"
    first = client.post(url, headers=bearer)
    assert first.status_code == 201 and first.json()["status"] == "registered"
    assert first.json()["join_url"] == event.join_url
    again = client.post(url, headers=bearer)
    assert again.status_code == 200 and again.json()["status"] == "registered"

    other = UserFactory()
    other_bearer = {"Authorization": f"Bearer {token_create(user=other, name='ci')[1]}"}
    waiting = client.post(url, headers=other_bearer)
    assert waiting.status_code == 201 and waiting.json()["status"] == "waitlisted"
    assert waiting.json()["waitlist_position"] == 1 and waiting.json()["join_url"] == ""

    assert client.delete(url, headers=bearer).status_code == 204
    assert_error(client.delete(url, headers=bearer), 404, "registration_not_found")
    promoted = client.get("/api/v1/events", headers=other_bearer).json()["data"][0]
    assert promoted["status"] == "registered" and promoted["join_url"] == event.join_url


def test_api_bad_input(client, bearer):
    past = EventFactory(starts_at=timezone.now() - timedelta(hours=2))
    cancelled = EventFactory(cancelled_at=timezone.now())
    assert_error(
        client.post(f"/api/v1/events/{past.pk}/registration", headers=bearer), 409, "event_past"
    )
    assert_error(
        client.post(f"/api/v1/events/{cancelled.pk}/registration", headers=bearer),
        409,
        "event_cancelled",
    )
    assert_error(
        client.post("/api/v1/events/999999/registration", headers=bearer), 404, "event_not_found"
    )
    for bad in ["0", "abc", str(2**63)]:
        response = client.post(f"/api/v1/events/{bad}/registration", headers=bearer)
        assert_error(response, 422, "validation_error")
    assert_error(client.get("/api/v1/events"), 401, "not_authenticated")
    assert not EventRegistration.objects.exists()


def test_past_and_cancelled_events_are_not_listed(client, bearer):
    EventFactory(title="Past", starts_at=timezone.now() - timedelta(days=2))
    EventFactory(title="Cancelled", cancelled_at=timezone.now())
    EventFactory(title="Upcoming")
    listed = client.get("/api/v1/events", headers=bearer).json()["data"]
    assert [e["title"] for e in listed] == ["Upcoming"]


def test_instructors_may_manage_events_in_the_admin(instructor):
    assert instructor.has_perm("courses.add_event") and instructor.has_perm("courses.change_event")
    assert Group.objects.get(name="Instructors").permissions.filter(codename="view_event").exists()


def test_the_instructor_cancels_a_session_and_everyone_is_told_once(
    client, learner, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=1)
    waiting = UserFactory()
    register(learner, event)
    register(waiting, event)
    client.force_login(learner, backend=MODEL_BACKEND)
    assert client.post(f"/events/{event.pk}/cancel/").status_code == 403
    client.force_login(event.instructor, backend=MODEL_BACKEND)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/events/{event.pk}/cancel/")
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.cancelled_at is not None
    assert sorted(m.to[0] for m in mail.outbox) == sorted([learner.email, waiting.email])
    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(by=event.instructor, event_id=event.pk)  # again: nothing new
    assert len(mail.outbox) == 2
    with pytest.raises(Conflict):
        register(UserFactory(), event)
    assert client.get(f"/events/{event.pk}/cancel/").status_code == 405


@pytest.mark.parametrize("count", [2, 20])
def test_event_list_query_count_does_not_grow(client, learner, count):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(count):
        event = EventFactory(capacity=1)
        register(UserFactory(), event)
        register(learner, event)  # waitlisted everywhere: positions are computed
    client.force_login(learner, backend=MODEL_BACKEND)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/events/").content.decode()
    assert html.count("Waitlist #1") == count
    assert len(queries) == 6
