"""Pages given hostile input answer a page (a form error, a 4xx), never a 500.

NUL (%00) is the sharp one: PostgreSQL refuses it in text with a database
error, so it must be caught before a query; SQLite stores it. Run this file
with DATABASE_URL set to check PostgreSQL too.
"""

import pytest
from django.test import Client
from django.urls import reverse

from courses import services
from courses.models import EventRegistration
from tests.courses.factories import EventFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/courses/",
    "/dashboard/",
    "/paths/developer/",
    "/events/",
    "/exams/",
    "/exams/projects/",
    "/exams/projects/review/",
    "/certificates/",
    "/partners/apply/",
    "/partners/staff/partners/",
    "/partners/staff/applications/",
    "/accounts/profile/",
    "/accounts/login/",
    "/accounts/signup/",
]
PARAMETERS = [
    "q",
    "page",
    "kind",
    "level",
    "certification",
    "track",
    "status",
    "at_risk",
    "deadline_within",
    "sort",
    "format",
    "next",
]
VALUES = ["%00", "a%00b", "%FF%FE", str(2**64), "-1"]


@pytest.fixture
def staff_client():
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(is_superuser=True, is_staff=True), backend=MODEL_BACKEND)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_hostile_query_parameters_never_give_a_500(staff_client, url):
    for value in VALUES:
        query = "&".join(f"{name}={value}" for name in PARAMETERS)
        response = staff_client.get(f"{url}?{query}")
        assert response.status_code < 500, (url, value, response.status_code)


@pytest.mark.parametrize("field", ["legal_name", "first_name", "last_name"])
def test_nul_in_a_profile_name_is_a_form_error(field):
    user = UserFactory(legal_name="Ada King", first_name="Ada", last_name="King")
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    data = {"legal_name": "Ada King", "first_name": "Ada", "last_name": "King"}
    data[field] = "Ada\x00King"
    response = client.post(reverse("profile"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "Null characters are not allowed" in html
    user.refresh_from_db()
    assert (user.legal_name, user.first_name, user.last_name) == ("Ada King", "Ada", "King")


def test_nul_in_sign_up_is_a_form_error():
    response = Client().post(
        reverse("signup"),
        {
            "email": "new\x00@example.com",
            "legal_name": "New\x00Person",
            "password1": "a-long-enough-password-2026",
            "password2": "a-long-enough-password-2026",
        },
    )
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("bad_id", ["\u00b2", "9" * 30, "\x00", "-1"])
def test_attendance_ignores_ids_that_are_not_ids(bad_id):
    event = EventFactory()
    learner = UserFactory()
    services.event_register(person=learner, event_id=event.pk)
    client = Client(raise_request_exception=False)
    client.force_login(event.instructor, backend=MODEL_BACKEND)
    response = client.post(
        f"/events/{event.pk}/attendance/", {"attended": [str(learner.pk), bad_id]}
    )
    assert response.status_code == 302
    assert EventRegistration.objects.get(person=learner).attended is True


HUGE_ID = "9" * 25
ID_PAGES = [
    f"/events/{HUGE_ID}/calendar.ics",
    f"/events/{HUGE_ID}/attendance/",
    f"/exams/attempts/{HUGE_ID}/",
    f"/exams/attempts/{HUGE_ID}/result/",
    f"/exams/projects/review/{HUGE_ID}/",
    f"/exams/projects/files/{HUGE_ID}/",
    f"/partners/staff/applications/{HUGE_ID}/",
]


@pytest.mark.parametrize("url", ID_PAGES)
def test_ids_beyond_64_bits_in_page_paths_are_404(staff_client, url):
    assert staff_client.get(url).status_code == 404
