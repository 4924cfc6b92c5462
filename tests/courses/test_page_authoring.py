"""Wagtail's own checks: the course pages can be edited and previewed (drafts too)."""

from wagtail.test.utils import WagtailPageTestCase
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from courses.models import CourseIndexPage

from .factories import CoursePageFactory, LessonPageFactory


class CoursePagesAuthoringTests(WagtailPageTestCase):
    @classmethod
    def setUpTestData(cls):
        cls.catalogue = CourseIndexPage.objects.get()
        cls.course = CoursePageFactory(live=False, title="Draft course")
        cls.lesson = LessonPageFactory(parent=cls.course, live=False, title="Draft lesson")

    def lesson_form_data(self):
        return nested_form_data(
            {
                "title": "Draft lesson",
                "slug": self.lesson.slug,
                "summary": "",
                "estimated_minutes": 10,
                "body": streamfield(
                    [
                        ("paragraph", rich_text("<p>Draft text.</p>")),
                        ("heading", {"text": "A heading", "level": "h2"}),
                    ]
                ),
            }
        )

    def test_pages_are_editable(self):
        self.assertPageIsEditable(self.catalogue)
        self.assertPageIsEditable(self.course)
        self.assertPageIsEditable(self.lesson, post_data=self.lesson_form_data())

    def test_drafts_are_previewable(self):
        self.assertPageIsPreviewable(self.catalogue)
        self.assertPageIsPreviewable(self.course)
        self.assertPageIsPreviewable(self.lesson, post_data=self.lesson_form_data())

    def test_parent_and_child_rules(self):
        from cms.models import HomePage
        from courses.models import CoursePage, LessonPage

        self.assertAllowedParentPageTypes(CourseIndexPage, {HomePage})
        self.assertAllowedSubpageTypes(CourseIndexPage, {CoursePage})
        self.assertAllowedSubpageTypes(CoursePage, {LessonPage})
        self.assertAllowedSubpageTypes(LessonPage, set())
