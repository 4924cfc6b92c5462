import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from partners.membership.selectors import (
    membership_current_for,
    partner_admins_current,
    partner_members_current,
    partner_people_ids_current,
)
from partners.models import Membership
from tests.lms.factories import UserFactory

from .factories import MembershipFactory, PartnerAdminFactory, PartnerFactory

pytestmark = pytest.mark.django_db


def test_membership_current_for_returns_the_current_one_with_its_partner(
    django_assert_num_queries,
):
    person = UserFactory()
    MembershipFactory(person=person, ended=timezone.now())
    current = MembershipFactory(person=person)
    with django_assert_num_queries(1):
        found = membership_current_for(person)
        assert found == current
        assert found.partner.name == current.partner.name


def test_membership_current_for_is_none_without_a_current_membership():
    person = UserFactory()
    MembershipFactory(person=person, ended=timezone.now())
    assert membership_current_for(person) is None


def test_membership_current_for_is_none_for_anonymous_users(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert membership_current_for(AnonymousUser()) is None
        assert membership_current_for(None) is None


def _company(size):
    partner = PartnerFactory()
    PartnerAdminFactory(partner=partner)
    MembershipFactory.create_batch(size, partner=partner)
    MembershipFactory(partner=partner, ended=timezone.now())  # a former member
    MembershipFactory()  # someone elsewhere
    return partner


@pytest.mark.parametrize("size", [2, 12])
def test_partner_members_current_does_not_grow_queries_with_members(
    size, django_assert_num_queries
):
    partner = _company(size)
    with django_assert_num_queries(1):
        members = list(partner_members_current(partner))
        emails = [m.person.email for m in members]
    assert len(emails) == size + 1
    assert members[0].role == Membership.Role.ADMIN  # admins first


def test_partner_admins_and_people_ids_are_current_only():
    partner = _company(3)
    former_admin = PartnerAdminFactory(partner=partner, ended=timezone.now())
    admins = list(partner_admins_current(partner))
    assert len(admins) == 1
    assert admins[0].person != former_admin.person
    ids = set(partner_people_ids_current(partner))
    assert len(ids) == 4
    assert former_admin.person_id not in ids
