"""The webhook pages of the partner portal."""

import re

import pytest
from django.test import Client

from partners.models import WebhookDelivery, WebhookEndpoint
from partners.webhooks import services
from tests.lms.factories import MODEL_BACKEND, UserFactory
from tests.partners import webhook_receiver
from tests.partners.factories import MembershipFactory
from tests.partners.portal_factories import partner_with_admin

pytestmark = pytest.mark.django_db

LIST = "/partners/northwind/webhooks/"


@pytest.fixture
def company():
    partner, admin = partner_with_admin(name="Northwind", slug="northwind")
    client = Client()
    client.force_login(admin, backend=MODEL_BACKEND)
    return partner, admin, client


def no_inline_code(html: str) -> None:
    assert "style=" not in html
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_register_shows_the_secret_once(company):
    partner, admin, client = company
    response = client.post(
        LIST,
        {
            "url": "https://hooks.northwind.example/in",
            "description": "CRM",
            "events": ["member.joined", "credential.issued"],
        },
    )
    assert response.status_code == 201
    html = response.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    secret = re.search(r'id="signing-secret">(whsec_[^<]+)<', html).group(1)
    assert services.signing_secrets(endpoint, endpoint.created_at) == [secret]
    assert endpoint.events == ["credential.issued", "member.joined"]
    no_inline_code(html)
    again = client.get(LIST).content.decode()
    assert secret not in again
    assert "https://hooks.northwind.example/in" in again
    detail = client.get(f"{LIST}{endpoint.pk}/").content.decode()
    assert secret not in detail
    no_inline_code(detail)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://hooks.example/", "events": ["member.joined"]}, "http:// or https://"),
        ({"url": "https://hooks.example/", "events": []}, "at least one event"),
        ({"url": "https://hooks.example/", "events": ["member.promoted"]}, "valid choice"),
        ({"url": "https://hooks.example/\x00", "events": ["member.joined"]}, "Null characters"),
    ],
)
def test_bad_input_is_shown_and_changes_nothing(company, data, message):
    partner, admin, client = company
    response = client.post(LIST, data)
    assert response.status_code in (400, 422)
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_enable_disable_test_and_delete(company, django_capture_on_commit_callbacks):
    partner, admin, client = company
    receiver = webhook_receiver.start()
    try:
        endpoint, old = services.endpoint_create(
            partner=partner, url=receiver.url, events=["member.joined"]
        )
        base = f"{LIST}{endpoint.pk}/"
        rotated = client.post(base + "rotate/")
        assert rotated.status_code == 200
        new = re.search(r'id="signing-secret">(whsec_[^<]+)<', rotated.content.decode()).group(1)
        assert new != old
        assert "24 hours" in rotated.content.decode()
        assert client.post(base + "enabled/", {"enabled": "0"}).status_code == 302
        endpoint.refresh_from_db()
        assert not endpoint.enabled
        refused = client.post(base + "test/", follow=True)
        assert "disabled" in refused.content.decode()
        client.post(base + "enabled/", {"enabled": "1"})
        with django_capture_on_commit_callbacks(execute=True):
            client.post(base + "test/")
        assert len(receiver.received) == 1
        delivery = WebhookDelivery.objects.get()
        page = client.get(base).content.decode()
        assert delivery.event.public_id in page
        assert "Redeliver" in page
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(f"{base}deliveries/{delivery.pk}/retry/").status_code == 302
        assert len(receiver.received) == 2
        settings_saved = client.post(
            base + "settings/", {"description": "ERP", "events": ["member.left"]}
        )
        assert settings_saved.status_code == 302
        endpoint.refresh_from_db()
        assert (endpoint.description, endpoint.events) == ("ERP", ["member.left"])
        assert client.post(base + "delete/").status_code == 302
        assert not WebhookEndpoint.objects.exists()
    finally:
        webhook_receiver.stop(receiver)


def test_delivery_filters(company):
    partner, admin, client = company
    endpoint, _ = services.endpoint_create(
        partner=partner, url="https://hooks.example/", events=["member.joined"]
    )
    ping = services.endpoint_ping(endpoint=endpoint)
    joined = services.events_record(partner_id=partner.pk, type="member.joined", data={})
    WebhookDelivery.objects.filter(pk=ping.pk).update(status="failed", next_attempt_at=None)
    base = f"{LIST}{endpoint.pk}/"
    failed = client.get(base + "?status=failed").content.decode()
    assert ping.event.public_id in failed and joined.public_id not in failed
    by_type = client.get(base + "?event_type=member.joined").content.decode()
    assert joined.public_id in by_type and ping.event.public_id not in by_type
    assert client.get(base + "?status=lost").status_code == 400
    assert client.get(base + "?starting_after=999999").status_code == 400


def test_others_get_404(company):
    partner, admin, client = company
    endpoint, _ = services.endpoint_create(
        partner=partner, url="https://hooks.example/", events=["member.joined"]
    )
    for user in (MembershipFactory(partner=partner).person, UserFactory()):
        other = Client()
        other.force_login(user, backend=MODEL_BACKEND)
        assert other.get(LIST).status_code == 404
        assert other.get(f"{LIST}{endpoint.pk}/").status_code == 404
        assert other.post(f"{LIST}{endpoint.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.count() == 1
    assert Client().get(LIST).status_code == 302  # to sign-in


@pytest.mark.parametrize("size", [2, 20])
def test_page_query_counts_do_not_grow(company, size, django_assert_num_queries):
    partner, admin, client = company
    endpoint = None
    for _ in range(size):
        endpoint, _secret = services.endpoint_create(
            partner=partner, url="https://hooks.example/", events=["member.joined"]
        )
    for _ in range(size):
        services.endpoint_ping(endpoint=endpoint)
    client.get(LIST)
    with django_assert_num_queries(6):  # session, user, partner, groups, admin check, endpoints
        client.get(LIST)
    with django_assert_num_queries(7):  # ... the endpoint, a page of deliveries
        client.get(f"{LIST}{endpoint.pk}/")
