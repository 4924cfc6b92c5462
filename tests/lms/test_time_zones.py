"""Each person reads dates and times in their own zone, with the zone's name."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from courses import services as course_services
from exams import services as exam_services
from lms.timezones import format_event_span, format_moment, zone_label
from tests.certificates.factories import CertificationFactory, CredentialFactory
from tests.courses.factories import EventFactory
from tests.exams.factories import make_exam
from tests.lms.factories import MODEL_BACKEND, UserFactory
from tests.lms.test_accounts import signup_data

User = get_user_model()
NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
# A Friday in January: Dublin is on GMT (UTC+0), Paris on CET (UTC+1), Tokyo UTC+9.
SESSION_START = datetime(2027, 1, 15, 14, 0, tzinfo=UTC)


def signed_in(client, **user_fields):
    user = UserFactory(**user_fields)
    client.force_login(user, backend=MODEL_BACKEND)
    return user


# --- the one way a moment is written --------------------------------------------------


def test_a_moment_names_its_zone_and_the_abbreviation_follows_summer_time():
    # New York moves to summer time at 02:00 on 8 March 2026: an hour apart in UTC,
    # the clock jumps from 01:30 EST to 03:30 EDT.
    before = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    after = before + timedelta(hours=1)
    assert format_moment(before, NEW_YORK) == "8 Mar 2026, 01:30 EST (America/New_York)"
    assert format_moment(after, NEW_YORK) == "8 Mar 2026, 03:30 EDT (America/New_York)"
    # Paris on the last Sunday of March 2026: 01:59 CET, then 03:00 CEST.
    assert format_moment(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), PARIS).endswith(
        "01:59 CET (Europe/Paris)"
    )
    assert format_moment(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), PARIS).endswith(
        "03:00 CEST (Europe/Paris)"
    )


def test_zone_names_without_a_letter_abbreviation_and_utc():
    moment = datetime(2026, 12, 6, 10, 5, tzinfo=UTC)
    assert zone_label(moment.astimezone(ZoneInfo("Asia/Dubai"))) == "UTC+04 (Asia/Dubai)"
    assert format_moment(moment, ZoneInfo("UTC")) == "6 Dec 2026, 10:05 UTC"


def test_a_session_shows_its_own_zone_and_the_readers():
    ends = SESSION_START + timedelta(hours=2)
    assert format_event_span(SESSION_START, ends, "Europe/Dublin", PARIS) == (
        "Fri 15 Jan 2027, 14:00–16:00 Europe/Dublin (15:00–17:00 your time, Europe/Paris)"
    )
    # Read in its own zone, it is written once.
    assert format_event_span(SESSION_START, ends, "Europe/Dublin", ZoneInfo("Europe/Dublin")) == (
        "Fri 15 Jan 2027, 14:00–16:00 Europe/Dublin"
    )
    # A reader for whom it is already the next day sees that day.
    late = datetime(2027, 1, 15, 20, 0, tzinfo=UTC)
    assert format_event_span(
        late, late + timedelta(hours=1), "Europe/Dublin", ZoneInfo("Asia/Tokyo")
    ) == (
        "Fri 15 Jan 2027, 20:00–21:00 Europe/Dublin (Sat 16 Jan, 05:00–06:00 your time, Asia/Tokyo)"
    )


# --- pages ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_certificate_date_is_the_day_in_the_holders_zone(client):
    # 03:00 UTC on 1 March is still 28 February in New York.
    person = signed_in(client, time_zone="America/New_York")
    CredentialFactory(
        person=person,
        certification=CertificationFactory(),
        issued_at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
    )
    html = client.get("/certificates/").content.decode()
    assert "Issued 28 February 2026" in html
    assert "Dates and times are shown in America/New_York" in html


@pytest.mark.django_db
def test_without_a_zone_a_person_reads_the_sites_zone(client):
    person = signed_in(client)
    CredentialFactory(
        person=person,
        certification=CertificationFactory(),
        issued_at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
    )
    html = client.get("/certificates/").content.decode()
    assert "Issued 1 March 2026" in html
    assert "Dates and times are shown in UTC" in html


@pytest.mark.django_db
def test_an_attempt_deadline_is_in_the_candidates_zone(client):
    person = signed_in(client, time_zone="America/New_York")
    attempt, _ = exam_services.attempt_start(person=person, exam=make_exam())
    deadline = timezone.now().replace(microsecond=0) + timedelta(minutes=50)
    type(attempt).objects.filter(pk=attempt.pk).update(deadline=deadline)
    html = client.get(f"/exams/attempts/{attempt.pk}/").content.decode()
    assert f"(ends {format_moment(deadline, NEW_YORK)})" in html
    assert "EST (America/New_York)" in html or "EDT (America/New_York)" in html


@pytest.mark.django_db
def test_a_session_in_dublin_read_from_paris_shows_both(client):
    signed_in(client, time_zone="Europe/Paris")
    EventFactory(starts_at=SESSION_START, ends_at=SESSION_START + timedelta(hours=2))
    html = client.get("/events/").content.decode()
    assert (
        "Fri 15 Jan 2027, 14:00–16:00 Europe/Dublin (15:00–17:00 your time, Europe/Paris)" in html
    )


@pytest.mark.django_db
def test_a_session_read_from_new_york(client):
    signed_in(client, time_zone="America/New_York")
    EventFactory(starts_at=SESSION_START, ends_at=SESSION_START + timedelta(hours=2))
    html = client.get("/events/").content.decode()
    assert "14:00–16:00 Europe/Dublin (09:00–11:00 your time, America/New_York)" in html


# --- e-mails --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_reminder_to_tokyo_has_tokyo_times():
    event = EventFactory(starts_at=SESSION_START, ends_at=SESSION_START + timedelta(hours=2))
    tokyo = UserFactory(time_zone="Asia/Tokyo")
    course_services.event_register(person=tokyo, event_id=event.pk)
    assert course_services.event_reminders_send(now=SESSION_START - timedelta(hours=3)) == 1
    (message,) = mail.outbox
    assert message.to == [tokyo.email]
    assert "14:00–16:00 Europe/Dublin (23:00–01:00 your time, Asia/Tokyo)" in message.body
    assert " UTC" not in message.body


@pytest.mark.django_db
def test_a_cancellation_tells_each_person_their_own_time(django_capture_on_commit_callbacks):
    event = EventFactory(starts_at=SESSION_START, ends_at=SESSION_START + timedelta(hours=2))
    tokyo = UserFactory(time_zone="Asia/Tokyo")
    paris = UserFactory(time_zone="Europe/Paris")
    for person in (tokyo, paris):
        course_services.event_register(person=person, event_id=event.pk)
    with django_capture_on_commit_callbacks(execute=True):
        course_services.event_cancel(by=event.instructor, event_id=event.pk)
    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert "(23:00–01:00 your time, Asia/Tokyo)" in bodies[tokyo.email]
    assert "(15:00–17:00 your time, Europe/Paris)" in bodies[paris.email]


# --- choosing the zone ----------------------------------------------------------------


@pytest.mark.django_db
def test_sign_up_keeps_the_zone_the_browser_proposed(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", signup_data(time_zone="Asia/Tokyo"))
    assert response.status_code == 302
    assert User.objects.get(email="grace@example.com").time_zone == "Asia/Tokyo"


@pytest.mark.django_db
@pytest.mark.parametrize("garbage", ["Mars/Olympus_Mons", "../../etc/passwd", "x" * 500, ""])
def test_sign_up_with_an_unknown_zone_falls_back_to_the_sites(
    client, django_capture_on_commit_callbacks, garbage
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", signup_data(time_zone=garbage))
    assert response.status_code == 302
    assert User.objects.get(email="grace@example.com").time_zone == ""


@pytest.mark.django_db
def test_the_sign_up_form_carries_the_field_the_browser_fills(client):
    html = client.get("/accounts/signup/").content.decode()
    assert 'type="hidden" name="time_zone"' in html and "data-browser-time-zone" in html
    assert "<script>" not in html  # filled by the static script, never inline


def profile_data(person, **overrides):
    data = {
        "legal_name": person.legal_name,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "time_zone": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_profile_offers_every_zone_with_the_current_one_selected(client):
    signed_in(client, time_zone="Europe/Paris")
    html = client.get("/accounts/profile/").content.decode()
    assert '<label for="id_time_zone">Time zone' in html
    assert '<option value="Europe/Paris" selected>' in html
    assert '<option value="Asia/Tokyo">' in html


@pytest.mark.django_db
def test_the_profile_saves_a_zone(client):
    person = signed_in(client)
    response = client.post("/accounts/profile/", profile_data(person, time_zone="Asia/Tokyo"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.time_zone == "Asia/Tokyo"
    html = client.get("/accounts/profile/").content.decode()
    assert "Dates and times are shown in Asia/Tokyo" in html


@pytest.mark.django_db
def test_the_profile_refuses_an_unknown_zone_with_a_clear_error(client):
    person = signed_in(client, time_zone="Europe/Paris")
    response = client.post("/accounts/profile/", profile_data(person, time_zone="Europe/Atlantis"))
    assert response.status_code == 400
    assert "Choose a time zone from the list" in response.content.decode()
    person.refresh_from_db()
    assert person.time_zone == "Europe/Paris"
