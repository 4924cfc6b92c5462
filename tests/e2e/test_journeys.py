"""A person's first visit: home page, sign up, sign out, sign in, profile; on desktop and mobile."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import MOBILE
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "tidal-orchard-compass-42"


def test_sign_up_sign_out_and_sign_in_again(page, live_server, home_page, shoot, check_a11y):
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Partner Programme")
    expect(page.get_by_role("table", name="Programme benefits by partner status")).to_be_visible()
    check_a11y(page)
    shoot(page, "01-home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    check_a11y(page)
    shoot(page, "02-signup")

    # A weak password first: the errors are summarised and linked to the field.
    page.get_by_label("E-mail").fill("grace@example.com")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Password", exact=True).fill("12345")
    page.get_by_label("Repeat password").fill("12345")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.locator("#id_password1")).to_have_attribute("aria-invalid", "true")
    check_a11y(page)
    shoot(page, "03-signup-errors")

    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/sent/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    check_a11y(page)
    shoot(page, "04-check-your-email")
    assert get_user_model().objects.get(email="grace@example.com").legal_name == "Grace Hopper"

    # Not confirmed yet: the right password is refused with a way to get a new link.
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill("grace@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Confirm your e-mail address first")
    expect(page.get_by_role("link", name="Send me a new link")).to_be_visible()
    check_a11y(page)
    shoot(page, "04b-unconfirmed")

    # The live server runs in this process: its mail is in the locmem outbox.
    body = next(m.body for m in mail.outbox if m.to == ["grace@example.com"])
    link = re.search(r"https?://[^/\s]+(/accounts/confirm/\S+/)", body)[1]
    page.goto(live_server.url + link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your e-mail address")
    check_a11y(page)
    page.get_by_role("button", name="Confirm my address").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("status")).to_contain_text("Your e-mail address is confirmed")
    check_a11y(page)
    shoot(page, "04c-confirmed")
    page.get_by_label("E-mail").fill("grace@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shoot(page, "04d-home-signed-in")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    expect(page.get_by_text("Your certificates will read:")).to_be_visible()
    check_a11y(page)
    shoot(page, "05-profile")

    page.get_by_role("button", name="Sign out").click()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")
    ).to_be_visible()
    shoot(page, "06-signed-out")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    check_a11y(page)
    shoot(page, "07-signin")
    page.get_by_label("E-mail").fill("GRACE@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    shoot(page, "08-home-after-sign-in")


def test_wrong_password_shows_an_accessible_error(page, live_server, home_page, shoot, check_a11y):
    UserFactory(email="ada@example.com")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill("ada@example.com")
    page.get_by_label("Password").fill("not-" + DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    check_a11y(page)
    shoot(page, "signin-error")


def test_bad_confirmation_link_resend_and_rate_limit_pages_are_accessible(
    page, live_server, home_page, settings, shoot, check_a11y
):
    page.goto(live_server.url + "/accounts/confirm/not-a-real-token/")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    check_a11y(page)
    shoot(page, "confirm-bad-link")
    page.get_by_label("E-mail").fill("nobody@example.com")
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    check_a11y(page)
    shoot(page, "confirm-resent")

    # The live server runs in this process, so the setting applies to it.
    settings.CONFIRMATION_RESEND_RATE_LIMIT = 1
    page.goto(live_server.url + "/accounts/confirm/resend/")
    check_a11y(page)
    page.get_by_label("E-mail").fill("nobody@example.com")
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many requests")
    check_a11y(page)
    shoot(page, "rate-limited")


def test_pages_on_a_phone(browser, live_server, home_page, shoot, check_a11y):
    context = browser.new_context(viewport=MOBILE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        for name, path in [
            ("home", "/"),
            ("signup", "/accounts/signup/"),
            ("signin", "/accounts/login/"),
            ("password-reset", "/accounts/password/reset/"),
        ]:
            page.goto(live_server.url + path)
            # Nothing may scroll sideways at phone width (the table scrolls in its own box).
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} overflows horizontally by {overflow}px"
            check_a11y(page)
            shoot(page, name)

        UserFactory(email="mobile@example.com", legal_name="Katherine Johnson")
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("E-mail").fill("mobile@example.com")
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(live_server.url + "/accounts/profile/")
        expect(page.get_by_text("Katherine Johnson").first).to_be_visible()
        check_a11y(page)
        shoot(page, "profile")
    finally:
        context.close()


def test_keyboard_reaches_skip_link_then_the_sign_in_form_in_order(page, live_server, home_page):
    page.goto(live_server.url + "/accounts/login/")

    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    expect(page.locator(".skip-link")).to_be_in_viewport()

    order = []
    for _ in range(12):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                "() => document.activeElement.id || document.activeElement.textContent.trim()"
            )
        )
    # The form's own "Sign in" button comes after the password field (the nav has a link too).
    password_at = order.index("id_password")
    assert order.index("id_username") < password_at < order.index("Sign in", password_at)

    # Following the skip link lands in <main>: the next Tab is the first form field.
    page.goto(live_server.url + "/accounts/login/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "id_username"
