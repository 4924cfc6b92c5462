"""Our pages run no inline script, and their Content-Security-Policy would refuse it.

Every page the README lists is rendered for each demo role; its HTML may hold
no executable <script> without src, no on*= handler attribute and no
javascript: URL, and its script-src has no 'unsafe-inline'. The admins get
their looser policy by path and nothing else does.
"""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory

from lms.csp import PathPolicyMiddleware, path_update
from tests.lms.factories import UserFactory
from tests.site_pages import readme_pages

pytestmark = pytest.mark.django_db

# <script type=...> that browsers never execute: data for our static scripts.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InlineScriptFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            if (attributes.get("type") or "").lower() not in DATA_SCRIPT_TYPES:
                self.found.append(f"<script> without src at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")
            if (
                name in {"href", "src", "action", "formaction"}
                and (value or "").strip().lower()[:11] == "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:...> at line {self.getpos()[0]}")


def inline_scripts(html: str) -> list[str]:
    finder = InlineScriptFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def directive(response, name: str) -> list[str]:
    for part in response["Content-Security-Policy"].split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


def test_the_finder_sees_inline_script_handlers_and_javascript_urls():
    # The checks below only mean something if this one can fail.
    html = (
        '<script>alert(1)</script><script type="module">x()</script>'
        '<button onclick="go()">Go</button><a href=" JavaScript:go()">go</a>'
        '<script src="/static/js/academy.js"></script>'
        '<script type="application/json" id="config">{"a": 1}</script>'
    )
    assert len(inline_scripts(html)) == 4


def test_every_readme_page_for_every_role_runs_no_inline_script(client):
    call_command("seed_demo", verbosity=0)
    people = get_user_model().objects
    checked, problems = 0, []
    for role, email, paths in readme_pages():
        client.logout()
        if email:
            client.force_login(people.get(email=email))
        for path in paths:
            response = client.get(path)
            where = f"{role} {path}"
            if response.status_code != 200:
                problems.append(f"{where}: answered {response.status_code}")
                continue
            problems += [f"{where}: {found}" for found in inline_scripts(response.content.decode())]
            script_src = directive(response, "script-src")
            if script_src != ["'self'"]:
                problems.append(f"{where}: script-src is {script_src}")
            if "'unsafe-inline'" in directive(response, "style-src"):
                problems.append(f"{where}: style-src allows inline styles")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 30  # the list above was not emptied by mistake


def test_error_pages_run_no_inline_script(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert inline_scripts(response.content.decode()) == []
    assert "'unsafe-inline'" not in directive(response, "script-src")


def test_api_docs_load_swagger_ui_from_our_static_files_without_the_validator_badge(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_scripts(html) == []
    # The badge would be an image from validator.swagger.io carrying our schema's URL.
    assert '"validatorUrl": null' in html
    assert directive(response, "script-src") == ["'self'"]


def test_wagtail_admin_alone_may_run_inline_script(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    wagtail = client.get("/admin/")
    assert wagtail.status_code == 200
    assert "'unsafe-inline'" in directive(wagtail, "script-src")
    django_admin = client.get("/django-admin/")
    assert django_admin.status_code == 200
    assert directive(django_admin, "script-src") == ["'self'"]
    assert "'unsafe-inline'" not in directive(django_admin, "style-src")
    # A path that merely starts with the same letters is one of ours.
    assert path_update("/administration/") is None


def test_wagtail_admin_shows_no_avatar_from_another_site(client):
    staff = UserFactory(is_staff=True, is_superuser=True, email="priya@academy.example")
    client.force_login(staff)
    html = client.get("/admin/").content.decode()
    assert "gravatar" not in html
    # Nor the release check a superuser's dashboard would fetch from wagtail.org.
    assert 'data-controller="w-upgrade' not in html


def test_a_views_own_csp_update_still_applies_on_top_of_the_path_policy(settings):
    settings.CSP_PATH_UPDATES = {"/admin/": {"script-src": ["'unsafe-inline'"]}}
    response = HttpResponse()
    response._csp_update = {"img-src": "https://tiles.example"}
    middleware = PathPolicyMiddleware(lambda request: response)
    request = RequestFactory().get("/admin/pages/")
    middleware.process_request(request)
    header = middleware.process_response(request, response)["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example" in header
    assert "script-src 'self' 'unsafe-inline'" in header
