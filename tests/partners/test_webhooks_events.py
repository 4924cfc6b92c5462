"""Which changes become webhook events, with what data, in the same transaction."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from certificates import services as certificates
from partners import signals
from partners.membership import services as membership
from partners.models import Partner, WebhookDelivery, WebhookEndpoint, WebhookEvent
from partners.status.services import partner_status_recompute
from partners.webhooks import events, services
from tests.certificates.factories import (
    CertificationFactory,
    CredentialFactory,
    meet_requirements,
)
from tests.lms.factories import UserFactory
from tests.partners.factories import MembershipFactory, PartnerFactory, PartnerTrackFactory
from tests.partners.status_factories import TechnicalVerificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    return PartnerFactory(name="Northwind", slug="northwind")


@pytest.fixture
def endpoint(partner):
    endpoint, _secret = services.endpoint_create(
        partner=partner, url="https://hooks.northwind.example/", events=events.EVENT_TYPES
    )
    return endpoint


def sent(partner, type_=None):
    rows = WebhookEvent.objects.filter(partner=partner).order_by("pk")
    if type_:
        rows = rows.filter(type=type_)
    return list(rows)


def test_member_joined_and_left(partner, endpoint):
    person = UserFactory(legal_name="Ada Lovelace")
    member = membership.membership_start(person=person, partner=partner, role="admin")
    [joined] = sent(partner, "member.joined")
    assert joined.data == {
        "member": {
            "id": member.pk,
            "person_id": person.pk,
            "email": person.email,
            "name": "Ada Lovelace",
            "role": "admin",
            "started": events.iso(member.started),
        }
    }
    assert WebhookDelivery.objects.get(event=joined).endpoint == endpoint
    membership.membership_end(membership=member, reason="left the company")
    [left] = sent(partner, "member.left")
    assert left.data["member"]["id"] == member.pk
    assert left.data["ended"] is not None
    assert "reason" not in left.data  # nothing the members API does not show


def test_credential_events_go_to_the_holders_current_partner_only(partner, endpoint):
    holder = MembershipFactory(partner=partner).person
    credential = CredentialFactory(person=holder)
    certificates.credential_revoke(credential=credential, by=None, reason="Exam fraud")
    [revoked] = sent(partner, "credential.revoked")
    assert revoked.data["reason"] == "Exam fraud"
    assert revoked.data["credential"]["id"] == credential.public_id
    assert revoked.data["credential"]["status"] == "revoked"
    assert revoked.data["member"]["person_id"] == holder.pk
    # Someone who is not a current member: nothing for Northwind.
    former = MembershipFactory(partner=partner, ended=timezone.now()).person
    certificates.credential_revoke(credential=CredentialFactory(person=former), by=None, reason="x")
    independent = CredentialFactory()
    certificates.credential_revoke(credential=independent, by=None, reason="x")
    assert len(sent(partner, "credential.revoked")) == 1


def test_credential_issued_expired_and_expiring(partner, endpoint):
    holder = MembershipFactory(partner=partner).person
    certification = CertificationFactory()
    meet_requirements(person=holder, certification=certification)
    credential, issued = certificates.credential_issue_if_eligible(
        person=holder, certification=certification
    )
    assert issued
    [event] = sent(partner, "credential.issued")
    assert event.data["credential"]["certification_slug"] == certification.slug
    now = timezone.now()
    expiring = CredentialFactory(
        person=holder, issued_at=now - timedelta(days=700), expires_at=now + timedelta(days=29)
    )
    assert certificates.expiry_reminders_send(now=now) == 1
    [reminder] = sent(partner, "credential.expiring")
    assert (reminder.data["days"], reminder.data["credential"]["id"]) == (30, expiring.public_id)
    assert certificates.credentials_expire(now=now + timedelta(days=30)) == 1
    [expired] = sent(partner, "credential.expired")
    assert expired.data["credential"]["status"] == "expired"


def test_track_status_changed(partner, endpoint):
    PartnerTrackFactory(partner=partner, track="technology")
    partner_status_recompute(partner=partner)  # first computation: not verified, no event
    assert sent(partner, "track.status_changed") == []
    TechnicalVerificationFactory(partner=partner)
    for slug in ("developer", "architect"):
        CredentialFactory(
            person=MembershipFactory(partner=partner).person,
            certification=CertificationFactory(slug=slug),
        )
    partner_status_recompute(partner=partner)
    changes = sent(partner, "track.status_changed")
    assert changes, "a track status change is an event"
    data = changes[-1].data
    assert data["track"] == "technology"
    assert data["from"] == "not_verified"
    assert set(data) == {"track", "from", "to", "reason", "at_risk_until", "lapses_on", "at"}


def test_partner_status_changed(partner, endpoint):
    at = timezone.now()
    with transaction.atomic():
        signals.partner_status_changed.send(
            sender=Partner,
            partner=partner,
            from_state="active",
            to_state="suspended",
            reason="Unpaid fees",
            at=at,
            by=None,
        )
    [event] = sent(partner, "partner.status_changed")
    assert event.data == {
        "from": "active",
        "to": "suspended",
        "reason": "Unpaid fees",
        "at": events.iso(at),
    }
    endpoint.refresh_from_db()
    assert endpoint.enabled  # a suspended partner's webhooks keep delivering


def test_termination_is_the_last_event_sent(partner, endpoint):
    at = timezone.now()
    signals.partner_status_changed.send(
        sender=Partner,
        partner=partner,
        from_state="suspended",
        to_state="terminated",
        reason="Breach",
        at=at,
        by=None,
    )
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "partner_terminated"
    delivery = WebhookDelivery.objects.get(event__type="partner.status_changed")
    assert services._sendable(delivery)
    assert services.events_record(partner_id=partner.pk, type="member.joined", data={}) is None


def test_events_roll_back_with_their_cause(partner, endpoint):
    person = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        membership.membership_start(person=person, partner=partner)
        raise RuntimeError("the request failed after the change")
    assert WebhookEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


def test_only_subscribed_enabled_endpoints_get_a_delivery(partner, endpoint):
    joined_only, _ = services.endpoint_create(
        partner=partner, url="https://a.example/", events=["member.joined"]
    )
    left_only, _ = services.endpoint_create(
        partner=partner, url="https://b.example/", events=["member.left"]
    )
    off, _ = services.endpoint_create(
        partner=partner, url="https://c.example/", events=["member.joined"]
    )
    services.endpoint_update(endpoint=off, enabled=False)
    elsewhere, _ = services.endpoint_create(
        partner=PartnerFactory(), url="https://d.example/", events=["member.joined"]
    )
    membership.membership_start(person=UserFactory(), partner=partner)
    got = set(WebhookDelivery.objects.values_list("endpoint_id", flat=True))
    assert got == {endpoint.pk, joined_only.pk}


def test_no_endpoint_no_event(partner):
    membership.membership_start(person=UserFactory(), partner=partner)
    assert WebhookEvent.objects.count() == 0


def test_recording_many_events_is_a_fixed_number_of_queries(
    partner, endpoint, django_assert_num_queries
):
    other = PartnerFactory()
    services.endpoint_create(partner=other, url="https://o.example/", events=["member.joined"])
    now = timezone.now()
    for size in (2, 40):
        items = [
            (partner.pk if i % 2 else other.pk, "member.joined", {"i": i}) for i in range(size)
        ]
        with django_assert_num_queries(3):  # endpoints, events, deliveries
            services.events_record_many(items=items, now=now)
    assert WebhookEndpoint.objects.count() == 2
