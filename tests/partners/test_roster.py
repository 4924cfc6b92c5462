from datetime import timedelta

import pytest
from django.utils import timezone

from partners.membership.services import membership_end
from partners.roster import selectors as roster
from tests.certificates.factories import CredentialFactory
from tests.partners.factories import MembershipFactory
from tests.partners.portal_factories import bulk_members, partner_with_admin, populate_members

pytestmark = pytest.mark.django_db


def test_roster_shows_each_members_courses_attempts_and_certifications():
    partner, admin = partner_with_admin(name="Northwind", slug="northwind")
    people, course, exam = populate_members(partner, 3)
    left = MembershipFactory(partner=partner)
    membership_end(membership=left)
    revoked = CredentialFactory(
        person=people[0], status="revoked", revoked_at=timezone.now(), revocation_reason="Fraud"
    )

    rows = roster.partner_roster(partner=partner)
    by_person = {row.person.pk: row for row in rows}
    assert set(by_person) == {admin.pk, *(p.pk for p in people)}  # the leaver is gone
    assert rows[0].person == admin  # admins first

    first = by_person[people[0].pk]
    assert [c.title for c in first.courses] == [course.title]
    assert first.attempts_count == 2
    assert first.last_attempt.passed is True and first.last_attempt.exam == exam.title
    statuses = sorted(c.status for c in first.credentials)
    assert statuses == ["active", "revoked"]
    assert [c.status for c in by_person[people[2].pk].credentials] == ["expired"]
    assert by_person[admin.pk].attempts_count == 0 and by_person[admin.pk].last_attempt is None
    assert revoked.public_id in {c.public_id for c in first.credentials}


def test_an_empty_partner_has_an_empty_roster():
    partner, admin = partner_with_admin()
    membership_end(membership=admin.memberships.get(), ended=timezone.now())
    assert roster.partner_roster(partner=partner) == []


ROSTER_QUERIES = 4
PEOPLE_PAGE_QUERIES = 10
SMALL, LARGE = 5, 500


@pytest.fixture
def small_and_large():
    """Two partners of 5 and 500 current members: the admin and employees each
    with a completed course, two attempts and a credential."""
    small, small_admin = partner_with_admin()
    _, course, exam = bulk_members(small, SMALL - 1)
    large, large_admin = partner_with_admin()
    bulk_members(large, LARGE - 1, course=course, exam=exam)
    return (small, small_admin), (large, large_admin), course


def test_roster_query_count_is_the_same_for_5_and_500_members(
    small_and_large, django_assert_num_queries
):
    for (partner, _), size in zip(small_and_large[:2], (SMALL, LARGE), strict=True):
        with django_assert_num_queries(ROSTER_QUERIES):
            rows = roster.partner_roster(partner=partner)
        assert len(rows) == size
        assert all(row.courses and row.credentials for row in rows[1:])
        assert all(row.attempts_count == 2 and row.last_attempt.passed for row in rows[1:])


def _page_queries(client, partner, admin):
    client.force_login(admin)
    url = f"/partners/{partner.slug}/people/"
    client.get(url)  # warm per-process caches (site, templates)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_people_page_query_count_is_the_same_for_5_and_500_members(client, small_and_large):
    (small, small_admin), (large, large_admin), course = small_and_large
    small_count, _ = _page_queries(client, small, small_admin)
    large_count, response = _page_queries(client, large, large_admin)
    assert (small_count, large_count) == (PEOPLE_PAGE_QUERIES, PEOPLE_PAGE_QUERIES)
    html = response.content.decode()
    assert course.title in html and "Active" in html and "Expired" in html


def test_people_page_is_for_that_partners_admins_and_staff_only(client, staff_user):
    partner, admin = partner_with_admin()
    employee = MembershipFactory(partner=partner).person
    other_partner, other_admin = partner_with_admin()
    url = f"/partners/{partner.slug}/people/"

    assert client.get(url).status_code == 302  # sign in first
    for outsider in (employee, other_admin):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
    client.force_login(staff_user)
    assert client.get(url).status_code == 200
    assert client.get("/partners/no-such-partner/people/").status_code == 404

    # an admin who left loses access at once
    client.force_login(admin)
    assert client.get(url).status_code == 200
    membership_end(membership=admin.memberships.get(), ended=timezone.now() - timedelta(seconds=1))
    assert client.get(url).status_code == 404
