from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from partners.models import Membership, Partner, PartnerTrack
from partners.rules import ISO_COUNTRY_CODES, is_country_code, normalise_country_code
from tests.lms.factories import UserFactory

from .factories import MembershipFactory, PartnerFactory, PartnerTrackFactory

pytestmark = pytest.mark.django_db


def test_second_current_membership_is_refused_by_the_database():
    first = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(person=first.person, partner=PartnerFactory())
    assert Membership.objects.filter(person=first.person).count() == 1


def test_ended_memberships_do_not_count_against_the_one_current_rule():
    person = UserFactory()
    for _ in range(3):
        MembershipFactory(person=person, ended=timezone.now())
    MembershipFactory(person=person)
    assert Membership.objects.filter(person=person).count() == 4
    assert Membership.objects.filter(person=person, ended__isnull=True).count() == 1


def test_membership_cannot_end_before_it_started():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(
            ended=membership.started - timedelta(seconds=1)
        )


def test_unknown_role_is_refused_by_the_database():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=membership.pk).update(role="owner")


def test_a_partner_joins_a_track_once():
    track = PartnerTrackFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        PartnerTrack.objects.create(partner=track.partner, track=track.track)


def test_unknown_partner_status_is_refused_by_the_database():
    partner = PartnerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Partner.objects.filter(pk=partner.pk).update(status="gold")


def test_membership_with_people_cannot_vanish_with_its_partner():
    membership = MembershipFactory()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        membership.partner.delete()


@pytest.mark.parametrize("code", ["", "DE", "US", "GB"])
def test_valid_country_codes_pass_model_validation(code):
    PartnerFactory.build(country=code).full_clean(exclude=["slug"])


@pytest.mark.parametrize("code", ["XX", "de", "UK", "D"])
def test_invalid_country_codes_fail_model_validation(code):
    with pytest.raises(ValidationError) as exc:
        PartnerFactory.build(country=code).full_clean(exclude=["slug"])
    assert "country" in exc.value.message_dict


def test_country_rules_are_plain_python():
    assert len(ISO_COUNTRY_CODES) == 249
    assert is_country_code("FR")
    assert not is_country_code("fr")
    assert normalise_country_code(" fr ") == "FR"
    assert normalise_country_code(None) == ""
