"""Wagtail admin for project briefs: a "Projects" menu with briefs and their rubric.

A brief is edited with its criteria inline; each criterion's levels are edited
on the criterion (Wagtail does not nest inline panels reliably). Submissions
are graded on the instructors' pages (exams.projects.views), not here.
exams.wagtail_hooks (the package's __init__) imports this module, which registers the menu.
"""

from django import forms
from django.db.models import Count
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from lms.admin_forms import ProtectedDeleteView

from ..models import ProjectBrief, RubricCriterion
from . import uploads


class ProjectBriefForm(WagtailAdminModelForm):
    allowed_file_types = forms.CharField(
        max_length=500,
        help_text="File extensions learners may upload, separated by commas "
        "(e.g. pdf, zip, md). Their content is checked too.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and isinstance(self.instance.allowed_file_types, list):
            self.initial["allowed_file_types"] = ", ".join(self.instance.allowed_file_types)

    def clean_allowed_file_types(self):
        raw = self.cleaned_data["allowed_file_types"]
        extensions = []
        for part in raw.replace(";", ",").split(","):
            ext = part.strip().lower().lstrip(".")
            if ext and ext not in extensions:
                extensions.append(ext)
        unknown = [ext for ext in extensions if ext not in uploads.KNOWN_EXTENSIONS]
        if unknown:
            raise forms.ValidationError(
                "Unknown file types: %(unknown)s. Known: pdf, zip, png, jpg, and text or "
                "code files (txt, md, py, …).",
                params={"unknown": ", ".join(unknown)},
            )
        if not extensions:
            raise forms.ValidationError("Allow at least one file type.")
        return extensions


class ProjectBriefIndexView(generic.IndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .annotate(
                criterion_count=Count("criteria", distinct=True),
                submission_count=Count("submissions", distinct=True),
            )
        )


class ProjectBriefViewSet(ModelViewSet):
    model = ProjectBrief
    icon = "doc-full"
    menu_label = "Project briefs"
    index_view_class = ProjectBriefIndexView
    delete_view_class = ProtectedDeleteView
    copy_view_enabled = False
    list_display = [
        "title",
        "slug",
        "is_published",
        "pass_threshold",
        "blind_grading",
        Column("criterion_count", label="Criteria"),
        Column("submission_count", label="Submissions"),
    ]
    list_filter = ["is_published", "blind_grading"]
    search_fields = ["title", "slug"]
    ordering = ["title"]
    edit_handler = ObjectList(
        [
            FieldPanel("title"),
            FieldPanel("slug"),
            FieldPanel("summary"),
            FieldPanel("instructions"),
            FieldPanel("pass_threshold"),
            FieldPanel("second_grader_margin"),
            FieldPanel("blind_grading"),
            FieldPanel("allowed_file_types"),
            FieldPanel("max_upload_bytes"),
            FieldPanel("is_published"),
            InlinePanel(
                "criteria",
                heading="Rubric criteria",
                label="Criterion",
                panels=[FieldPanel("title"), FieldPanel("description"), FieldPanel("position")],
            ),
        ],
        base_form_class=ProjectBriefForm,
    )


class RubricCriterionViewSet(ModelViewSet):
    model = RubricCriterion
    icon = "list-ol"
    menu_label = "Rubric levels"
    delete_view_class = ProtectedDeleteView
    copy_view_enabled = False
    list_display = ["title", "brief", "position"]
    list_filter = ["brief"]
    search_fields = ["title"]
    ordering = ["brief__title", "position"]
    edit_handler = ObjectList(
        [
            FieldPanel("brief"),
            FieldPanel("title"),
            FieldPanel("description"),
            FieldPanel("position"),
            InlinePanel(
                "levels",
                heading="Levels",
                label="Level",
                min_num=1,
                panels=[
                    FieldPanel("title"),
                    FieldPanel("description"),
                    FieldPanel("points"),
                    FieldPanel("position"),
                ],
            ),
        ]
    )


class ProjectsMenu(ViewSetGroup):
    menu_label = "Projects"
    menu_icon = "doc-full"
    menu_order = 261
    items = (
        ProjectBriefViewSet("exams_admin_projects", url_prefix="exams/projects"),
        RubricCriterionViewSet("exams_admin_criteria", url_prefix="exams/rubric-criteria"),
    )


@hooks.register("register_admin_viewset")
def register_projects_menu():
    return ProjectsMenu()
