from datetime import timedelta

import factory
from django.utils import timezone

from partners.models import Membership, Partner, PartnerTrack
from tests.lms.factories import UserFactory


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    website = factory.LazyAttribute(lambda o: f"https://{o.slug}.example.com")
    country = "DE"
    status = Partner.Status.ACTIVE
    # A suspended partner remembers what reinstating returns it to (a constraint).
    suspended_from = factory.LazyAttribute(
        lambda o: Partner.Status.ACTIVE if o.status == Partner.Status.SUSPENDED else ""
    )


class PartnerTrackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerTrack

    partner = factory.SubFactory(PartnerFactory)
    track = PartnerTrack.Track.TECHNOLOGY


class MembershipFactory(factory.django.DjangoModelFactory):
    """A current membership unless `ended` is given."""

    class Meta:
        model = Membership

    person = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)
    role = Membership.Role.EMPLOYEE
    started = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    ended = None


class PartnerAdminFactory(MembershipFactory):
    role = Membership.Role.ADMIN
