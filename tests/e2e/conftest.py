"""Browser tests: pytest-playwright driving Debian's Chromium against Django's live server.

Run with `make e2e` (or `.venv/bin/pytest tests/e2e -p no:cacheprovider`). Browsers
are never downloaded: the system Chromium at CHROMIUM_PATH is used. Screenshots of
every step go to test-results/screenshots/.
"""

import importlib
import json
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# fixtures and the live server are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_PATH = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM_PATH,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": DESKTOP, "locale": "en-GB"}


@pytest.fixture(scope="session", autouse=True)
def delete_output_dir():
    """Replaces pytest-playwright's: it wipes test-results/ (our screenshots) mid-session.

    Only this run's screenshots are cleared, once, before the first test.
    """
    if SCREENSHOT_DIR.exists():
        for old in SCREENSHOT_DIR.glob("*.png"):
            old.unlink()


@pytest.fixture
def home_page(transactional_db):
    """The home page from the data migration.

    Transactional tests flush the database after each test, so the page the
    migration created is only there for the first one: recreate it from the
    same content when it is missing.
    """
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page, Site

    from cms.models import HomePage

    existing = HomePage.objects.first()
    if existing:
        return existing
    migration = importlib.import_module("cms.migrations.0002_create_home_page")
    Locale.objects.get_or_create(language_code=get_supported_content_language_variant("en-us"))
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    content = migration.home_page_content()
    home = root.add_child(instance=HomePage(slug="home", **content))
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home},
    )
    return home


@pytest.fixture
def shoot(request):
    """shoot(page, "step-name"): full-page screenshot into test-results/screenshots/."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def _shoot(page, name):
        width = page.viewport_size["width"] if page.viewport_size else 0
        path = SCREENSHOT_DIR / f"{request.node.originalname}--{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shoot


def _format_violations(violations):
    lines = []
    for violation in violations:
        targets = [node.get("target") for node in violation.get("nodes", [])][:5]
        impact, rule, summary = violation["impact"], violation["id"], violation["help"]
        lines.append(f"[{impact}] {rule}: {summary} -> {json.dumps(targets)}")
    return "\n".join(lines)


def inject_axe(page):
    """Load axe-core into the page without a <script> element.

    Our pages' policy refuses inline script, so `page.add_script_tag` would be
    blocked (and reported as a violation); evaluating the source through the
    DevTools protocol is not subject to the page's policy.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_PATH.read_text(encoding="utf-8") + "\n;undefined")


@pytest.fixture
def check_a11y():
    """check_a11y(page): run axe-core; fail on serious or critical violations."""

    def _check(page):
        inject_axe(page)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        bad = [v for v in result["violations"] if v.get("impact") in {"serious", "critical"}]
        assert not bad, f"{page.url}\n{_format_violations(bad)}"
        return result["violations"]

    return _check


@pytest.fixture
def sign_in(browser, live_server):
    """sign_in(person, viewport) -> a signed-in page in its own browser context."""
    from playwright.sync_api import expect

    from tests.lms.factories import DEFAULT_PASSWORD

    contexts = []

    def _sign_in(person, viewport=DESKTOP):
        extra = {"is_mobile": True, "has_touch": True} if viewport == MOBILE else {}
        context = browser.new_context(
            viewport=viewport, locale="en-GB", accept_downloads=True, **extra
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("E-mail").fill(person.email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    yield _sign_in
    for context in contexts:
        context.close()


def no_sideways_scroll(page):
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} overflows horizontally by {overflow}px"
