"""Sign-in throttling (lms.throttle) on every sign-in path: site, API token,
Wagtail admin and Django admin.

Failures are counted per (client IP, account), per account and per IP, so a
few people mistyping their passwords behind one address never close sign-in
for everybody else there.
"""

import re

import pytest
from django.contrib.auth.signals import user_login_failed
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory, TestCase

from lms.models import RateEvent
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"
# The Wagtail and Django admins' own sign-in forms send every visitor and post to
# the site's sign-in (the second factor lives there), so these two are the
# only places a password is checked: see test_admin_sign_in_forms_check_no_password.
PATHS = ["site", "api"]
URLS = {
    "site": "/accounts/login/",
    "api": "/api/v1/auth/token",
    "wagtail": "/admin/login/",
    "django_admin": "/django-admin/login/",
}


def attempt(path, email, password=DEFAULT_PASSWORD, *, ip=IP, xff=None, client=None):
    client = client or Client()
    meta = {"REMOTE_ADDR": ip}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    if path == "api":
        return client.post(
            URLS[path],
            {"email": email, "password": password},
            content_type="application/json",
            **meta,
        )
    return client.post(URLS[path], {"username": email, "password": password}, **meta)


def signed_in(path, response) -> bool:
    if path == "api":
        return response.status_code == 201
    return response.status_code == 302


def assert_paused(path, response):
    """A 429 with Retry-After: JSON with the stable code on the API, the page elsewhere."""
    assert response.status_code == 429, response.content[:300]
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    if path == "api":
        body = response.json()
        assert body["code"] == "too_many_attempts"
        assert "try again in" in body["detail"]
    else:
        html = response.content.decode()
        assert "Sign-in paused" in html
        assert "try again in" in html
        assert 'href="/accounts/password/reset/"' in html


def person(path, **kwargs):
    # The Django admin signs in staff only; the other paths anyone.
    if path == "django_admin":
        kwargs.update(is_staff=True, is_superuser=True)
    return UserFactory(**kwargs)


# --- one IP, many people -------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_failures_of_six_people_do_not_stop_a_seventh_on_the_same_ip(path):
    people = [person(path) for _ in range(7)]
    for someone in people[:6]:
        responses = [attempt(path, someone.email, "wrong-password") for _ in range(5)]
        assert not any(signed_in(path, r) for r in responses)
        assert_paused(path, responses[-1])  # their own pair is paused ...

    # ... but not the address: the seventh person signs in from it.
    assert signed_in(path, attempt(path, people[6].email))


@pytest.mark.parametrize("path", PATHS)
def test_a_paused_pair_is_refused_even_the_right_password_and_other_ips_are_not(path):
    ada = person(path, email="ada@example.com")
    for _ in range(5):
        attempt(path, "ada@example.com", "wrong-password")

    assert_paused(path, attempt(path, "ada@example.com"))
    assert signed_in(path, attempt(path, "ada@example.com", ip="198.51.100.20"))
    assert ada.pk  # the account itself is fine


@pytest.mark.parametrize("path", PATHS)
def test_letter_case_and_spaces_share_one_counter(path):
    person(path, email="ada@example.com")
    variants = ["Ada@example.com", "ADA@EXAMPLE.COM", " ada@example.com ", "aDa@Example.Com"]
    responses = [attempt(path, variant, "wrong-password") for variant in variants]
    assert not any(r.status_code == 429 for r in responses)

    assert_paused(path, attempt(path, "ada@EXAMPLE.com", "wrong-password"))
    assert_paused(path, attempt(path, "ada@example.com"))


@pytest.mark.parametrize("path", PATHS)
def test_a_successful_sign_in_clears_the_pairs_failures(path):
    person(path, email="ada@example.com")
    for _ in range(4):
        attempt(path, "ada@example.com", "wrong-password")
    assert signed_in(path, attempt(path, "ada@example.com"))

    responses = [attempt(path, "ADA@example.com", "wrong-password") for _ in range(4)]
    assert not any(r.status_code == 429 for r in responses)


# --- per IP across accounts ----------------------------------------------------------


@pytest.mark.parametrize("path", ["site", "api"])
def test_a_hundred_failures_for_random_addresses_pause_that_ip(path):
    ada = UserFactory(email="ada@example.com")
    responses = [attempt(path, f"guess{n}@example.net", "wrong-password") for n in range(99)]
    assert not any(r.status_code == 429 for r in responses)
    assert_paused(path, attempt(path, "guess99@example.net", "wrong-password"))

    # The 101st request is refused before its (right) password is looked at.
    refused = attempt(path, ada.email)
    assert_paused(path, refused)
    assert int(refused["Retry-After"]) <= 5 * 60  # the IP window, not the cool-off
    # Other addresses are not affected.
    assert signed_in(path, attempt(path, ada.email, ip="198.51.100.20"))


def test_ip_limit_follows_its_settings(settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    ada = UserFactory()
    for n in range(3):
        attempt("site", f"guess{n}@example.net", "wrong-password")
    assert_paused("site", attempt("site", ada.email))
    settings.LOGIN_IP_FAILURE_LIMIT = 0  # off
    assert signed_in("site", attempt("site", ada.email))


# --- per account across IPs ------------------------------------------------------------


def _reset_password_by_mail(client, email, new_password, *, reset_url, confirm_pattern):
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the site's mail goes through lms.outbox
        response = client.post(reset_url, {"email": email})
    assert response.status_code == 302
    link = re.search(confirm_pattern, mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302, done.content[:500]


@pytest.mark.parametrize(
    ("reset_url", "confirm_pattern"),
    [
        ("/accounts/password/reset/", r"https?://[^/\s]+(/accounts/password/reset/\S+/)"),
        ("/admin/password_reset/", r"https?://[^/\s]+(/admin/password_reset/confirm/\S+/)"),
    ],
    ids=["site_reset", "wagtail_reset"],
)
def test_twenty_failures_from_twenty_ips_pause_the_account_until_a_reset(
    reset_url, confirm_pattern
):
    ada = UserFactory(email="ada@example.com", is_staff=True, is_superuser=True)
    for n in range(20):
        response = attempt("site", "Ada@example.com", "wrong-password", ip=f"10.0.0.{n + 1}")
        assert response.status_code in (200, 429)
    assert response.status_code == 429  # the twentieth reached the account limit

    for path in PATHS:
        assert_paused(path, attempt(path, ada.email, ip="10.0.1.99"))

    new_password = "river-stone-copper-19"
    _reset_password_by_mail(
        Client(),
        "ADA@example.com",
        new_password,
        reset_url=reset_url,
        confirm_pattern=confirm_pattern,
    )

    for path in PATHS:
        assert signed_in(path, attempt(path, ada.email, new_password, ip="10.0.1.99"))


def test_a_reset_also_clears_the_pair_counters_of_the_account():
    ada = UserFactory(email="ada@example.com")
    for _ in range(5):
        attempt("site", ada.email, "wrong-password")
    assert_paused("site", attempt("site", ada.email))

    ada.set_password("river-stone-copper-19")
    ada.save()

    assert signed_in("site", attempt("site", ada.email, "river-stone-copper-19"))


# --- the client IP behind a proxy --------------------------------------------------


def test_with_one_trusted_proxy_two_clients_behind_it_are_counted_apart(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    ada = UserFactory(email="ada@example.com")
    proxy = "10.1.1.1"
    for _ in range(5):
        last = attempt("site", ada.email, "wrong-password", ip=proxy, xff="192.0.2.10")
    assert_paused("site", last)

    # Another client behind the same balancer signs in to the same account.
    assert signed_in("site", attempt("site", ada.email, ip=proxy, xff="192.0.2.11"))
    # A client cannot escape by writing its own entry in front of the balancer's.
    assert_paused("site", attempt("site", ada.email, ip=proxy, xff="1.2.3.4, 192.0.2.10"))


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    ada = UserFactory(email="ada@example.com")
    for n in range(5):
        last = attempt("api", ada.email, "wrong-password", xff=f"192.0.2.{n}")
    assert_paused("api", last)
    assert_paused("api", attempt("api", ada.email, xff="192.0.2.200"))


@pytest.mark.parametrize("xff", ["not-an-ip", ",,,", "999.1.1.1", "a" * 3000])
def test_a_garbled_forwarded_for_falls_back_to_the_remote_address(settings, xff):
    settings.TRUSTED_PROXY_COUNT = 1
    ada = UserFactory(email="ada@example.com")
    for _ in range(5):
        response = attempt("site", ada.email, "wrong-password", xff=xff)
        assert response.status_code in (200, 429)
    assert_paused("site", attempt("site", ada.email, xff="192.0.2.50, garbage"))
    assert_paused("site", attempt("site", ada.email))


# --- other senders of user_login_failed, storage ----------------------------------------


def test_a_failed_second_step_sent_as_user_login_failed_counts_too():
    ada = UserFactory(email="ada@example.com")
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=IP)
    for _ in range(5):
        user_login_failed.send(
            sender="two-factor", credentials={"username": "ADA@example.com"}, request=request
        )
    assert_paused("site", attempt("site", ada.email))


def test_counters_live_in_the_database_not_the_cache():
    # A name with letters outside 0-9a-f: a stored hex digest can never
    # contain it by chance, so finding it means it was stored in the clear.
    grace = UserFactory(email="grace.hopper@example.com")
    for _ in range(5):
        attempt("site", grace.email, "wrong-password")
    cache.clear()  # a cache outage or restart
    assert_paused("site", attempt("site", grace.email))
    # Nothing about the person is stored in the clear.
    stored = " ".join(f"{e.scope} {e.key}" for e in RateEvent.objects.all())
    assert "grace" not in stored and "hopper" not in stored and "example" not in stored
    assert IP not in stored


def test_the_cool_off_ends_the_pause(settings):
    from datetime import timedelta

    ada = UserFactory(email="ada@example.com")
    for _ in range(5):
        attempt("site", ada.email, "wrong-password")
    assert_paused("site", attempt("site", ada.email))
    RateEvent.objects.update(
        created_at=RateEvent.objects.first().created_at - timedelta(minutes=16)
    )
    assert signed_in("site", attempt("site", ada.email))


@pytest.mark.parametrize("path", ["wagtail", "django_admin"])
def test_admin_sign_in_forms_check_no_password(path):
    """A post to an admin's own sign-in form is sent to the throttled site sign-in:
    it neither signs anyone in nor counts, so it cannot lock anyone out either."""
    ada = person(path, email="ada@example.com")
    for _ in range(12):
        response = attempt(path, "ADA@example.com", "wrong-password")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    response = attempt(path, ada.email)
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in response.client.session
    assert signed_in("site", attempt("site", ada.email))


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["site"])
@pytest.mark.parametrize(
    "username", ["", "   ", "x" * 5000, "ada\x00@example.com", "<script>@x.com", "Ada@ex ample"]
)
def test_bad_usernames_on_the_pages_are_form_errors_not_crashes(path, username):
    response = attempt(path, username, "wrong-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in response.client.session


@pytest.mark.parametrize(
    "email",
    ["", "x" * 5000, "ada\x00@example.com", "ada\x07@example.com"],
)
def test_bad_emails_on_the_api_are_422(email):
    response = attempt("api", email, "wrong-password")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
