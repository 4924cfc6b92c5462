"""Every page the README lists, as every role, and every admin menu page: the
browser asks no other host for anything and the Content-Security-Policy refuses
nothing the page needs.

For each page: no request to a host other than the live server's
(`page.on("request")`), no CSP violation (console messages and
`securitypolicyviolation` events), an answer below 400 (so the page was really
seen), and on our own pages axe-core finds no serious or critical violation.
The Wagtail admin menu is read from Wagtail's own menu registry for each
person, so a new menu item is visited without editing this file.

The demo data (`manage.py seed_demo`) is loaded once per test, after the data
migrations it builds on are replayed (transactional tests flush them).
"""

from importlib import import_module
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import get_resolver, reverse
from wagtail.admin.menu import SubmenuMenuItem, admin_menu

from tests.e2e.conftest import _format_violations, inject_axe
from tests.site_pages import readme_pages

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What seed_demo builds on, in order: (module, function); all idempotent.
DATA_MIGRATIONS = [
    ("partners.migrations.0002_create_instructor_and_staff_groups", "create_roles"),
    ("partners.migrations.0003_track_status", "seed"),
    ("partners.migrations.0004_applications_and_invitations", "seed_agreement"),
    ("courses.migrations.0002_course_catalogue_and_instructor_permissions", "create_catalogue"),
    ("courses.migrations.0004_event_permissions_and_reminder_schedule", "forwards"),
    ("courses.migrations.0005_course_review_workflow", "create_workflow"),
    ("exams.migrations.0004_exam_author_permissions", "forwards"),
    ("exams.migrations.0005_projects", "grant_project_permissions"),
    ("certificates.migrations.0004_certificate_admin_permissions", "forwards"),
]

# Reported by `securitypolicyviolation` listeners installed before any page script.
VIOLATION_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(
    `${event.violatedDirective} refused ${event.blockedURI || "inline"} (${where})`
  );
});
"""


@pytest.fixture
def demo(home_page):
    from wagtail.models import Collection

    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)
    call_command("seed_demo", verbosity=0)
    return get_user_model().objects


def _admin_menu_paths(user):
    """The Wagtail sidebar's links for this person (submenus flattened), our host only."""
    get_resolver().resolve("/admin/")  # viewsets add their menu items when the URLconf loads
    request = RequestFactory().get("/admin/")
    request.user = user
    paths = ["/admin/"]

    def walk(menu):
        for item in menu.menu_items_for_request(request):
            if isinstance(item, SubmenuMenuItem):
                walk(item.menu)
            elif item.url.startswith("/") and item.url not in paths:
                paths.append(item.url)

    walk(admin_menu)
    return paths


def _django_admin_paths():
    changelists = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in django_admin.site._registry
    ]
    return ["/django-admin/", *sorted(changelists)]


class Visitor:
    """One browser context per person; collects every problem instead of stopping at the first."""

    def __init__(self, browser, live_server, user=None):
        self.origin = live_server.url
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            self.context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.origin}]
            )
        self.context.add_init_script(VIOLATION_LISTENER)
        self.page = self.context.new_page()
        self.foreign, self.console, self.in_flight = [], [], set()
        own = urlsplit(self.origin).netloc
        # Requests a page's scripts make after "load" (the API docs fetch the
        # schema, the admin its sidebar data) must be seen too.
        self.page.on("request", lambda r: self.in_flight.add(r))
        self.page.on("requestfinished", lambda r: self.in_flight.discard(r))
        self.page.on("requestfailed", lambda r: self.in_flight.discard(r))
        self.page.on(
            "request",
            lambda r: (
                urlsplit(r.url).scheme in {"http", "https", "ws", "wss"}
                and urlsplit(r.url).netloc != own
                and self.foreign.append(r.url)
            ),
        )
        self.page.on(
            "console",
            lambda m: "Content Security Policy" in m.text and self.console.append(m.text),
        )

    def visit(self, path, *, axe):
        self.foreign.clear()
        self.console.clear()
        response = self.page.goto(self.origin + path, wait_until="load")
        self._settle()
        problems = []
        if response is None or response.status >= 400:
            problems.append(f"answered {response.status if response else 'nothing'}")
        problems += [f"requested another host: {url}" for url in dict.fromkeys(self.foreign)]
        violations = self.page.evaluate("() => window.__cspViolations || []")
        problems += [f"CSP: {text}" for text in dict.fromkeys(self.console + violations)]
        if axe and not problems:
            inject_axe(self.page)
            result = self.page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})"
            )
            bad = [v for v in result["violations"] if v.get("impact") in {"serious", "critical"}]
            if bad:
                problems.append("axe:\n" + _format_violations(bad))
        return problems

    def _settle(self, quiet_checks=2, limit=50):
        # Cheaper than waiting for "networkidle" (500 ms of silence) on every page.
        quiet = 0
        for _ in range(limit):
            self.page.wait_for_timeout(60)
            quiet = quiet + 1 if not self.in_flight else 0
            if quiet >= quiet_checks:
                return

    def close(self):
        self.context.close()


def _report(found):
    return "\n".join(f"{who} {path}: {problem}" for who, path, problem in found)


def _visit_all(browser, live_server, user, role, paths, *, axe):
    visitor = Visitor(browser, live_server, user)
    try:
        return [(role, path, problem) for path in paths for problem in visitor.visit(path, axe=axe)]
    finally:
        visitor.close()


def test_no_page_asks_another_host_or_breaks_the_policy(browser, live_server, demo):
    """One test, so the (slow) demo data is loaded once for every role."""
    from courses.models import LessonPage

    found = []
    for role, email, paths in readme_pages():
        user = demo.get(email=email) if email else None
        found += _visit_all(browser, live_server, user, role, paths, axe=True)
        # Swagger UI is django-ninja's page, not ours: policy and hosts only, no axe.
        if role == "anonymous":
            found += _visit_all(browser, live_server, None, role, ["/api/v1/docs"], axe=False)

    # The admins: each menu page once, seen by the person with the fewest rights who
    # has it in their menu (permissions change what a page renders).
    lesson = LessonPage.objects.live().first()
    seen = set()
    for role, email in [
        ("instructor", "instructor@academy.example"),
        ("staff", "staff@academy.example"),
        ("superuser", "admin@academy.example"),
    ]:
        user = demo.get(email=email)
        paths = _admin_menu_paths(user)
        if user.is_superuser:
            # The page editor is where Wagtail's inline scripts are; then the Django admin.
            paths += [f"/admin/pages/{lesson.pk}/edit/", *_django_admin_paths()]
        paths = [path for path in paths if path not in seen]
        seen.update(paths)
        found += _visit_all(browser, live_server, user, role, paths, axe=False)

    assert not found, _report(found)
