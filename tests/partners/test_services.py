from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from lms.errors import DomainError
from partners.membership.services import (
    membership_end,
    membership_set_role,
    membership_start,
    partner_create,
    partner_tracks_set,
)
from partners.models import Membership, Partner, PartnerTrack
from tests.lms.factories import UserFactory

from .factories import MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db


# --- membership_start ---------------------------------------------------------


def test_membership_start_makes_a_current_employee_membership():
    person, partner = UserFactory(), PartnerFactory()
    membership = membership_start(person=person, partner=partner)
    assert membership.is_current
    assert membership.role == Membership.Role.EMPLOYEE
    assert membership.started <= timezone.now()


def test_membership_start_refuses_a_second_current_membership_and_changes_nothing():
    current = MembershipFactory(partner=PartnerFactory(name="Acme Payments"))
    other = PartnerFactory()
    before = list(Membership.objects.values())

    with pytest.raises(DomainError) as exc:
        membership_start(person=current.person, partner=other, role="admin")

    assert exc.value.code == "already_member"
    assert exc.value.status == 409
    assert "Acme Payments" in exc.value.message
    assert exc.value.extra == {"partner": current.partner.slug}
    assert list(Membership.objects.values()) == before


def test_membership_start_refuses_joining_the_same_partner_twice():
    current = MembershipFactory()
    with pytest.raises(DomainError) as exc:
        membership_start(person=current.person, partner=current.partner)
    assert exc.value.code == "already_member"


def test_membership_start_turns_the_constraint_race_into_already_member(monkeypatch):
    # The friendly check passes (as it would for two requests at the same
    # moment); the database constraint still refuses, with the same error.
    from partners.membership import services

    current = MembershipFactory(partner=PartnerFactory(name="Globex"))
    monkeypatch.setattr(services, "check_no_current_membership", lambda **kwargs: None)

    with transaction.atomic():  # the caller's transaction stays usable afterwards
        with pytest.raises(DomainError) as exc:
            membership_start(person=current.person, partner=PartnerFactory())
        assert Membership.objects.filter(person=current.person).count() == 1

    assert exc.value.code == "already_member"
    assert "Globex" in exc.value.message


@pytest.mark.parametrize("role", ["owner", "", "ADMIN"])
def test_membership_start_refuses_an_unknown_role(role):
    person = UserFactory()
    with pytest.raises(DomainError) as exc:
        membership_start(person=person, partner=PartnerFactory(), role=role)
    assert exc.value.code == "invalid_role"
    assert not Membership.objects.filter(person=person).exists()


# --- membership_end -----------------------------------------------------------


def test_membership_end_keeps_the_row_and_stamps_it():
    membership = MembershipFactory()
    membership_end(membership=membership, reason="left the company")
    membership.refresh_from_db()
    assert membership.ended is not None
    assert membership.ended_reason == "left the company"
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_membership_end_is_idempotent():
    membership = MembershipFactory()
    first_end = timezone.now() - timedelta(days=1)
    membership_end(membership=membership, ended=first_end, reason="first")
    membership_end(membership=membership, reason="second")
    membership.refresh_from_db()
    assert membership.ended == first_end
    assert membership.ended_reason == "first"


def test_a_person_can_join_a_new_partner_after_ending():
    membership = MembershipFactory()
    membership_end(membership=membership)
    new = membership_start(person=membership.person, partner=PartnerFactory())
    assert new.is_current
    assert Membership.objects.filter(person=membership.person).count() == 2


def test_membership_end_refuses_an_end_before_the_start():
    membership = MembershipFactory()
    with pytest.raises(DomainError) as exc:
        membership_end(membership=membership, ended=membership.started - timedelta(days=1))
    assert exc.value.code == "ended_before_started"
    membership.refresh_from_db()
    assert membership.is_current


def test_membership_end_refuses_a_future_end():
    membership = MembershipFactory()
    with pytest.raises(DomainError) as exc:
        membership_end(membership=membership, ended=timezone.now() + timedelta(days=3))
    assert exc.value.code == "ended_in_future"
    membership.refresh_from_db()
    assert membership.is_current


# --- membership_set_role -------------------------------------------------------


def test_membership_set_role_promotes_a_current_member():
    membership = MembershipFactory()
    membership_set_role(membership=membership, role=Membership.Role.ADMIN)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.ADMIN


def test_membership_set_role_refuses_an_ended_membership():
    membership = MembershipFactory(ended=timezone.now())
    with pytest.raises(DomainError) as exc:
        membership_set_role(membership=membership, role=Membership.Role.ADMIN)
    assert exc.value.code == "membership_ended"
    membership.refresh_from_db()
    assert membership.role == Membership.Role.EMPLOYEE


def test_membership_set_role_refuses_an_unknown_role():
    membership = MembershipFactory()
    with pytest.raises(DomainError) as exc:
        membership_set_role(membership=membership, role="boss")
    assert exc.value.code == "invalid_role"


# --- partners -------------------------------------------------------------------


def test_partner_create_with_tracks_and_derived_slug():
    partner = partner_create(
        name="  Acme Payments GmbH ",
        website="https://acme.example.com",
        country="de",
        tracks=["apps", "technology", "apps"],
    )
    assert partner.name == "Acme Payments GmbH"
    assert partner.slug == "acme-payments-gmbh"
    assert partner.country == "DE"
    assert partner.status == Partner.Status.APPLICANT
    assert set(partner.tracks.values_list("track", flat=True)) == {"apps", "technology"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": ""}, "invalid_name"),
        ({"name": "   "}, "invalid_name"),
        ({"name": "Acme", "slug": "!!!"}, "invalid_slug"),
        ({"name": "Acme", "country": "XX"}, "invalid_country"),
        ({"name": "Acme", "country": "DEU"}, "invalid_country"),
        ({"name": "Acme", "website": "not a url"}, "invalid_website"),
        ({"name": "Acme", "website": "ftp://acme.example.com"}, "invalid_website"),
        ({"name": "Acme", "status": "gold"}, "invalid_status"),
        ({"name": "Acme", "tracks": ["apps", "crypto"]}, "invalid_track"),
    ],
)
def test_partner_create_refuses_bad_input_and_creates_nothing(kwargs, code):
    with pytest.raises(DomainError) as exc:
        partner_create(**kwargs)
    assert exc.value.code == code
    assert exc.value.status == 400
    assert not Partner.objects.exists()


def test_partner_create_refuses_a_taken_slug():
    PartnerFactory(slug="acme")
    with pytest.raises(DomainError) as exc:
        partner_create(name="Acme")
    assert exc.value.code == "slug_taken"
    assert exc.value.status == 409
    assert Partner.objects.count() == 1


def test_partner_tracks_set_adds_and_removes_and_keeps_joined_at():
    partner = partner_create(name="Acme", tracks=["apps", "services"])
    apps_joined = partner.tracks.get(track="apps").joined_at
    partner_tracks_set(partner=partner, tracks=["apps", "technology"])
    assert set(partner.tracks.values_list("track", flat=True)) == {"apps", "technology"}
    assert partner.tracks.get(track="apps").joined_at == apps_joined


def test_partner_tracks_set_refuses_unknown_tracks_and_changes_nothing():
    partner = partner_create(name="Acme", tracks=["apps"])
    with pytest.raises(DomainError) as exc:
        partner_tracks_set(partner=partner, tracks=["services", "nope"])
    assert exc.value.code == "invalid_track"
    assert list(PartnerTrack.objects.values_list("track", flat=True)) == ["apps"]
