"""Two-factor authentication: setting it up, recovery codes, the sign-in code step,
turning it off, and the admins' gate when OTP_REQUIRED is on."""

import re
import time
from binascii import unhexlify

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lms import two_factor
from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from lms.views_two_factor import MAX_CODE_TRIES
from tests.lms.factories import DEFAULT_PASSWORD, MODEL_BACKEND, UserFactory

pytestmark = pytest.mark.django_db

# RFC 6238's test key ("12345678901234567890"), hex-encoded as TOTPDevice stores it.
KEY = "3132333435363738393031323334353637383930"
LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-factor/verify/"
SETUP = "/accounts/two-factor/setup/"
CODES = "/accounts/two-factor/recovery-codes/"
DOWNLOAD = "/accounts/two-factor/recovery-codes/download/"
REGENERATE = "/accounts/two-factor/recovery-codes/regenerate/"
DISABLE = "/accounts/two-factor/disable/"


def code_for(key_hex: str, *, steps: int = 0) -> str:
    """The app's code now (or `steps` time steps ahead), as a person would type it."""
    clock = TOTP(unhexlify(key_hex))
    clock.time = time.time() + steps * 30
    return f"{clock.token():06d}"


def wrong_code(key_hex: str = KEY) -> str:
    """Six digits the app would not show now (nor one step before or after)."""
    accepted = {code_for(key_hex, steps=steps) for steps in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)


def with_app(user, key=KEY):
    """Turn two-factor on for `user` with a known key; returns its recovery codes."""
    TOTPDevice.objects.create(user=user, key=key, confirmed=True, name="app")
    return two_factor.recovery_codes_regenerate(user=user)


def person(group=None, **kwargs):
    user = UserFactory(**kwargs)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def sign_in(client, user, next_url=None):
    data = {"username": user.email, "password": DEFAULT_PASSWORD}
    url = LOGIN + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


@pytest.fixture
def failures():
    """Sign-in failures as the throttle hears them (user_login_failed)."""
    heard = []

    def receiver(sender, credentials, request=None, **kwargs):
        heard.append({"credentials": credentials, "request": request})

    user_login_failed.connect(receiver)
    yield heard
    user_login_failed.disconnect(receiver)


@pytest.fixture
def no_code_throttle(settings):
    # django-otp makes a device wait 1, 2, 4 … s after wrong codes; tests that
    # send a right code straight after a wrong one turn that wait off.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def test_code_helper_matches_django_otp_totp():
    assert code_for(KEY) == f"{totp(unhexlify(KEY)):06d}"


# --- who needs it -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "flags", "privileged"),
    [
        (None, {}, False),
        (INSTRUCTORS, {}, True),
        (PROGRAMME_STAFF, {}, True),
        (None, {"is_superuser": True}, True),
        (None, {"is_staff": True}, True),
    ],
)
def test_instructors_staff_and_superusers_are_privileged(settings, group, flags, privileged):
    user = person(group, **flags)
    assert two_factor.is_privileged(user) is privileged
    settings.OTP_REQUIRED = True
    assert two_factor.two_factor_required(user) is privileged
    settings.OTP_REQUIRED = False
    assert two_factor.two_factor_required(user) is False


def test_anyone_with_a_confirmed_app_needs_the_second_factor():
    user = person()
    TOTPDevice.objects.create(user=user, key=KEY, confirmed=False)
    assert not two_factor.two_factor_required(user)  # an unconfirmed app does not count
    with_app(user)
    assert two_factor.two_factor_required(user)


# --- setting up ------------------------------------------------------------------------------


def test_setup_page_shows_qr_code_and_secret_and_an_accessible_code_field(client):
    user = person()
    client.force_login(user, MODEL_BACKEND)
    response = client.get(SETUP)
    html = response.content.decode()
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    assert "<svg" in html and "<?xml" not in html
    assert two_factor.setup_secret(device) in html
    assert '<label for="id_code">' in html
    assert re.search(r'<input[^>]*autocomplete="one-time-code"', html)
    assert re.search(r'<input[^>]*inputmode="numeric"', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline scripts
    # Reloading keeps the same secret (the app may already have it).
    client.get(SETUP)
    assert TOTPDevice.objects.get(user=user).key == device.key


def test_setup_qr_code_carries_the_otpauth_url():
    user = person(email="ada@example.com")
    device = two_factor.two_factor_setup_start(user=user)
    assert device.config_url.startswith("otpauth://totp/Partner%20Academy%3Aada%40example.com?")
    assert "secret=" in device.config_url
    svg = two_factor.setup_qr_svg(device)
    assert svg.startswith("<svg") and 'aria-hidden="true"' in svg


def test_setup_confirms_the_app_only_with_a_valid_code(client):
    user = person()
    client.force_login(user, MODEL_BACKEND)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=user)

    response = client.post(SETUP, {"code": wrong_code(device.key)})
    assert response.status_code == 400
    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    device.throttle_reset()
    response = client.post(SETUP, {"code": code_for(device.key)})
    assert response.status_code == 302
    assert response["Location"] == CODES
    device.refresh_from_db()
    assert device.confirmed
    assert two_factor.recovery_codes_remaining(user) == two_factor.RECOVERY_CODE_COUNT
    # The session that set it up is verified: the settings pages open without a code.
    assert client.get("/accounts/two-factor/").status_code == 200


@pytest.mark.parametrize("code", ["abc", "12345", "1234567", "12 34 5x", "x" * 17, "<b>1</b>"])
def test_setup_refuses_malformed_codes_with_a_form_error(client, code):
    user = person()
    client.force_login(user, MODEL_BACKEND)
    response = client.post(SETUP, {"code": code})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_setup_needs_a_signed_in_person(client):
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_setting_up_a_new_app_replaces_the_old_one(client):
    user = person()
    with_app(user)
    client.force_login(user, MODEL_BACKEND)
    session_verify(client, user)
    client.get(SETUP)
    new = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"code": code_for(new.key)})
    assert response.status_code == 302
    assert list(TOTPDevice.objects.filter(user=user)) == [new]


def session_verify(client, user, *, steps=0):
    """Give the signed-in client's session the code step (as after a code sign-in)."""
    response = client.post(VERIFY, {"code": code_for(KEY, steps=steps)})
    assert response.status_code == 302, response.content


# --- recovery codes --------------------------------------------------------------------------


def test_recovery_codes_are_shown_once_and_downloadable_until_then(client):
    user = person()
    client.force_login(user, MODEL_BACKEND)
    client.get(SETUP)
    client.post(SETUP, {"code": code_for(TOTPDevice.objects.get(user=user).key)})
    stored = sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(stored) == 10

    html = client.get(CODES).content.decode()
    for code in stored:
        assert code in html
    download = client.get(DOWNLOAD)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert all(code in download.content.decode() for code in stored)

    assert client.post(CODES).status_code == 302  # "I have saved my codes"
    html = client.get(CODES).content.decode()
    assert not any(code in html for code in stored)
    assert "10 unused recovery codes are left" in html
    assert client.get(DOWNLOAD).status_code == 404


def test_a_recovery_code_works_once():
    user = person()
    codes = with_app(user)
    assert two_factor.two_factor_verify(user=user, code=codes[0].upper()) is not None
    assert two_factor.two_factor_verify(user=user, code=codes[0]) is None
    assert two_factor.recovery_codes_remaining(user) == 9


def test_someone_elses_recovery_code_does_not_work():
    owner, other = person(), person()
    codes = with_app(owner)
    with_app(other, key="00" * 20)
    assert two_factor.two_factor_verify(user=other, code=codes[0]) is None
    assert two_factor.recovery_codes_remaining(owner) == 10


def test_regenerating_recovery_codes_needs_a_code_or_password_and_retires_the_old(client):
    user = person()
    old = with_app(user)
    client.force_login(user, MODEL_BACKEND)
    session_verify(client, user)

    response = client.post(REGENERATE, {})
    assert response.status_code == 400
    response = client.post(REGENERATE, {"password": "not-my-password"})
    assert response.status_code == 400
    assert set(old) == set(StaticToken.objects.values_list("token", flat=True))

    response = client.post(REGENERATE, {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    new = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(new) == 10 and not new & set(old)
    assert two_factor.two_factor_verify(user=user, code=old[1]) is None
    assert all(code in client.get(CODES).content.decode() for code in new)


# --- signing in ------------------------------------------------------------------------------


def test_without_an_app_signing_in_is_as_before(client):
    user = person()
    response = sign_in(client, user)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_with_an_app_the_password_alone_does_not_sign_in(client):
    user = person()
    with_app(user)
    response = sign_in(client, user, next_url="/courses/")
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert "_auth_user_id" not in client.session
    # Pages that need a signed-in person still send them to sign in.
    assert client.get("/accounts/profile/")["Location"].startswith(LOGIN)

    page = client.get(VERIFY)
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<input[^>]*autocomplete="one-time-code"[^>]*inputmode="numeric"', html)
    assert '<label for="id_code">' in html


def test_the_right_code_signs_in_verified_and_goes_on_to_next(client):
    user = person()
    with_app(user)
    sign_in(client, user, next_url="/courses/")
    response = client.post(VERIFY, {"code": code_for(KEY)})
    assert response.status_code == 302
    assert response["Location"] == "/courses/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session["otp_device_id"]
    # The same code cannot be used again (another sign-in, same time step).
    other = client_class()
    sign_in(other, user)
    assert other.post(VERIFY, {"code": code_for(KEY)}).status_code == 400


def client_class():
    from django.test import Client

    return Client()


def test_a_wrong_code_is_a_form_error_and_a_failed_sign_in(client, failures):
    user = person(email="grace@example.com")
    with_app(user)
    sign_in(client, user)
    wrong = wrong_code()
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert len(failures) == 1
    assert failures[0]["credentials"] == {"username": "grace@example.com"}
    assert failures[0]["request"] is not None


def test_a_right_code_right_after_a_wrong_one_is_asked_to_wait(client, failures):
    user = person()
    with_app(user)
    sign_in(client, user)
    wrong = wrong_code()
    client.post(VERIFY, {"code": wrong})
    response = client.post(VERIFY, {"code": code_for(KEY)})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Wait" in response.content.decode()
    assert len(failures) == 1  # an unchecked code is no failure
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_signs_in_once(client, no_code_throttle):
    user = person()
    codes = with_app(user)
    sign_in(client, user)
    page = client.get(VERIFY + "?method=recovery").content.decode()
    assert 'inputmode="numeric"' not in page  # letters allowed
    response = client.post(VERIFY + "?method=recovery", {"code": codes[0]}, follow=True)
    assert response.context["user"] == user
    assert "You used a recovery code; 9 left." in response.content.decode()

    again = client_class()
    sign_in(again, user)
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 400


@pytest.mark.parametrize(
    "code", ["", "abcdef", "12345", "1234567", "9" * 17, "12345\x00", "ü" * 6, "DROP TABLE"]
)
def test_malformed_codes_are_form_errors_not_failures(client, failures, code):
    user = person()
    with_app(user)
    sign_in(client, user)
    response = client.post(VERIFY, {"code": code})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert failures == []
    assert "_auth_user_id" not in client.session


def test_too_many_wrong_codes_start_over_from_the_password(client, no_code_throttle):
    user = person()
    with_app(user)
    sign_in(client, user)
    wrong = wrong_code()
    for _ in range(MAX_CODE_TRIES - 1):
        assert client.post(VERIFY, {"code": wrong}).status_code == 400
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.post(VERIFY, {"code": code_for(KEY)})["Location"] == LOGIN


def test_the_code_step_expires(client, monkeypatch):
    user = person()
    with_app(user)
    sign_in(client, user)
    later = time.time() + 11 * 60
    monkeypatch.setattr("lms.views_two_factor.time.time", lambda: later)
    response = client.post(VERIFY, {"code": code_for(KEY)})
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_the_code_step_without_a_password_first_sends_to_sign_in(client):
    assert client.get(VERIFY)["Location"] == LOGIN
    assert client.post(VERIFY, {"code": "123456"})["Location"] == LOGIN


def test_an_unsafe_next_is_not_followed(client):
    user = person()
    with_app(user)
    sign_in(client, user, next_url="https://evil.example/")
    response = client.post(VERIFY, {"code": code_for(KEY)})
    assert response["Location"] == "/"


# --- turning it off --------------------------------------------------------------------------


def test_a_learner_turns_it_off_with_a_code_and_signs_in_with_the_password_again(client):
    user = person()
    with_app(user)
    sign_in(client, user)
    client.post(VERIFY, {"code": code_for(KEY)})
    response = client.post(DISABLE, {"code": code_for(KEY, steps=1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()

    client.logout()
    response = sign_in(client, user)
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_turning_off_with_a_wrong_password_is_refused_and_counted(client, failures):
    user = person()
    with_app(user)
    client.force_login(user, MODEL_BACKEND)
    session_verify(client, user)
    response = client.post(DISABLE, {"password": "wrong-password-here"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert len(failures) == 1


def test_turning_off_with_the_password_works(client):
    user = person()
    with_app(user)
    client.force_login(user, MODEL_BACKEND)
    session_verify(client, user)
    assert client.post(DISABLE, {"password": DEFAULT_PASSWORD}).status_code == 302
    assert not two_factor.two_factor_enabled(user)


@pytest.mark.parametrize("group", [INSTRUCTORS, PROGRAMME_STAFF])
def test_privileged_people_cannot_turn_it_off_while_required(client, settings, group):
    settings.OTP_REQUIRED = True
    user = person(group)
    with_app(user)
    client.force_login(user, MODEL_BACKEND)
    session_verify(client, user)
    assert "must keep two-factor" in client.get("/accounts/two-factor/").content.decode()
    response = client.post(DISABLE, {"password": DEFAULT_PASSWORD})
    assert response.status_code == 403
    assert two_factor.two_factor_enabled(user)


def test_privileged_people_may_turn_it_off_when_not_required(client):
    user = person(INSTRUCTORS)
    with_app(user)
    client.force_login(user, MODEL_BACKEND)
    session_verify(client, user)
    assert client.post(DISABLE, {"password": DEFAULT_PASSWORD}).status_code == 302
    assert not two_factor.two_factor_enabled(user)


def test_settings_pages_ask_an_unverified_session_for_the_code_first(client):
    user = person()
    with_app(user)
    client.force_login(user, MODEL_BACKEND)  # signed in without the code step
    for url in ("/accounts/two-factor/", SETUP, DISABLE, REGENERATE):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(VERIFY + "?next=")


def test_the_profile_links_to_two_factor_settings(client):
    client.force_login(person(), MODEL_BACKEND)
    html = client.get("/accounts/profile/").content.decode()
    assert 'href="/accounts/two-factor/"' in html


# --- the admins ------------------------------------------------------------------------------


@pytest.mark.parametrize("group", [INSTRUCTORS, PROGRAMME_STAFF])
def test_required_wagtail_admin_sends_privileged_people_without_an_app_to_set_one_up(
    client, settings, group
):
    settings.OTP_REQUIRED = True
    client.force_login(person(group), MODEL_BACKEND)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == SETUP + "?next=%2Fadmin%2F"


def test_required_django_admin_sends_a_superuser_without_an_app_to_set_one_up(client, settings):
    settings.OTP_REQUIRED = True
    client.force_login(person(is_staff=True, is_superuser=True), MODEL_BACKEND)
    response = client.get("/django-admin/lms/user/")
    assert response.status_code == 302
    assert response["Location"] == SETUP + "?next=%2Fdjango-admin%2Flms%2Fuser%2F"


def test_admin_with_an_app_but_unverified_session_goes_to_the_code_step(client, settings):
    settings.OTP_REQUIRED = True
    user = person(PROGRAMME_STAFF, is_staff=True, is_superuser=True)
    with_app(user)
    client.force_login(user, MODEL_BACKEND)
    for url in ("/admin/", "/django-admin/"):
        response = client.get(url)
        assert response["Location"] == VERIFY + "?next=" + url.replace("/", "%2F")
    response = client.post(VERIFY + "?next=/django-admin/", {"code": code_for(KEY)})
    assert response["Location"] == "/django-admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/django-admin/").status_code == 200


def test_setting_up_from_the_admin_gate_returns_to_the_admin(client, settings):
    settings.OTP_REQUIRED = True
    user = person(INSTRUCTORS)
    client.force_login(user, MODEL_BACKEND)
    client.get(SETUP + "?next=/admin/")
    device = TOTPDevice.objects.get(user=user)
    response = client.post(
        SETUP + "?next=/admin/", {"code": code_for(device.key), "next": "/admin/"}
    )
    assert response["Location"] == CODES
    assert client.post(CODES)["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_with_otp_required_off_admins_without_an_app_work_as_before(client):
    client.force_login(person(INSTRUCTORS), MODEL_BACKEND)
    assert client.get("/admin/").status_code == 200
    client.force_login(person(is_staff=True, is_superuser=True), MODEL_BACKEND)
    assert client.get("/django-admin/").status_code == 200


def test_learners_are_not_sent_to_set_up_by_the_admin_gate(client, settings):
    settings.OTP_REQUIRED = True
    client.force_login(person(), MODEL_BACKEND)
    response = client.get("/admin/")
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    ("url", "expected_next"),
    [
        ("/admin/login/", "%2Fadmin%2F"),
        ("/admin/login/?next=/admin/pages/", "%2Fadmin%2Fpages%2F"),
        ("/django-admin/login/", "%2Fdjango-admin%2F"),
        ("/django-admin/login/?next=https://evil.example/", "%2Fdjango-admin%2F"),
    ],
)
def test_the_admins_sign_in_pages_send_to_ours(client, url, expected_next):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={expected_next}"


def test_the_admins_sign_in_forms_cannot_skip_the_code_step(client):
    user = person(PROGRAMME_STAFF)
    with_app(user)
    for url in ("/admin/login/", "/django-admin/login/"):
        response = client.post(url, {"username": user.email, "password": DEFAULT_PASSWORD})
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)
        assert "_auth_user_id" not in client.session


def test_signing_in_for_the_wagtail_admin_asks_for_the_code(client, settings):
    settings.OTP_REQUIRED = True
    user = person(INSTRUCTORS)
    with_app(user)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN}?next=%2Fadmin%2F"
    response = sign_in(client, user, next_url="/admin/")
    assert response["Location"] == VERIFY
    response = client.post(VERIFY, {"code": code_for(KEY)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --- the demo ----------------------------------------------------------------------------------


def test_demo_accounts_sign_in_with_the_password_alone(client):
    from django.core.management import call_command

    call_command("seed_demo")
    assert not TOTPDevice.objects.exists()
    assert not StaticDevice.objects.exists()
    response = client.post(
        LOGIN, {"username": "instructor@academy.example", "password": "academy-demo-2026"}
    )
    assert response["Location"] == "/"
    assert client.get("/admin/").status_code == 200


def test_a_superuser_removes_a_lost_app_in_the_django_admin_without_seeing_its_key(client):
    owner = person()
    with_app(owner)
    device = TOTPDevice.objects.get(user=owner)
    client.force_login(person(is_staff=True, is_superuser=True), MODEL_BACKEND)
    assert client.get("/django-admin/otp_totp/totpdevice/").status_code == 200
    page = client.get(f"/django-admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert KEY not in page.content.decode()
    response = client.post(
        f"/django-admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not two_factor.two_factor_enabled(owner)


@pytest.mark.parametrize(
    ("module", "env", "expected"),
    [
        ("lms.settings.production", {}, "True"),
        ("lms.settings.production", {"OTP_REQUIRED": "0"}, "False"),
        ("lms.settings.dev", {}, "False"),
        ("lms.settings.dev", {"OTP_REQUIRED": "1"}, "True"),
    ],
)
def test_otp_required_is_on_in_production_unless_the_environment_says_0(module, env, expected):
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if k != "OTP_REQUIRED"}
    clean.update({"SECRET_KEY": "test-only", "ALLOWED_HOSTS": "a.example", **env})
    out = subprocess.run(
        [sys.executable, "-c", f"import {module} as s; print(s.OTP_REQUIRED)"],
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == expected
