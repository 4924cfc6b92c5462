"""Sign-up confirms the e-mail address; nothing tells a stranger who has an account."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail, signing
from django.urls import reverse

from lms import confirmation
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory
from tests.lms.test_accounts import STRONG_PASSWORD, signup_data

pytestmark = pytest.mark.django_db

User = get_user_model()
LINK_RE = re.compile(r"https?://[^/\s]+(/accounts/confirm/[^/\s]+/)")


def signup(client, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("signup"), signup_data(**overrides))


def confirmation_link(message) -> str:
    return LINK_RE.search(message.body).group(1)


def sign_in(client, email="grace@example.com", password=STRONG_PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


# --- the journey --------------------------------------------------------------------


def test_signup_mails_a_link_and_the_account_works_only_after_it(
    client, django_capture_on_commit_callbacks
):
    response = signup(client, django_capture_on_commit_callbacks)
    assert response.url == reverse("signup_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@example.com"]
    assert message.subject == "Confirm your e-mail address for Partner Academy"
    assert "24 hours" in message.body

    refused = sign_in(client)
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "Confirm your e-mail address first" in html
    assert reverse("email_confirm_resend") in html
    assert "_auth_user_id" not in client.session

    link = confirmation_link(message)
    page = client.get(link)
    assert page.status_code == 200
    assert "grace@example.com" in page.content.decode()
    assert User.objects.get().email_confirmed_at is None  # GET changes nothing

    confirmed = client.post(link, follow=True)
    assert confirmed.redirect_chain[-1] == (reverse("login"), 302)
    assert "Your e-mail address is confirmed" in confirmed.content.decode()
    assert User.objects.get().email_confirmed_at is not None

    assert sign_in(client).status_code == 302
    assert "_auth_user_id" in client.session


def test_the_unconfirmed_message_needs_the_right_password(client):
    UserFactory(email="grace@example.com", email_confirmed_at=None)
    response = sign_in(client, password="not-the-password")
    html = response.content.decode()
    assert "do not match an account" in html
    assert "Confirm your e-mail" not in html


def test_a_link_works_once(client, django_capture_on_commit_callbacks):
    signup(client, django_capture_on_commit_callbacks)
    link = confirmation_link(mail.outbox[0])
    assert client.post(link).status_code == 302

    again = client.post(link)
    assert again.status_code == 410
    assert "already confirmed" in again.content.decode()
    assert client.get(link).status_code == 410


def test_a_link_expires_after_24_hours(client, django_capture_on_commit_callbacks, monkeypatch):
    signup(client, django_capture_on_commit_callbacks)
    link = confirmation_link(mail.outbox[0])
    later = signing.time.time() + timedelta(hours=24, minutes=1).total_seconds()
    monkeypatch.setattr(signing.time, "time", lambda: later)

    response = client.post(link)

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert User.objects.get().email_confirmed_at is None


@pytest.mark.parametrize(
    "token",
    ["garbage", "x" * 250, "eyJ1IjoxLCJzIjoiYWJjIn0:1abc:forged", "%00", "a:b:c:d"],
)
def test_garbled_links_are_a_clear_400_never_a_500(client, token):
    for method in (client.get, client.post):
        response = method(reverse("email_confirm", args=[token]))
        assert response.status_code == 400
        assert "not valid" in response.content.decode()


def test_a_link_for_another_salt_or_a_changed_address_is_refused(client):
    user = UserFactory(email="grace@example.com", email_confirmed_at=None)
    foreign = signing.dumps({"u": user.pk, "s": "x"}, salt="something.else")
    assert client.post(reverse("email_confirm", args=[foreign])).status_code == 400

    token = confirmation.confirmation_token(user)
    user.email = "other@example.com"
    user.save()
    assert client.post(reverse("email_confirm", args=[token])).status_code == 400
    user.refresh_from_db()
    assert user.email_confirmed_at is None


# --- no account enumeration ---------------------------------------------------------


def test_signup_with_a_taken_address_answers_the_same_and_warns_the_owner(
    client, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="grace@example.com")
    password_hash = owner.password

    taken = signup(client, django_capture_on_commit_callbacks, email="Grace@Example.com")
    fresh = signup(client, django_capture_on_commit_callbacks, email="new@example.com")

    assert (taken.status_code, taken.url) == (fresh.status_code, fresh.url)
    assert User.objects.count() == 2
    owner.refresh_from_db()
    assert owner.password == password_hash
    notice = next(m for m in mail.outbox if m.to == ["grace@example.com"])
    assert "tried to create a Partner Academy account" in notice.body
    assert reverse("password_reset") in notice.body
    assert "/accounts/confirm/" not in notice.body


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(
    client, django_capture_on_commit_callbacks
):
    UserFactory(email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes through lms.outbox
        known = client.post(reverse("password_reset"), {"email": "ada@example.com"})
        unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_resend_answers_the_same_and_mails_only_unconfirmed_accounts(
    client, django_capture_on_commit_callbacks
):
    UserFactory(email="waiting@example.com", email_confirmed_at=None)
    UserFactory(email="done@example.com")
    answers = []
    for email in ("waiting@example.com", "done@example.com", "nobody@example.com"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("email_confirm_resend"), {"email": email})
        answers.append((response.status_code, response.url))
    assert len(set(answers)) == 1
    assert [m.to for m in mail.outbox] == [["waiting@example.com"]]
    # The new link works.
    assert client.post(confirmation_link(mail.outbox[0])).status_code == 302


def test_resend_with_a_bad_address_is_a_form_error(client):
    response = client.post(reverse("email_confirm_resend"), {"email": "not-an-address"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()


def test_signup_done_and_resend_pages_render(client):
    assert "Check your e-mail" in client.get(reverse("signup_done")).content.decode()
    assert client.get(reverse("email_confirm_resend")).status_code == 200


# --- other ways in ------------------------------------------------------------------


def test_api_token_is_refused_until_confirmed_after_the_password_only(client):
    UserFactory(email="grace@example.com", email_confirmed_at=None)
    url = "/api/v1/auth/token"

    wrong = client.post(
        url, {"email": "grace@example.com", "password": "nope"}, content_type="application/json"
    )
    right = client.post(
        url,
        {"email": "grace@example.com", "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )

    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"
    assert right.status_code == 403
    assert right.json()["code"] == "email_unconfirmed"


@pytest.mark.parametrize("url", ["/django-admin/login/", "/admin/login/"])
def test_admin_sign_in_is_refused_until_confirmed(client, url):
    UserFactory(email="root@example.com", email_confirmed_at=None, is_staff=True, is_superuser=True)
    credentials = {"username": "root@example.com", "password": DEFAULT_PASSWORD}
    # The admins' own forms hand every sign-in to the site's (second factor there).
    response = client.post(url, credentials)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = client.post(response["Location"], credentials)
    assert response.status_code == 200
    assert "Confirm your e-mail address first" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_createsuperuser_and_existing_accounts_are_confirmed():
    assert User.objects.create_superuser(email="root@example.com", password="x").email_confirmed
    assert not User.objects.create_user(email="code@example.com", password="x").email_confirmed


# --- rate limits --------------------------------------------------------------------


def test_signup_is_rate_limited_per_ip(client, settings):
    settings.SIGNUP_RATE_LIMIT = 2
    for n in range(2):
        response = client.post(reverse("signup"), signup_data(email=f"p{n}@example.com"))
        assert response.status_code == 302
    refused = client.post(reverse("signup"), signup_data(email="p9@example.com"))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many sign-ups" in refused.content.decode()
    assert not User.objects.filter(email="p9@example.com").exists()
    # Another address (another client) is not affected.
    other = client.post(
        reverse("signup"), signup_data(email="p8@example.com"), REMOTE_ADDR="203.0.113.7"
    )
    assert other.status_code == 302


def test_password_reset_is_rate_limited_per_ip(client, settings):
    settings.PASSWORD_RESET_RATE_LIMIT = 1
    assert client.post(reverse("password_reset"), {"email": "a@example.com"}).status_code == 302
    refused = client.post(reverse("password_reset"), {"email": "b@example.com"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_password_reset_per_address_limit_is_quiet(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 2
    UserFactory(email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            client.post(
                reverse("password_reset"),
                {"email": "ada@example.com"},
                REMOTE_ADDR=f"198.51.100.{n}",
            )
            for n in range(4)
        ]
    assert {(r.status_code, r.url) for r in answers} == {(302, reverse("password_reset_done"))}
    assert len(mail.outbox) == 2


def test_resend_is_rate_limited_per_ip_and_quietly_per_address(
    client, settings, django_capture_on_commit_callbacks
):
    settings.CONFIRMATION_RESEND_RATE_LIMIT = 3
    settings.CONFIRMATION_RESEND_EMAIL_LIMIT = 1
    UserFactory(email="waiting@example.com", email_confirmed_at=None)
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("email_confirm_resend"), {"email": "waiting@example.com"}
            )
        assert response.status_code == 302
    assert len(mail.outbox) == 1
    refused = client.post(reverse("email_confirm_resend"), {"email": "waiting@example.com"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_the_data_migration_marks_existing_accounts_confirmed():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("lms.migrations.0007_confirm_existing_users")
    old = UserFactory(email="old@example.com", email_confirmed_at=None)
    migration.confirm_existing(apps, None)
    old.refresh_from_db()
    assert old.email_confirmed_at == old.date_joined


def test_signing_up_again_while_unconfirmed_mails_a_new_link(
    client, django_capture_on_commit_callbacks
):
    signup(client, django_capture_on_commit_callbacks)
    again = signup(client, django_capture_on_commit_callbacks, password1="x" * 12)
    assert again.status_code == 400  # mismatched passwords are still a form error
    again = signup(client, django_capture_on_commit_callbacks, first_name="Changed")
    assert again.url == reverse("signup_done")
    assert User.objects.get().first_name == "Grace"  # nothing about the account changed
    links = [confirmation_link(m) for m in mail.outbox]
    assert len(links) == 2
    assert client.post(links[-1]).status_code == 302


def test_a_completed_password_reset_confirms_the_address(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory(email="grace@example.com", email_confirmed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": "grace@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[-1].body)
    form_page = client.get(link.group(1), follow=True)
    new_password = "river-stone-copper-19"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.url == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    signed_in = client.post(reverse("login"), {"username": user.email, "password": new_password})
    assert signed_in.status_code == 302


def test_confirming_by_reset_is_idempotent():
    user = UserFactory(email_confirmed_at=None)
    assert confirmation.email_confirm_by_reset(user=user) is True
    assert confirmation.email_confirm_by_reset(user=user) is False
