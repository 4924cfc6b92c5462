"""The profile page's company card (partners template tag composed into lms' page)."""

import pytest

from tests.lms.factories import UserFactory

from .factories import MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    partner = PartnerFactory(name="Northwind Payments")
    admin = MembershipFactory(partner=partner, role="admin", person=UserFactory()).person
    return partner, admin


def test_profile_shows_the_company_and_admin_links(client, company):
    partner, admin = company
    client.force_login(admin)
    page = client.get("/accounts/profile/").content.decode()
    assert "Northwind Payments" in page
    assert f"/partners/{partner.slug}/people/" in page
    assert f"/partners/{partner.slug}/" in page


def test_profile_of_an_independent_learner_invites_to_apply(client):
    client.force_login(UserFactory())
    page = client.get("/accounts/profile/").content.decode()
    assert "not a member of a partner company" in page
    assert "/partners/apply/" in page
