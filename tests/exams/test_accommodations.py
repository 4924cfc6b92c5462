"""Accommodations: extra time at the start, grants for one exam or all, expiry,
history, the staff API's bad inputs, and what the learner is told."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from exams import services
from exams.accommodations import services as accommodation_services
from exams.models import Accommodation, AccommodationEvent
from lms.tokens import token_create
from tests.exams.factories import make_exam
from tests.lms.factories import MODEL_BACKEND, UserFactory

pytestmark = pytest.mark.django_db

ACCOMMODATIONS = "/admin/exams/accommodations/"


@pytest.fixture
def staff(db):
    user = UserFactory(email="staff@example.com")
    user.groups.add(Group.objects.get(name="Programme staff"))
    return user


@pytest.fixture
def hour_exam(db):
    return make_exam(time_limit_minutes=60)


def grant(staff, person, *, exam=None, extra=50, breaks=0, minutes=None, ends_on=None, **kw):
    return accommodation_services.accommodation_grant(
        by=staff,
        person=person,
        exam=exam,
        extra_time_percent=extra,
        breaks=breaks,
        break_minutes=minutes,
        ends_on=ends_on or timezone.localdate() + timedelta(days=30),
        reason=kw.pop("reason", "Medical certificate on file"),
        **kw,
    )


def api_for(user):
    token = token_create(user=user, name="t")[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    class Api:
        client = Client()

        def get(self, path):
            return self.client.get(f"/api/v1{path}", **headers)

        def post(self, path, body=None):
            data = json.dumps(body) if body is not None else ""
            return self.client.post(
                f"/api/v1{path}", data, content_type="application/json", **headers
            )

        def patch(self, path, body):
            return self.client.patch(
                f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers
            )

        def put(self, path, body):
            return self.client.put(
                f"/api/v1{path}", json.dumps(body), content_type="application/json", **headers
            )

    return Api()


# --- the deadline at start -------------------------------------------------------


def test_extra_time_sets_the_deadline_and_is_recorded_on_the_attempt(staff, learner, hour_exam):
    given = grant(staff, learner, exam=hour_exam, extra=50)
    now = timezone.now()
    attempt, _ = services.attempt_start(person=learner, exam=hour_exam, now=now)
    assert attempt.deadline == now + timedelta(minutes=90)
    assert (attempt.accommodation, attempt.extra_time_percent) == (given, 50)


def test_no_grant_no_extra_time(learner, hour_exam):
    now = timezone.now()
    attempt, _ = services.attempt_start(person=learner, exam=hour_exam, now=now)
    assert attempt.deadline == now + timedelta(minutes=60)
    assert attempt.accommodation is None and attempt.extra_time_percent == 0


def test_an_exams_own_grant_wins_over_an_all_exams_one(staff, learner, hour_exam):
    other_exam = make_exam(time_limit_minutes=60)
    grant(staff, learner, exam=None, extra=25)
    grant(staff, learner, exam=hour_exam, extra=100)
    grant(staff, UserFactory(), exam=other_exam, extra=200)  # someone else's
    now = timezone.now()
    own, _ = services.attempt_start(person=learner, exam=hour_exam, now=now)
    general, _ = services.attempt_start(person=learner, exam=other_exam, now=now)
    assert own.deadline == now + timedelta(minutes=120)
    assert general.deadline == now + timedelta(minutes=75)


def test_an_expired_or_revoked_grant_gives_no_extra_time(staff, learner, hour_exam):
    past = timezone.now() - timedelta(days=10)
    grant(staff, learner, exam=hour_exam, extra=100, ends_on=past.date(), now=past)
    revoked = grant(staff, learner, extra=50)
    accommodation_services.accommodation_revoke(by=staff, accommodation=revoked)
    now = timezone.now()
    attempt, _ = services.attempt_start(person=learner, exam=hour_exam, now=now)
    assert attempt.deadline == now + timedelta(minutes=60)
    assert attempt.accommodation is None


def test_a_grant_ending_today_still_applies(staff, learner, hour_exam):
    grant(staff, learner, extra=25, ends_on=timezone.localdate())
    now = timezone.now()
    attempt, _ = services.attempt_start(person=learner, exam=hour_exam, now=now)
    assert attempt.deadline == now + timedelta(minutes=75)


def test_changing_a_grant_does_not_move_a_running_attempt(staff, learner, hour_exam):
    given = grant(staff, learner, extra=50)
    now = timezone.now()
    attempt, _ = services.attempt_start(person=learner, exam=hour_exam, now=now)
    accommodation_services.accommodation_change(
        by=staff,
        accommodation=given,
        exam=None,
        extra_time_percent=100,
        breaks=0,
        break_minutes=None,
        ends_on=given.ends_on,
        reason=given.reason,
    )
    accommodation_services.accommodation_revoke(by=staff, accommodation=given)
    attempt.refresh_from_db()
    assert attempt.deadline == now + timedelta(minutes=90)
    assert attempt.extra_time_percent == 50


# --- history -----------------------------------------------------------------------


def test_every_change_is_kept_with_who_and_when(staff, learner, hour_exam):
    other_staff = UserFactory(email="other-staff@example.com")
    given = grant(staff, learner, extra=25)
    accommodation_services.accommodation_change(
        by=other_staff,
        accommodation=given,
        exam=hour_exam,
        extra_time_percent=50,
        breaks=2,
        break_minutes=10,
        ends_on=given.ends_on,
        reason=given.reason,
    )
    accommodation_services.accommodation_revoke(by=staff, accommodation=given)
    events = list(AccommodationEvent.objects.filter(accommodation=given).order_by("at", "pk"))
    assert [(e.action, e.actor.email) for e in events] == [
        ("created", "staff@example.com"),
        ("changed", "other-staff@example.com"),
        ("revoked", "staff@example.com"),
    ]
    assert all(e.at is not None for e in events)
    assert events[1].changes == {
        "exam": [None, hour_exam.slug],
        "extra_time_percent": [25, 50],
        "breaks": [0, 2],
        "break_minutes": [0, 10],
    }
    assert events[2].changes == {"revoked": [False, True]}
    with pytest.raises(Exception, match="append-only"):
        events[0].save()
    with pytest.raises(Exception, match="append-only"):
        events[0].delete()


def test_a_revoked_grant_is_neither_changed_nor_revoked_again(staff, learner):
    given = grant(staff, learner)
    accommodation_services.accommodation_revoke(by=staff, accommodation=given)
    api = api_for(staff)
    assert api.post(f"/accommodations/{given.pk}/revoke").json()["code"] == "already_revoked"
    response = api.patch(f"/accommodations/{given.pk}", {"extra_time_percent": 25})
    assert (response.status_code, response.json()["code"]) == (409, "accommodation_revoked")


# --- staff API -----------------------------------------------------------------------


def valid_body(**changes):
    body = {
        "person": "learner@example.com",
        "exam": None,
        "extra_time_percent": 50,
        "breaks": 2,
        "break_minutes": 10,
        "ends_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        "reason": "Extended time recommended by the accessibility office",
    }
    body.update(changes)
    return body


def test_staff_grant_read_change_and_revoke_through_the_api(staff, learner, hour_exam):
    api = api_for(staff)
    created = api.post("/accommodations", valid_body())
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["person"] == "learner@example.com" and body["in_force"] is True
    assert [e["action"] for e in body["history"]] == ["created"]
    assert body["history"][0]["actor"] == "staff@example.com"
    changed = api.patch(f"/accommodations/{body['id']}", {"exam": hour_exam.slug, "breaks": 1})
    assert changed.status_code == 200, changed.content
    assert (
        changed.json()["exam"],
        changed.json()["breaks"],
        changed.json()["extra_time_percent"],
    ) == (
        hour_exam.slug,
        1,
        50,
    )
    listed = api.get("/accommodations?person=learner@example.com").json()
    assert [row["id"] for row in listed["data"]] == [body["id"]]
    revoked = api.post(f"/accommodations/{body['id']}/revoke").json()
    assert revoked["in_force"] is False
    assert [e["action"] for e in revoked["history"]] == ["revoked", "changed", "created"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"extra_time_percent": 0}, "invalid_extra_time"),
        ({"extra_time_percent": 201}, "invalid_extra_time"),
        ({"extra_time_percent": 12.5}, "invalid_extra_time"),
        ({"extra_time_percent": "50"}, "invalid_extra_time"),
        ({"breaks": 5}, "too_many_breaks"),
        ({"break_minutes": 31}, "break_too_long"),
        ({"break_minutes": None}, "invalid_break_length"),
        ({"extra_time_percent": None, "breaks": 0}, "nothing_granted"),
        ({"ends_on": "2020-01-01"}, "end_date_in_past"),
        ({"reason": "   "}, "reason_required"),
        ({"person": "nobody@example.com"}, "person_not_found"),
        ({"exam": "no-such-exam"}, "exam_not_found"),
    ],
)
def test_bad_grants_are_refused_with_a_stable_code(staff, learner, changes, code):
    response = api_for(staff).post("/accommodations", valid_body(**changes))
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert not Accommodation.objects.exists()


def test_a_missing_reason_and_other_problems_are_all_listed(staff, learner):
    body = valid_body(extra_time_percent=0, breaks=9)
    del body["reason"]
    response = api_for(staff).post("/accommodations", body)
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == [
        "invalid_extra_time",
        "too_many_breaks",
        "reason_required",
    ]
    # In the documented shape of every 422's errors (loc, msg, type).
    first = response.json()["errors"][0]
    assert first["loc"] == ["body", "extra_time_percent"]
    assert first["type"] == "invalid_extra_time" and first["msg"]


def test_a_bad_date_is_a_validation_error(staff, learner):
    response = api_for(staff).post("/accommodations", valid_body(ends_on="next week"))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_limits_come_from_the_settings(staff, learner, settings):
    settings.ACCOMMODATION_MAX_BREAKS = 1
    settings.ACCOMMODATION_MAX_BREAK_MINUTES = 5
    api = api_for(staff)
    assert api.post("/accommodations", valid_body(breaks=2)).json()["code"] == "too_many_breaks"
    response = api.post("/accommodations", valid_body(breaks=1, break_minutes=6))
    assert response.json()["code"] == "break_too_long"
    assert api.post("/accommodations", valid_body(breaks=1, break_minutes=5)).status_code == 201


def test_only_programme_staff_manage_grants(learner):
    instructor = UserFactory()
    instructor.groups.add(Group.objects.get(name="Instructors"))
    for user in (learner, instructor):
        api = api_for(user)
        assert api.get("/accommodations").status_code == 403
        response = api.post("/accommodations", valid_body())
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert not Accommodation.objects.exists()


# --- the learner's view ---------------------------------------------------------------


def test_the_learner_sees_the_grant_before_starting(staff, learner, learner_client, hour_exam):
    grant(staff, learner, exam=hour_exam, extra=50, breaks=2, minutes=10)
    html = learner_client.get(reverse("exams:exam_list")).content.decode()
    assert (
        "You have 50 % extra time: 90 minutes instead of 60; 2 rest breaks of up to 10 minutes."
        in html
    )
    detail = api_for(learner).get(f"/exams/{hour_exam.slug}")
    assert detail.status_code == 200
    assert detail.json()["accommodation"] == {
        "extra_time_percent": 50,
        "time_limit_minutes": 60,
        "minutes_with_extra_time": 90.0,
        "breaks": 2,
        "break_minutes": 10,
        "ends_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "summary": "You have 50 % extra time: 90 minutes instead of 60; "
        "2 rest breaks of up to 10 minutes.",
    }
    listed = api_for(learner).get("/exams").json()["data"]
    assert listed[0]["accommodation"]["extra_time_percent"] == 50


def test_other_learners_see_no_grant(staff, learner, other, hour_exam):
    grant(staff, learner, exam=hour_exam, extra=50)
    assert api_for(other).get(f"/exams/{hour_exam.slug}").json()["accommodation"] is None
    assert api_for(other).get("/exams/no-such-exam").json()["code"] == "exam_not_found"


def test_breaks_only_and_fractional_minutes_are_told_plainly(staff, learner, learner_client):
    exam = make_exam(time_limit_minutes=90)
    grant(staff, learner, exam=exam, extra=25)
    html = learner_client.get(reverse("exams:exam_list")).content.decode()
    assert "You have 25 % extra time: 112.5 minutes instead of 90." in html
    second = make_exam(time_limit_minutes=30)
    grant(staff, learner, exam=second, extra=None, breaks=1, minutes=5)
    detail = api_for(learner).get(f"/exams/{second.slug}").json()["accommodation"]
    assert detail["summary"] == "You have 1 rest break of up to 5 minutes."


# --- admin ---------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff, backend=MODEL_BACKEND)
    return client


def admin_form(**changes):
    data = {
        "person_email": "learner@example.com",
        "exam": "",
        "extra_time_percent": "50",
        "breaks": "2",
        "break_minutes": "10",
        "ends_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "reason": "Accessibility office letter",
    }
    data.update(changes)
    return data


def test_staff_grant_in_the_admin_and_see_the_history(staff_client, learner):
    assert staff_client.get(ACCOMMODATIONS).status_code == 200
    response = staff_client.post(f"{ACCOMMODATIONS}new/", admin_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    given = Accommodation.objects.get()
    assert (given.person, given.extra_time_percent, given.breaks) == (learner, 50, 2)
    staff_client.post(f"{ACCOMMODATIONS}edit/{given.pk}/", admin_form(extra_time_percent="100"))
    given.refresh_from_db()
    assert given.extra_time_percent == 100
    page = staff_client.get(f"{ACCOMMODATIONS}edit/{given.pk}/").content.decode()
    assert page.count("data-history-row") == 2
    assert "staff@example.com" in page and "extra_time_percent: 50 → 100" in page
    staff_client.post(f"{ACCOMMODATIONS}revoke/{given.pk}/")
    given.refresh_from_db()
    assert given.revoked_at is not None
    page = staff_client.get(f"{ACCOMMODATIONS}edit/{given.pk}/").content.decode()
    assert page.count("data-history-row") == 3 and "Revoked" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"extra_time_percent": "0"}, "extra_time_percent", "greater than or equal to 1"),
        ({"extra_time_percent": "201"}, "extra_time_percent", "less than or equal to 200"),
        ({"extra_time_percent": "12.5"}, "extra_time_percent", "whole number"),
        ({"breaks": "5"}, "breaks", "less than or equal to 4"),
        ({"break_minutes": "31"}, "break_minutes", "at most 30 minutes"),
        ({"ends_on": "2020-01-01"}, "ends_on", "today or later"),
        ({"reason": ""}, "reason", "required"),
        ({"person_email": "nobody@example.com"}, "person_email", "Nobody has this e-mail"),
        (
            {"extra_time_percent": "", "breaks": "0"},
            "extra_time_percent",
            "extra time, rest breaks",
        ),
    ],
)
def test_the_admin_form_shows_bad_input_on_its_field(
    staff_client, learner, changes, field, message
):
    response = staff_client.post(f"{ACCOMMODATIONS}new/", admin_form(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert not Accommodation.objects.exists()


def test_learners_and_instructors_do_not_see_the_accommodations_admin(client, learner):
    instructor = UserFactory()
    instructor.groups.add(Group.objects.get(name="Instructors"))
    for user in (learner, instructor):
        client.force_login(user, backend=MODEL_BACKEND)
        assert client.get(ACCOMMODATIONS).status_code in (302, 403)


def test_demo_grant_is_made_once(staff, learner):
    from exams.accommodations.demo import seed_accommodations

    first = seed_accommodations(person=learner, staff=staff)
    second = seed_accommodations(person=learner, staff=staff)
    assert first == second and Accommodation.objects.count() == 1
    assert AccommodationEvent.objects.filter(accommodation=first).count() == 1
    assert (first.extra_time_percent, first.breaks, first.break_minutes) == (50, 2, 10)
