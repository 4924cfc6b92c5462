"""A password change, a password reset or a deactivation ends what the old
credentials proved: the person's API tokens and their other sessions, on
every path (site, Wagtail admin, Django admin, a shell)."""

import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.core import mail
from django.db.models.fields.files import FieldFile
from django.test import Client, TestCase

from lms import services
from lms.models import ApiToken
from lms.permissions import INSTRUCTORS
from lms.tokens import token_create
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "harbour-violet-anchor-3"


@pytest.fixture(params=["db", "cached_db"])
def session_engine(request, settings):
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    return request.param


def signed_in_client(user) -> Client:
    """A browser signed in through the sign-in page (as a person does)."""
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="198.51.100.1",
    )
    assert response.status_code == 302
    return client


def is_signed_in(client) -> bool:
    return client.get("/accounts/profile/").status_code == 200


def token_state(client_token) -> int:
    return (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {client_token}"}).status_code
    )


@pytest.fixture
def ada(db):
    return UserFactory(email="ada@example.com")


@pytest.fixture
def ada_elsewhere(ada, session_engine):
    """(a browser signed in as Ada on another device, her API token)."""
    other = signed_in_client(ada)
    _, plain = token_create(user=ada, name="laptop")
    assert is_signed_in(other) and token_state(plain) == 200
    return other, plain


def assert_ended(ada, ada_elsewhere):
    other, plain = ada_elsewhere
    session_key = other.session.session_key
    assert not is_signed_in(other)
    assert not Session.objects.filter(session_key=session_key).exists()
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401
    ada.refresh_from_db()
    # An inactive person's tokens answer invalid_token (lms.tokens) before revoked.
    assert response.json()["code"] == ("token_revoked" if ada.is_active else "invalid_token")
    assert not ApiToken.objects.filter(user=ada, revoked_at__isnull=True).exists()


# --- the person's own change and reset -------------------------------------------------


def test_site_password_change_keeps_this_session_and_ends_the_others(ada, ada_elsewhere):
    here = signed_in_client(ada)
    response = here.post(
        "/accounts/password/change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302

    assert is_signed_in(here)
    assert_ended(ada, ada_elsewhere)


def test_site_password_reset_ends_sessions_and_tokens(ada, ada_elsewhere):
    browser = Client()
    with TestCase.captureOnCommitCallbacks(execute=True):  # the mail goes through lms.outbox
        browser.post("/accounts/password/reset/", {"email": "ADA@example.com"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[-1].body)
    form_page = browser.get(link.group(1), follow=True)
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302

    assert_ended(ada, ada_elsewhere)


def test_wagtail_admin_reset_ends_sessions_and_tokens(ada, ada_elsewhere):
    ada.is_staff = True
    ada.save()
    browser = Client()
    browser.post("/admin/password_reset/", {"email": "ada@example.com"})
    link = re.search(r"https?://[^/\s]+(/admin/password_reset/confirm/\S+/)", mail.outbox[-1].body)
    form_page = browser.get(link.group(1), follow=True)
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302

    assert_ended(ada, ada_elsewhere)


def _wagtail_account_form(client) -> dict:
    """Every panel of Wagtail's account page as posted unchanged (it saves them all)."""
    page = client.get("/admin/account/")
    data = {}
    for panels in page.context["panels_by_tab"].values():
        for panel in panels:
            form = panel.get_form()
            for name in form.fields:
                value = form[name].value()
                if value is True:
                    data[form.add_prefix(name)] = "on"
                elif value not in (None, False) and not isinstance(value, FieldFile):
                    data[form.add_prefix(name)] = getattr(value, "value", value)
    return data


def test_wagtail_account_password_change_keeps_this_session_and_ends_the_others(ada, ada_elsewhere):
    ada.groups.add(Group.objects.get(name=INSTRUCTORS))  # may use Wagtail's admin
    here = signed_in_client(ada)
    data = _wagtail_account_form(here)
    data.update(
        {
            "password-old_password": DEFAULT_PASSWORD,
            "password-new_password1": NEW_PASSWORD,
            "password-new_password2": NEW_PASSWORD,
        }
    )
    response = here.post("/admin/account/", data)
    assert response.status_code == 302, response.content[:500]
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)

    assert is_signed_in(here)
    assert_ended(ada, ada_elsewhere)


# --- someone else changes it: admins and the shell ---------------------------------------


@pytest.fixture
def superuser_client(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_wagtail_admin_setting_a_new_password_ends_sessions_and_tokens(
    ada, ada_elsewhere, superuser_client
):
    response = superuser_client.post(
        f"/admin/users/edit/{ada.pk}/",
        {
            "email": ada.email,
            "first_name": ada.first_name,
            "last_name": ada.last_name,
            "is_active": "on",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.content[:500]
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)

    assert_ended(ada, ada_elsewhere)


def test_wagtail_admin_deactivating_ends_sessions_and_tokens(ada, ada_elsewhere, superuser_client):
    response = superuser_client.post(
        f"/admin/users/edit/{ada.pk}/",
        {"email": ada.email, "first_name": ada.first_name, "last_name": ada.last_name},
    )
    assert response.status_code == 302, response.content[:500]
    ada.refresh_from_db()
    assert not ada.is_active

    assert_ended(ada, ada_elsewhere)


def test_wagtail_bulk_deactivation_ends_sessions_and_tokens(ada, ada_elsewhere, superuser_client):
    response = superuser_client.post(
        f"/admin/bulk/lms/user/set_active_state/?id={ada.pk}",
        {"mark_as_active": "False"},
    )
    assert response.status_code == 302, response.content[:500]
    ada.refresh_from_db()
    assert not ada.is_active

    assert_ended(ada, ada_elsewhere)


def test_django_admin_password_change_ends_sessions_and_tokens(
    ada, ada_elsewhere, superuser_client
):
    response = superuser_client.post(
        f"/django-admin/lms/user/{ada.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content[:500]
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)

    assert_ended(ada, ada_elsewhere)
    assert is_signed_in(superuser_client)  # the admin's own session is not touched


def test_django_admin_deactivation_ends_sessions_and_tokens(ada, ada_elsewhere, superuser_client):
    response = superuser_client.post(
        f"/django-admin/lms/user/{ada.pk}/change/",
        {
            "email": ada.email,
            "legal_name": ada.legal_name,
            "first_name": ada.first_name,
            "last_name": ada.last_name,
            "date_joined_0": ada.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": ada.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content[:500]
    ada.refresh_from_db()
    assert not ada.is_active

    assert_ended(ada, ada_elsewhere)


def test_set_password_and_save_from_a_shell_ends_sessions_and_tokens(ada, ada_elsewhere):
    ada.set_password(NEW_PASSWORD)
    ada.save()
    assert_ended(ada, ada_elsewhere)


def test_reactivating_does_not_bring_old_sessions_back(ada, ada_elsewhere):
    ada.is_active = False
    ada.save()
    ada.is_active = True
    ada.save()
    assert_ended(ada, ada_elsewhere)


# --- what does not revoke ------------------------------------------------------------------


def test_signing_in_and_editing_the_profile_keep_tokens_and_sessions(ada, ada_elsewhere):
    other, plain = ada_elsewhere
    here = signed_in_client(ada)  # saves last_login
    services.user_profile_update(
        user=ada, legal_name="Augusta Ada King", first_name="Ada", last_name="King"
    )
    ada.save()  # a save without changes

    assert is_signed_in(other) and is_signed_in(here)
    assert token_state(plain) == 200


def test_other_peoples_sessions_and_tokens_are_kept(ada, ada_elsewhere):
    grace = UserFactory(email="grace@example.com")
    grace_browser = signed_in_client(grace)
    _, grace_token = token_create(user=grace)

    ada.set_password(NEW_PASSWORD)
    ada.save()

    assert is_signed_in(grace_browser)
    assert token_state(grace_token) == 200


def test_the_service_keeps_the_named_session(ada, session_engine):
    here = signed_in_client(ada)
    other = signed_in_client(ada)
    token_create(user=ada)

    revoked, ended = services.user_credentials_changed(
        user=ada, keep_session_key=here.session.session_key
    )

    assert (revoked, ended) == (1, 1)
    assert is_signed_in(here)
    assert not is_signed_in(other)
