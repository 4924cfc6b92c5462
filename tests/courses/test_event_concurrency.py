"""Real parallel registrations against PostgreSQL (SQLite serialises writers anyway)."""

import threading

import pytest
from django.db import connection

from courses import services
from courses.models import Event, EventRegistration
from lms.errors import DomainError
from tests.lms.factories import UserFactory

from .factories import EventFactory

THREADS = 20  # each thread registers several people: stays below max_connections

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def run_in_parallel(work_items, action):
    """Run `action(item)` for every item on THREADS threads started together."""
    chunks = [work_items[i::THREADS] for i in range(THREADS)]
    start_together = threading.Barrier(len(chunks))
    errors: list[str] = []
    record = threading.Lock()

    def worker(chunk):
        try:
            start_together.wait(timeout=10)
            for item in chunk:
                try:
                    action(item)
                except DomainError as error:
                    with record:
                        errors.append(error.code)
        except Exception as error:  # surfaced by the assertion in the test
            with record:
                errors.append(repr(error))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_a_hundred_people_race_for_the_last_three_seats():
    event = EventFactory(capacity=10)
    for person in UserFactory.create_batch(7):
        services.event_register(person=person, event_id=event.pk)
    racers = UserFactory.create_batch(100)

    errors = run_in_parallel(
        racers, lambda person: services.event_register(person=person, event_id=event.pk)
    )

    assert errors == []
    event.refresh_from_db()
    rows = list(EventRegistration.objects.filter(event=event, person__in=racers).order_by("pk"))
    assert len(rows) == 100
    assert [row.status for row in rows] == ["registered"] * 3 + ["waitlisted"] * 97
    # Arrival order: seats and waitlist places were given in the order rows were written.
    assert [row.created_at for row in rows] == sorted(row.created_at for row in rows)
    assert event.seats_taken == 10
    assert EventRegistration.objects.filter(event=event, status="registered").count() == 10


@pytest.mark.django_db(transaction=True)
def test_parallel_cancellations_promote_the_first_waitlisted_exactly_once_each():
    event = EventFactory(capacity=5)
    holders = UserFactory.create_batch(5)
    waiting = UserFactory.create_batch(10)
    for person in holders + waiting:
        services.event_register(person=person, event_id=event.pk)

    errors = run_in_parallel(
        holders,
        lambda person: services.event_registration_cancel(person=person, event_id=event.pk),
    )

    assert errors == []
    event.refresh_from_db()
    statuses = list(
        EventRegistration.objects.filter(event=event, person__in=waiting)
        .order_by("pk")
        .values_list("status", flat=True)
    )
    assert statuses == ["registered"] * 5 + ["waitlisted"] * 5
    assert event.seats_taken == 5 == Event.objects.get().capacity


@pytest.mark.django_db(transaction=True)
def test_the_same_person_registering_in_parallel_gets_one_registration():
    event = EventFactory(capacity=3)
    person = UserFactory()
    errors = run_in_parallel(
        [person] * THREADS,
        lambda someone: services.event_register(person=someone, event_id=event.pk),
    )
    assert errors == []
    assert EventRegistration.objects.filter(event=event, person=person).count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1
