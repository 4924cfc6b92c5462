"""The Wagtail admin home: the work waiting, as counts linking to their lists."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms import selectors
from exams.models import Submission
from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from partners.models import Partner, PartnerApplication, TrackStatusRecord
from tests.certificates.factories import CredentialFactory
from tests.courses.factories import EventFactory
from tests.exams.project_factories import make_brief
from tests.lms.factories import MODEL_BACKEND, UserFactory
from tests.partners.factories import PartnerFactory, PartnerTrackFactory
from tests.partners.portal_factories import submit_application

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)
STAFF_WORK_QUERIES = 7
INSTRUCTOR_WORK_QUERIES = 3


@pytest.fixture
def staff_user():
    user = UserFactory(email="staff@example.com")
    user.groups.add(Group.objects.get(name=PROGRAMME_STAFF))
    return user


@pytest.fixture
def instructor():
    user = UserFactory(email="instructor@example.com")
    user.groups.add(Group.objects.get(name=INSTRUCTORS))
    return user


_applicants = itertools.count()


def make_work(n: int, *, instructor=None):
    now = timezone.now()
    brief = make_brief()
    for _ in range(n):
        i = next(_applicants)
        submit_application(name=f"Applicant {i}", slug=f"applicant-{i}")
        soon = PartnerFactory(status="provisional")
        Partner.objects.filter(pk=soon.pk).update(provisional_deadline=now + 10 * DAY)
        due = PartnerFactory(status="active")
        Partner.objects.filter(pk=due.pk).update(rereview_due_at=now + 5 * DAY)
        late = PartnerFactory(status="active")
        Partner.objects.filter(pk=late.pk).update(rereview_due_at=now - 5 * DAY)
        track = PartnerTrackFactory(partner=due)
        TrackStatusRecord.objects.create(
            partner=due,
            track=track.track,
            state="at_risk",
            technical_verification="missing",
            computed_at=now,
            changed_at=now,
        )
        Submission.objects.create(person=UserFactory(), brief=brief, created_at=now - 3 * DAY)
        CredentialFactory(issued_at=now - 700 * DAY, expires_at=now + timedelta(hours=1))
        if instructor is not None:
            EventFactory(instructor=instructor)


def test_staff_counts(staff_user):
    make_work(2)
    work = selectors.staff_work(user=staff_user)
    assert work.applications_to_decide == 2
    assert work.provisional_deadlines_soon == 2
    assert (work.rereviews_due, work.rereviews_overdue) == (2, 2)
    assert work.verifications_to_record == 2
    assert work.partners_at_risk == 2
    assert work.review_queue.waiting == 2
    assert work.review_queue.oldest_at is not None
    # Expiring within the hour: this month unless the month ends within it.
    assert work.credentials_expiring_this_month in (0, 2)
    assert PartnerApplication.objects.filter(status="pending").count() == 2


def test_staff_home_shows_the_work_with_links(client, staff_user):
    make_work(1)
    client.force_login(staff_user, backend=MODEL_BACKEND)
    html = client.get("/admin/").content.decode()
    assert "Work waiting" in html
    for label in (
        "Applications to decide",
        "Technical verifications to record",
        "Re-reviews due",
        "Re-reviews overdue",
        "Provisional deadlines in the next 30 days",
        "Submissions waiting for review",
        "Pages waiting for moderation",
        "Partners at risk",
        "Credentials expiring this month",
    ):
        assert label in html
    assert "/admin/partner-applications/?status=pending" in html
    assert "/admin/rereviews/" in html
    assert "deadline_within=30" in html and "at_risk=on" in html
    assert "oldest waiting 3 days" in html


def test_staff_home_shows_three_programme_charts_with_tables(client, staff_user):
    make_work(1)
    client.force_login(staff_user, backend=MODEL_BACKEND)
    html = client.get("/admin/").content.decode()
    assert "The programme at a glance" in html
    assert html.count("<svg") >= 3 and html.count("Data table:") == 3
    assert 'role="img"' in html and "<title" in html
    assert "/partners/staff/analytics/" in html


def test_instructor_home_shows_their_part(client, instructor):
    make_work(1, instructor=instructor)
    client.force_login(instructor, backend=MODEL_BACKEND)
    html = client.get("/admin/").content.decode()
    assert "Your work" in html and "Submissions waiting for review" in html
    assert "Your pages waiting for moderation" in html
    assert "Webhooks workshop" in html
    assert "Applications to decide" not in html
    assert "The programme at a glance" not in html


@pytest.mark.parametrize("role", ["staff", "instructor"])
def test_query_counts_do_not_grow_with_the_work(client, staff_user, instructor, role):
    user = staff_user if role == "staff" else instructor
    work = selectors.staff_work if role == "staff" else selectors.instructor_work
    expected = STAFF_WORK_QUERIES if role == "staff" else INSTRUCTOR_WORK_QUERIES
    client.force_login(user, backend=MODEL_BACKEND)
    make_work(1, instructor=instructor)
    client.get("/admin/")  # warm up
    with CaptureQueriesContext(connection) as small_page:
        client.get("/admin/")
    with CaptureQueriesContext(connection) as small:
        work(user=user)
    make_work(6, instructor=instructor)
    with CaptureQueriesContext(connection) as large_page:
        client.get("/admin/")
    with CaptureQueriesContext(connection) as large:
        work(user=user)
    assert len(small) == len(large) == expected
    assert len(small_page) == len(large_page)


def test_the_admin_avatar_is_a_local_image_that_exists(client, staff_user):
    client.force_login(staff_user, backend=MODEL_BACKEND)
    html = client.get("/admin/").content.decode()
    assert "gravatar" not in html
    assert "wagtailadmin/images/default-user-avatar.png" in html
    assert finders.find("wagtailadmin/images/default-user-avatar.png")


def test_learners_do_not_reach_the_admin_home(client):
    client.force_login(UserFactory(), backend=MODEL_BACKEND)
    response = client.get("/admin/")
    assert response.status_code in (302, 403)
