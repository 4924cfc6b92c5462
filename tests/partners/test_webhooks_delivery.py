"""Webhook delivery against a real receiver on 127.0.0.1: signatures, retries,
time-outs, redirects, the SSRF rules, the sweep and the back-off schedule."""

import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule

from partners.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from partners.webhooks import services, signing, transport
from tests.partners import webhook_receiver
from tests.partners.factories import MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db

PRODUCTION = {"WEBHOOKS_ALLOW_PRIVATE_HOSTS": False, "WEBHOOKS_REQUIRE_HTTPS": True}


@pytest.fixture
def receivers():
    started = []

    def make(plan=None, secret=None):
        receiver = webhook_receiver.start(plan, secret)
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        webhook_receiver.stop(receiver)


@pytest.fixture
def partner():
    partner = PartnerFactory(name="Northwind", slug="northwind")
    MembershipFactory(partner=partner, role="admin")
    return partner


def endpoint_for(partner, receiver, events=("member.joined",)):
    endpoint, secret = services.endpoint_create(partner=partner, url=receiver.url, events=events)
    receiver.secret = secret
    return endpoint


def record(partner, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return services.events_record(
            partner_id=partner.pk, type="member.joined", data=data or {"member": {"id": 1}}
        )


def test_a_delivery_is_signed_per_standard_webhooks(
    partner, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint = endpoint_for(partner, receiver)
    event = record(partner, django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got.error == ""
    assert got.verified == {
        "id": event.public_id,
        "type": "member.joined",
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"member": {"id": 1}},
    }
    assert got.headers["webhook-id"] == event.public_id
    assert got.headers["webhook-signature"].startswith("v1,")
    assert got.headers["host"] == f"127.0.0.1:{receiver.port}"
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 200
    assert delivery.latency_ms is not None


def test_500_then_200_delivers_the_same_event_id_twice(
    partner, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers(plan=[500, 200])
    endpoint_for(partner, receiver)
    event = record(partner, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 500
    assert delivery.last_error == "answered 500"
    # The retry is a one-off schedule at the next attempt's time.
    retry = Schedule.objects.get(func=services.DELIVER_TASK)
    assert retry.next_run == delivery.next_attempt_at
    assert services.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at) == (
        "delivered"
    )
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids == [event.public_id, event.public_id]
    assert all(r.error == "" for r in receiver.received)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)


@override_settings(WEBHOOKS_TIMEOUT_SECONDS=0.5)
def test_a_hanging_receiver_is_timed_out(partner, receivers, django_capture_on_commit_callbacks):
    receiver = receivers(plan=[("hang", 3)])
    endpoint_for(partner, receiver)
    event = record(partner, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert delivery.last_error == "timed out after 0.5 s"
    assert delivery.attempts == 1


def test_a_redirect_is_not_followed(partner, receivers, django_capture_on_commit_callbacks):
    elsewhere = receivers()
    receiver = receivers(plan=[("redirect", elsewhere.url)])
    endpoint_for(partner, receiver)
    event = record(partner, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code == 302
    assert "not followed" in delivery.last_error
    assert len(receiver.received) == 1
    assert elsewhere.received == []


@pytest.mark.parametrize(
    "url",
    ["https://169.254.169.254/latest/meta-data", "https://10.0.0.1/hooks", "https://localhost/h"],
)
def test_private_addresses_are_refused_at_registration_under_production_settings(partner, url):
    with override_settings(**PRODUCTION), pytest.raises(services.InvalidWebhook) as refused:
        services.endpoint_create(partner=partner, url=url, events=["member.joined"])
    assert refused.value.code == "address_refused"
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_refused_under_production_settings(partner):
    with override_settings(**PRODUCTION), pytest.raises(services.InvalidWebhook) as refused:
        services.endpoint_create(
            partner=partner, url="http://example.com/h", events=["member.joined"]
        )
    assert refused.value.code == "https_required"


@pytest.mark.parametrize("host", ["169.254.169.254", "10.0.0.1", "localhost"])
def test_private_addresses_are_refused_at_every_delivery_under_production_settings(
    partner, receivers, host, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint = endpoint_for(partner, receiver)
    # Registered while allowed (or DNS changed since): checked again when sending.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        url=f"https://{host}:{receiver.port}/hooks"
    )
    with override_settings(**PRODUCTION):
        event = record(partner, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error.startswith("refused:")
    assert "public addresses only" in delivery.last_error
    assert receiver.received == []


@pytest.mark.parametrize(
    ("address", "allow_private", "refusal"),
    [
        ("93.184.215.14", False, None),
        ("2606:4700::1111", False, None),
        ("127.0.0.1", False, "loopback"),
        ("127.0.0.1", True, None),
        ("::1", False, "loopback"),
        ("10.0.0.1", False, "private"),
        ("10.0.0.1", True, None),
        ("192.168.1.1", False, "private"),
        ("172.16.0.1", False, "private"),
        ("100.64.0.1", False, "private"),
        ("fd00::1", False, "private"),
        ("169.254.169.254", False, "link-local"),
        ("169.254.169.254", True, "link-local"),
        ("fe80::1", True, "link-local"),
        ("224.0.0.1", True, "multicast"),
        ("ff02::1", True, "multicast"),
        ("0.0.0.0", True, "unspecified"),
        ("240.0.0.1", True, "reserved"),
        ("::ffff:127.0.0.1", False, "loopback"),
        ("::ffff:10.0.0.1", False, "private"),
        ("::ffff:169.254.169.254", True, "link-local"),
    ],
)
def test_address_rules(address, allow_private, refusal):
    assert transport.address_refusal(address, allow_private=allow_private) == refusal


def test_one_public_and_one_private_address_refuses_the_host():
    def resolver(host, port, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    target = transport.parse("https://hooks.example/x", require_https=True)
    with pytest.raises(transport.Refused) as refused:
        transport.resolve_checked(target, allow_private=False, resolver=resolver)
    assert "10.1.2.3" in str(refused.value)


def test_the_name_is_resolved_once_and_the_checked_address_is_connected_to(receivers):
    receiver = receivers()
    lookups = []

    def resolver(host, port, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    outcome = transport.post(
        f"http://hooks.example:{receiver.port}/in?x=1",
        b"{}",
        {"webhook-id": "evt_1"},
        timeout=5,
        allow_private=True,
        require_https=False,
        resolver=resolver,
    )
    assert outcome.delivered
    assert lookups == ["hooks.example"]
    assert receiver.received[0].headers["host"] == f"hooks.example:{receiver.port}"
    assert receiver.received[0].path == "/in?x=1"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/x", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
        ("javascript:alert(1)", "invalid_url"),
        ("https://user:pw@example.com/", "invalid_url"),
        ("https://example.com:99999/", "invalid_url"),
        ("http://example.com/", "https_required"),
    ],
)
def test_url_rules(url, code):
    with pytest.raises(transport.Refused) as refused:
        transport.parse(url, require_https=True)
    assert refused.value.code == code


def test_a_worker_killed_mid_send_is_delivered_later_by_the_sweep(partner, receivers):
    receiver = receivers()
    endpoint = endpoint_for(partner, receiver)
    # Recorded, but the queued job is lost (no on-commit run: a broker restart).
    event = services.events_record(partner_id=partner.pk, type="member.joined", data={})
    delivery = WebhookDelivery.objects.get(event=event)
    # A worker claims it and dies before it sends anything.
    killed_at = timezone.now() - timedelta(minutes=5)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=killed_at)
    assert services._claim(delivery.pk, killed_at) is not None
    assert receiver.received == []
    # While the claim holds, the sweep leaves it alone.
    assert services.deliveries_sweep(now=killed_at + timedelta(seconds=30)) == 0
    # Once it ran out, the sweep queues it (django-q2 runs it inline in tests).
    assert services.deliveries_sweep() == 1
    assert len(receiver.received) == 1
    assert receiver.received[0].headers["webhook-id"] == event.public_id
    assert receiver.received[0].error == ""
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert endpoint.deliveries.count() == 1
    assert services.deliveries_sweep() == 0


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(partner, receivers):
    receiver = receivers()
    endpoint_for(partner, receiver)
    event = services.events_record(partner_id=partner.pk, type="member.joined", data={})
    delivery = WebhookDelivery.objects.get(event=event)
    now = timezone.now()
    assert services._claim(delivery.pk, now) is not None
    assert services.delivery_attempt(delivery_id=delivery.pk, now=now) == "skipped"
    assert receiver.received == []


def test_the_back_off_schedule_with_an_injected_clock(partner, receivers):
    receiver = receivers(plan=[503])
    endpoint = endpoint_for(partner, receiver)
    start = timezone.now().replace(microsecond=0)
    event = services.events_record(partner_id=partner.pk, type="member.joined", data={}, now=start)
    delivery = WebhookDelivery.objects.get(event=event)
    expected_gaps = [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
    ]
    clock = start
    for attempt, gap in enumerate(expected_gaps, start=1):
        # Not due a second early.
        assert services.delivery_attempt(
            delivery_id=delivery.pk, now=clock - timedelta(seconds=1)
        ) == ("skipped")
        assert services.delivery_attempt(delivery_id=delivery.pk, now=clock) == "retry"
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert delivery.next_attempt_at == clock + gap
        clock = clock + gap
    assert services.delivery_attempt(delivery_id=delivery.pk, now=clock) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.failed_at) == ("failed", 7, clock)
    assert delivery.next_attempt_at is None
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert ids == {event.public_id}
    assert len(receiver.received) == 7
    # 17 h 35 min of failing: not yet the 3 days that disable the endpoint.
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since == start


def test_an_endpoint_failing_for_three_days_is_disabled_and_admins_are_mailed(
    partner, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers(plan=[500])
    endpoint = endpoint_for(partner, receiver)
    start = timezone.now()
    first = services.events_record(partner_id=partner.pk, type="member.joined", data={}, now=start)
    services.delivery_attempt(delivery_id=first.deliveries.get().pk, now=start)
    later = start + timedelta(days=3)
    second = services.events_record(partner_id=partner.pk, type="member.joined", data={}, now=later)
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_attempt(delivery_id=second.deliveries.get().pk, now=later)
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason == "failing"
    assert len(mail.outbox) == 1
    assert "disabled" in mail.outbox[0].subject
    assert endpoint.url in mail.outbox[0].body
    # Pending retries of a disabled endpoint are not sent.
    pending = first.deliveries.get()
    sent = len(receiver.received)
    assert services.delivery_attempt(delivery_id=pending.pk, now=pending.next_attempt_at) == (
        "failed"
    )
    assert len(receiver.received) == sent
    # And new events do not go to it.
    assert services.events_record(partner_id=partner.pk, type="member.joined", data={}) is None


def test_a_success_clears_failing_since(partner, receivers, django_capture_on_commit_callbacks):
    receiver = receivers(plan=[500, 200])
    endpoint = endpoint_for(partner, receiver)
    event = record(partner, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    delivery = event.deliveries.get()
    services.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_during_a_rotation_both_secrets_sign(
    partner, receivers, django_capture_on_commit_callbacks
):
    receiver = receivers()
    endpoint = endpoint_for(partner, receiver)
    old = receiver.secret
    endpoint, new = services.endpoint_update(endpoint=endpoint, rotate_secret=True)
    assert new.startswith("whsec_") and new != old
    record(partner, django_capture_on_commit_callbacks)
    got = receiver.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):  # a receiver with either secret accepts it
        from standardwebhooks.webhooks import Webhook

        Webhook(secret).verify(got.body, got.headers)
    # After 24 hours only the new one signs.
    later = timezone.now() + timedelta(hours=24, seconds=1)
    assert services.signing_secrets(endpoint, later) == [new]


def test_secrets_are_stored_encrypted(partner, receivers):
    receiver = receivers()
    endpoint = endpoint_for(partner, receiver)
    endpoint.refresh_from_db()
    assert receiver.secret not in endpoint.secret_encrypted
    assert services.signing_secrets(endpoint, timezone.now()) == [receiver.secret]


def test_signing_matches_the_reference_library():
    from standardwebhooks.webhooks import Webhook

    secret = signing.new_secret()
    ours = signing.sign(secret=secret, msg_id="evt_1", timestamp=1_700_000_000, body=b'{"a":1}')
    from datetime import UTC, datetime

    theirs = Webhook(secret).sign("evt_1", datetime.fromtimestamp(1_700_000_000, UTC), '{"a":1}')
    assert ours == theirs


def _tls_receiver(tmp_path, name):
    """An https receiver on 127.0.0.1 whose certificate names `name` (its own CA)."""
    import datetime as dt
    import http.server
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    seen, snis = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"host": self.headers["Host"], "sni": snis[-1] if snis else None})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: snis.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    trust = ssl.create_default_context(cafile=str(cert_file))
    return server, seen, trust


def test_https_connects_to_the_checked_address_with_the_names_sni_and_certificate(tmp_path):
    server, seen, trust = _tls_receiver(tmp_path, "hooks.partner.test")
    port = server.server_address[1]

    def resolver(host, port_, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port_))]

    try:
        outcome = transport.post(
            f"https://hooks.partner.test:{port}/in",
            b"{}",
            {},
            timeout=5,
            allow_private=True,
            require_https=True,
            resolver=resolver,
            ssl_context=trust,
        )
        assert outcome.delivered, outcome
        assert seen == [{"host": f"hooks.partner.test:{port}", "sni": "hooks.partner.test"}]
        # A certificate for another name is refused (the check is against the name).
        wrong = transport.post(
            f"https://other.partner.test:{port}/in",
            b"{}",
            {},
            timeout=5,
            allow_private=True,
            require_https=True,
            resolver=resolver,
            ssl_context=trust,
        )
        assert not wrong.delivered
        assert wrong.error.startswith("TLS error")
        assert len(seen) == 1
    finally:
        server.shutdown()
        server.server_close()
