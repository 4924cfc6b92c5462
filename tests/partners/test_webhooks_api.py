"""The webhooks API: who may use it, each operation, bad input, query counts."""

import pytest
from django.test import Client

from lms import api_auth
from lms.tokens import token_create
from partners.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from partners.webhooks import services
from tests.lms.factories import UserFactory
from tests.partners import webhook_receiver
from tests.partners.factories import MembershipFactory, PartnerFactory
from tests.partners.portal_factories import partner_with_admin

pytestmark = pytest.mark.django_db

BASE = "/api/v1/partners/northwind/webhooks"


def _headers(user):
    return {"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"}


@pytest.fixture
def company():
    partner, admin = partner_with_admin(name="Northwind", slug="northwind")
    return partner, admin, _headers(admin)


@pytest.fixture
def api():
    return Client()


@pytest.fixture
def receiver():
    started = webhook_receiver.start()
    yield started
    webhook_receiver.stop(started)


def create(api, headers, **body):
    payload = {"url": "https://hooks.northwind.example/in", "events": ["member.joined"]}
    payload.update(body)
    return api.post(BASE, payload, content_type="application/json", headers=headers)


def snapshot():
    return (
        list(WebhookEndpoint.objects.values()),
        WebhookEvent.objects.count(),
        list(WebhookDelivery.objects.values()),
    )


def test_create_answers_the_secret_once(api, company):
    partner, admin, headers = company
    response = create(api, headers, description="CRM", events=["member.left", "credential.issued"])
    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["url"] == "https://hooks.northwind.example/in"
    assert body["events"] == ["credential.issued", "member.left"]
    assert body["enabled"] is True
    assert body["description"] == "CRM"
    one = api.get(f"{BASE}/{body['id']}", headers=headers)
    assert one.status_code == 200
    assert "secret" not in one.json()
    listed = api.get(BASE, headers=headers).json()
    assert listed["object"] == "list" and listed["has_more"] is False
    assert [e["id"] for e in listed["data"]] == [body["id"]]
    assert "secret" not in listed["data"][0]


def test_patch_changes_events_and_enabled_and_rotates(api, company):
    partner, admin, headers = company
    endpoint_id = create(api, headers).json()["id"]
    url = f"{BASE}/{endpoint_id}"
    patched = api.patch(
        url,
        {"events": ["member.left"], "enabled": False},
        content_type="application/json",
        headers=headers,
    )
    assert patched.status_code == 200
    assert patched.json()["events"] == ["member.left"]
    assert patched.json()["enabled"] is False
    assert patched.json()["disabled_reason"] == "by_admin"
    assert "secret" not in patched.json()
    rotated = api.patch(
        url, {"rotate_secret": True}, content_type="application/json", headers=headers
    )
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret_rotating_until"] is not None
    enabled = api.patch(url, {"enabled": True}, content_type="application/json", headers=headers)
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None


def test_delete(api, company):
    partner, admin, headers = company
    endpoint_id = create(api, headers).json()["id"]
    assert api.delete(f"{BASE}/{endpoint_id}", headers=headers).status_code == 204
    assert api.get(f"{BASE}/{endpoint_id}", headers=headers).status_code == 404
    assert not WebhookEndpoint.objects.exists()


def test_ping_deliveries_and_retry(api, company, receiver, django_capture_on_commit_callbacks):
    partner, admin, headers = company
    endpoint_id = create(api, headers, url=receiver.url).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        ping = api.post(f"{BASE}/{endpoint_id}/test", headers=headers)
    assert ping.status_code == 202
    assert receiver.received[0].headers["webhook-id"] == ping.json()["event_id"]
    deliveries = api.get(f"{BASE}/{endpoint_id}/deliveries", headers=headers).json()
    row = deliveries["data"][0]
    assert row["event_id"] == ping.json()["event_id"]
    assert row["event_type"] == "ping"
    assert row["status"] == "delivered"
    assert row["attempts"] == 1
    assert row["last_status_code"] == 200
    assert row["next_attempt_at"] is None
    assert row["latency_ms"] is not None
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(f"{BASE}/{endpoint_id}/deliveries/{row['id']}/retry", headers=headers)
    assert again.status_code == 202
    assert len(receiver.received) == 2
    assert {r.headers["webhook-id"] for r in receiver.received} == {ping.json()["event_id"]}
    failed = api.get(f"{BASE}/{endpoint_id}/deliveries?status=failed", headers=headers).json()
    assert failed["data"] == []
    delivered = api.get(f"{BASE}/{endpoint_id}/deliveries?status=delivered", headers=headers)
    assert [d["id"] for d in delivered.json()["data"]] == [row["id"]]


def test_a_company_api_key_gets_insufficient_scope(api, company, monkeypatch):
    partner, admin, headers = company
    original = api_auth.BearerTokenAuth.authenticate

    def as_api_key(self, request, token):
        user = original(self, request, token)
        request.api_key = object()  # what company-key authentication marks
        return user

    monkeypatch.setattr(api_auth.BearerTokenAuth, "authenticate", as_api_key)
    before = snapshot()
    for response in (
        api.get(BASE, headers=headers),
        create(api, headers),
        api.patch(
            f"{BASE}/1", {"enabled": False}, content_type="application/json", headers=headers
        ),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "insufficient_scope"
    assert snapshot() == before


def test_others_get_404(api, company):
    partner, admin, headers = company
    endpoint_id = create(api, headers).json()["id"]
    employee = MembershipFactory(partner=partner).person
    other_admin = MembershipFactory(partner=PartnerFactory(slug="contoso"), role="admin").person
    outsider = UserFactory()
    for user in (employee, other_admin, outsider):
        h = _headers(user)
        assert api.get(BASE, headers=h).status_code == 404
        assert api.get(f"{BASE}/{endpoint_id}", headers=h).status_code == 404
        assert create(api, h).status_code == 404
    # Another partner's admin cannot reach Northwind's endpoint through their own slug.
    contoso = _headers(other_admin)
    assert (
        api.get(f"/api/v1/partners/contoso/webhooks/{endpoint_id}", headers=contoso).status_code
        == 404
    )
    assert api.get(BASE).status_code == 401


def test_staff_may_manage(api, company, staff_user):
    response = create(api, _headers(staff_user))
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"url": "ftp://hooks.example/in"}, 422, "invalid_url"),
        ({"url": "javascript:alert(1)"}, 422, "invalid_url"),
        ({"url": "not a url"}, 422, "invalid_url"),
        ({"url": ""}, 422, "invalid_url"),
        ({"url": "https://u:p@hooks.example/"}, 422, "invalid_url"),
        ({"events": ["member.joined", "member.promoted"]}, 422, "unknown_event"),
        ({"events": ["ping"]}, 422, "unknown_event"),
        ({"events": []}, 422, "events_required"),
        ({"events": "member.joined"}, 422, "validation_error"),
        ({"description": "x" * 501}, 422, "validation_error"),
        ({"secret": "whsec_mine"}, 422, "validation_error"),
    ],
)
def test_bad_input_on_create_changes_nothing(api, company, body, status, code):
    partner, admin, headers = company
    before = snapshot()
    response = create(api, headers, **body)
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"events": ["credential.exploded"]}, "unknown_event"),
        ({"events": []}, "events_required"),
        ({"enabled": "sometimes"}, "validation_error"),
        ({"url": "https://elsewhere.example/"}, "validation_error"),
    ],
)
def test_bad_input_on_patch_changes_nothing(api, company, body, code):
    partner, admin, headers = company
    endpoint_id = create(api, headers).json()["id"]
    before = snapshot()
    response = api.patch(
        f"{BASE}/{endpoint_id}", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert snapshot() == before


def test_a_cursor_from_another_list_is_invalid_cursor(api, company, receiver):
    partner, admin, headers = company
    first = create(api, headers, url=receiver.url).json()["id"]
    second = create(api, headers).json()["id"]
    services.endpoint_ping(endpoint=WebhookEndpoint.objects.get(pk=first))
    delivery_id = WebhookDelivery.objects.get().pk
    other = PartnerFactory(slug="contoso")
    foreign, _ = services.endpoint_create(
        partner=other, url="https://contoso.example/", events=["member.joined"]
    )
    before = snapshot()
    for url in (
        f"{BASE}?starting_after={foreign.pk}",  # another partner's endpoint
        f"{BASE}?starting_after={delivery_id}0",  # an id from no list
        f"{BASE}?ending_before=abc",
        f"{BASE}/{second}/deliveries?starting_after={delivery_id}",  # another endpoint's
        f"{BASE}/{first}/deliveries?status=failed&starting_after={delivery_id}",  # filtered out
        f"{BASE}?starting_after={first}&ending_before={second}",
    ):
        response = api.get(url, headers=headers)
        assert response.status_code == 400, url
        assert response.json()["code"] == "invalid_cursor"
    assert snapshot() == before


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "status=lost", "event_type=" + "x" * 41])
def test_bad_list_parameters_are_422(api, company, query):
    partner, admin, headers = company
    endpoint_id = create(api, headers).json()["id"]
    response = api.get(f"{BASE}/{endpoint_id}/deliveries?{query}", headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_bad_ids_are_404_or_422(api, company):
    partner, admin, headers = company
    assert api.get(f"{BASE}/999", headers=headers).json()["code"] == "not_found"
    assert api.get(f"{BASE}/0", headers=headers).status_code == 422
    assert api.post(f"{BASE}/999/test", headers=headers).status_code == 404
    endpoint_id = create(api, headers).json()["id"]
    retry = api.post(f"{BASE}/{endpoint_id}/deliveries/999/retry", headers=headers)
    assert retry.status_code == 404


def test_a_disabled_endpoint_refuses_ping_and_retry(api, company):
    partner, admin, headers = company
    endpoint = WebhookEndpoint.objects.get(pk=create(api, headers).json()["id"])
    delivery = services.endpoint_ping(endpoint=endpoint)
    services.endpoint_update(endpoint=endpoint, enabled=False)
    ping = api.post(f"{BASE}/{endpoint.pk}/test", headers=headers)
    assert (ping.status_code, ping.json()["code"]) == (409, "endpoint_disabled")
    retry = api.post(f"{BASE}/{endpoint.pk}/deliveries/{delivery.pk}/retry", headers=headers)
    assert (retry.status_code, retry.json()["code"]) == (409, "endpoint_disabled")


def test_endpoints_per_partner_are_limited(api, company, settings):
    partner, admin, headers = company
    settings.WEBHOOKS_MAX_ENDPOINTS = 2
    assert create(api, headers).status_code == 201
    assert create(api, headers).status_code == 201
    response = create(api, headers)
    assert (response.status_code, response.json()["code"]) == (409, "too_many_endpoints")
    assert WebhookEndpoint.objects.count() == 2


def test_a_terminated_partner_cannot_create_or_enable(api, company, monkeypatch):
    partner, admin, headers = company
    # The check compares with services.TERMINATED; any stored status stands in for it.
    monkeypatch.setattr(services, "TERMINATED", "suspended")
    endpoint_id = create(api, headers).json()["id"]
    api.patch(
        f"{BASE}/{endpoint_id}",
        {"enabled": False},
        content_type="application/json",
        headers=headers,
    )
    type(partner).objects.filter(pk=partner.pk).update(status="suspended", suspended_from="active")
    response = create(api, headers)
    assert (response.status_code, response.json()["code"]) == (409, "partner_terminated")
    enabling = api.patch(
        f"{BASE}/{endpoint_id}",
        {"enabled": True},
        content_type="application/json",
        headers=headers,
    )
    assert (enabling.status_code, enabling.json()["code"]) == (409, "partner_terminated")


LIST_QUERIES = 5  # token with its user, partner, groups, admin check, the page


@pytest.mark.parametrize("size", [3, 30])
def test_list_query_counts_do_not_grow(api, company, size, django_assert_num_queries, settings):
    partner, admin, headers = company
    settings.WEBHOOKS_MAX_ENDPOINTS = 100
    endpoint = None
    for _ in range(size):
        endpoint, _secret = services.endpoint_create(
            partner=partner, url="https://hooks.example/", events=["member.joined"]
        )
    for _ in range(size):
        services.endpoint_ping(endpoint=endpoint)
    api.get(BASE, headers=headers)  # the token's first use stamps last_used_at
    with django_assert_num_queries(LIST_QUERIES):
        body = api.get(f"{BASE}?limit=100", headers=headers).json()
    assert len(body["data"]) == size
    with django_assert_num_queries(LIST_QUERIES + 1):  # + the endpoint
        body = api.get(f"{BASE}/{endpoint.pk}/deliveries?limit=100", headers=headers).json()
    assert len(body["data"]) == size
    with django_assert_num_queries(LIST_QUERIES + 2):  # + the cursor row
        api.get(
            f"{BASE}/{endpoint.pk}/deliveries?starting_after={body['data'][0]['id']}",
            headers=headers,
        )
