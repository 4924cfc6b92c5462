from datetime import timedelta

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone

from lms import ratelimit
from lms.client_ip import client_ip
from lms.models import RateEvent

pytestmark = pytest.mark.django_db

WINDOW = timedelta(minutes=5)


def test_hit_refuses_past_the_limit_with_retry_after():
    now = timezone.now()
    for i in range(3):
        ratelimit.rate_limit_hit(
            scope="t", key="k", limit=3, window=WINDOW, now=now + timedelta(seconds=i)
        )
    with pytest.raises(ratelimit.RateLimited) as caught:
        ratelimit.rate_limit_hit(
            scope="t", key="k", limit=3, window=WINDOW, now=now + timedelta(seconds=10)
        )
    assert caught.value.status == 429
    assert caught.value.code == "too_many_requests"
    # The oldest event leaves the window 5 minutes after it happened.
    assert caught.value.retry_after == 290
    # A refused hit is not recorded.
    assert RateEvent.objects.count() == 3


def test_window_slides_and_keys_are_apart():
    now = timezone.now()
    for _ in range(2):
        ratelimit.rate_limit_hit(scope="t", key="a", limit=2, window=WINDOW, now=now)
    ratelimit.rate_limit_hit(scope="t", key="b", limit=2, window=WINDOW, now=now)
    ratelimit.rate_limit_hit(scope="u", key="a", limit=2, window=WINDOW, now=now)
    ratelimit.rate_limit_hit(scope="t", key="a", limit=2, window=WINDOW, now=now + WINDOW)


def test_keys_are_stored_as_digests_and_cleared():
    ratelimit.rate_limit_record(scope="login", key="ada@example.com")
    assert not RateEvent.objects.filter(key__contains="ada").exists()
    assert ratelimit.rate_limit_clear(scope="login", key="ada@example.com") == 1


def test_zero_limit_is_off():
    for _ in range(5):
        ratelimit.rate_limit_hit(scope="t", key="k", limit=0, window=WINDOW)
    assert RateEvent.objects.count() == 0


def test_sweep_deletes_old_events():
    old = timezone.now() - ratelimit.RATE_EVENT_KEEP - timedelta(minutes=1)
    ratelimit.rate_limit_record(scope="t", key="k", now=old)
    ratelimit.rate_limit_record(scope="t", key="k")
    assert ratelimit.rate_limit_sweep() == 1


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "203.0.113.9", "10.0.0.1"),  # forged header ignored
        (1, "10.0.0.1", "203.0.113.9", "203.0.113.9"),
        (1, "10.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # client-written entry skipped
        (2, "10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "10.0.0.1", "203.0.113.9", "10.0.0.1"),  # fewer entries than proxies
        (1, "10.0.0.1", "not-an-ip", "10.0.0.1"),
        (1, "10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        (1, "10.0.0.1", "", "10.0.0.1"),
    ],
)
def test_client_ip(trusted, remote, forwarded, expected):
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=trusted):
        assert client_ip(request) == expected


def test_a_check_is_one_query_whatever_the_count(django_assert_num_queries):
    now = timezone.now()
    for _ in range(30):
        ratelimit.rate_limit_record(scope="t", key="k", now=now)
    with django_assert_num_queries(1):
        with pytest.raises(ratelimit.RateLimited):
            ratelimit.rate_limit_check(scope="t", key="k", limit=10, window=WINDOW, now=now)
