"""The home page: created by the data migration, rendered at "/", one per site."""

import re

import pytest
from wagtail.models import Page, Site
from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from cms.models import HomePage, StandardPage
from tests.lms.factories import MODEL_BACKEND, UserFactory

TRACKS = ["Apps", "Embedded payments", "Services", "Technology"]


class HomePageTests(WagtailPageTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.home = HomePage.objects.get()
        cls.root = Page.get_first_root_node()

    def test_migration_made_it_the_default_sites_root(self):
        site = Site.objects.get(is_default_site=True)
        assert site.root_page.specific == self.home
        assert self.home.get_parent() == self.root
        assert not Page.objects.filter(depth=2, title__startswith="Welcome").exists()

    def test_home_renders_at_root_with_the_four_tracks(self):
        response = self.client.get("/")
        assert response.status_code == 200
        self.assertTemplateUsed(response, "cms/home_page.html")
        html = response.content.decode()
        for track in TRACKS:
            assert f"<h3>{track}</h3>" in html
        assert "How certification works" in html
        assert "Pass the track&#x27;s technical verification." in html
        assert "two certified individuals" in html

    def test_benefits_table_is_an_accessible_table(self):
        html = self.client.get("/").content.decode()
        table = re.search(r"<table.*?</table>", html, re.S).group(0)
        assert "<caption" in table and "Programme benefits by partner status" in table
        for column in [
            "Partner",
            "Verified apps",
            "Verified embedded payments",
            "Verified services",
            "Verified technology",
        ]:
            assert f'<th scope="col">{column}</th>' in table
        assert table.count('scope="rowgroup"') == 4  # build, market, sell, engage
        assert '<th scope="row">Technical training and certification</th>' in table
        assert "Included" in table and "Not included" in table

    def test_call_to_action_follows_sign_in_state(self):
        html = self.client.get("/").content.decode()
        assert 'href="/accounts/signup/"' in html
        self.client.force_login(UserFactory())
        html = self.client.get("/").content.decode()
        assert "Go to your profile" in html
        assert 'href="/accounts/signup/"' not in html

    def test_no_inline_scripts_or_styles(self):
        html = self.client.get("/").content.decode()
        assert "<style" not in html
        assert "style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)

    def test_page_is_routable_and_renderable(self):
        self.assertPageIsRoutable(self.home)
        self.assertPageIsRenderable(self.home)

    def test_edit_view_loads_for_editors(self):
        # assertPageIsEditable scrapes the form from HTML, but StreamField's form is
        # built by JavaScript in Wagtail 8: check the edit view renders instead.
        self.client.force_login(self.create_superuser("editor"), MODEL_BACKEND)
        response = self.client.get(f"/admin/pages/{self.home.pk}/edit/")
        assert response.status_code == 200
        assert "Benefits overview" in response.content.decode()

    def test_only_one_home_page_directly_under_the_root(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})
        assert not HomePage.can_create_at(self.root)  # max_count = 1, and it exists
        self.assertCanNotCreateAt(StandardPage, HomePage)

    def test_standard_pages_can_be_added_under_home(self):
        self.assertCanCreateAt(HomePage, StandardPage)
        self.client.force_login(self.create_superuser("editor"), MODEL_BACKEND)
        self.assertCanCreate(
            self.home,
            StandardPage,
            nested_form_data(
                {
                    "title": "Programme rules",
                    "slug": "programme-rules",
                    "intro": "How the programme works.",
                    "body": streamfield(
                        [
                            (
                                "paragraph",
                                rich_text("<p>Verified partners keep two certified people.</p>"),
                            )
                        ]
                    ),
                }
            ),
        )
        page = StandardPage.objects.get(slug="programme-rules")
        response = self.client.get(page.url)
        assert response.status_code == 200
        assert "Verified partners keep two certified people." in response.content.decode()


@pytest.mark.django_db
def test_home_page_query_count_does_not_grow_with_users(client, django_assert_max_num_queries):
    UserFactory.create_batch(3)
    with django_assert_max_num_queries(12):
        assert client.get("/").status_code == 200
    UserFactory.create_batch(30)
    with django_assert_max_num_queries(12):
        assert client.get("/").status_code == 200
