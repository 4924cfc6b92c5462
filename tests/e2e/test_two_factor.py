"""Two-factor authentication in the browser: turn it on from the profile, save the
recovery codes, then sign in with a code from the app."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.lms.factories import DEFAULT_PASSWORD, UserFactory
from tests.lms.test_two_factor import code_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, live_server, email):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_turn_on_save_codes_and_sign_in_with_a_code(
    page, live_server, home_page, shoot, check_a11y
):
    user = UserFactory(email="hedy@example.com")
    sign_in(page, live_server, user.email)
    page.goto(live_server.url + "/accounts/profile/")
    page.get_by_role("link", name="Two-factor authentication settings").click()
    check_a11y(page)
    page.get_by_role("link", name="Turn on two-factor authentication").click()

    expect(page.locator("svg.qr-code")).to_be_visible()
    expect(page.locator("#totp-secret")).to_be_visible()
    check_a11y(page)
    shoot(page, "setup")

    key = TOTPDevice.objects.get(user=user).key
    page.get_by_label("Code from the app").fill("12 34")
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    check_a11y(page)

    page.get_by_label("Code from the app").fill(code_for(key))
    page.get_by_role("button", name="Confirm and turn on").click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/recovery-codes/$"))
    codes = page.locator(".recovery-codes code").all_text_contents()
    assert len(codes) == 10
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # two_factor.js ran
    check_a11y(page)
    shoot(page, "recovery-codes")
    page.get_by_role("button", name="I have saved my codes").click()
    expect(page.get_by_text("10 unused recovery codes are left")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, user.email)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/$"))
    check_a11y(page)
    shoot(page, "code-step")
    page.get_by_label("Authentication code").fill(code_for(key, steps=1))
    page.get_by_role("button", name="Verify and continue").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, user.email)
    page.get_by_role("link", name="Use a recovery code").click()
    check_a11y(page)
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Verify and continue").click()
    expect(page.get_by_role("status")).to_contain_text("9 left")
