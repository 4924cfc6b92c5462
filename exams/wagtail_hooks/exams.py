"""Exams: settings, and the screens of exams.admin_views reached from an exam
(blueprint, publish, item analysis and drop/credit of a question; for
programme staff, its attempts and the replay of each one's draw)."""

from django.urls import path, reverse
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button

from lms import permissions
from lms.admin_forms import ProtectedDeleteView

from .. import admin_views
from ..models import Exam

EXAM_FIELDS = [
    "title",
    "slug",
    "description",
    "time_limit_minutes",
    "pass_mark_percent",
    "shuffle_questions",
    "shuffle_choices",
    "retake_first_wait_hours",
    "retake_later_wait_days",
    "max_attempts_in_window",
    "attempt_window_days",
    "grace_seconds",
]


class ExamEditView(generic.EditView):
    @property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        ns = admin_views.EXAMS_NS
        buttons += [
            Button(
                "Blueprint",
                reverse(f"{ns}:blueprint", args=[self.object.pk]),
                icon_name="list-ul",
                priority=5,
            ),
            Button(
                "Item analysis",
                reverse(f"{ns}:item_analysis", args=[self.object.pk]),
                icon_name="table",
                priority=6,
            ),
        ]
        if permissions.can(self.request.user, "attempt.replay"):
            buttons.append(
                Button(
                    "Attempts",
                    reverse(f"{ns}:attempts", args=[self.object.pk]),
                    icon_name="user",
                    priority=7,
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["publish_action"] = "unpublish" if self.object.is_published else "publish"
        return context


class ExamIndexView(generic.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        ns = admin_views.EXAMS_NS
        buttons += [
            MenuItem(
                "Blueprint",
                reverse(f"{ns}:blueprint", args=[instance.pk]),
                icon_name="list-ul",
                priority=11,
            ),
            MenuItem(
                "Item analysis",
                reverse(f"{ns}:item_analysis", args=[instance.pk]),
                icon_name="table",
                priority=12,
            ),
        ]
        if permissions.can(self.request.user, "attempt.replay"):
            buttons.append(
                MenuItem(
                    "Attempts",
                    reverse(f"{ns}:attempts", args=[instance.pk]),
                    icon_name="user",
                    priority=13,
                )
            )
        return buttons


class ExamViewSet(ModelViewSet):
    model = Exam
    icon = "form"
    menu_label = "Exams"
    index_view_class = ExamIndexView
    edit_view_class = ExamEditView
    delete_view_class = ProtectedDeleteView
    copy_view_enabled = False
    form_fields = EXAM_FIELDS
    edit_template_name = "exams/admin/exam_edit.html"
    list_display = [
        "title",
        "slug",
        "is_published",
        "time_limit_minutes",
        "pass_mark_percent",
    ]
    list_filter = ["is_published"]
    search_fields = ["title", "slug"]
    ordering = ["title"]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("blueprint/<int:pk>/", admin_views.ExamBlueprintView.as_view(), name="blueprint"),
            path(
                "publish/<int:pk>/<slug:action>/",
                admin_views.ExamPublishView.as_view(),
                name="publish",
            ),
            path(
                "item-analysis/<int:pk>/",
                admin_views.ItemAnalysisView.as_view(),
                name="item_analysis",
            ),
            path(
                "regrade/<int:pk>/<int:version_pk>/",
                admin_views.RegradeView.as_view(),
                name="regrade",
            ),
            path("attempts/<int:pk>/", admin_views.ExamAttemptsView.as_view(), name="attempts"),
            path(
                "attempts/replay/<int:attempt_pk>/",
                admin_views.AttemptReplayView.as_view(),
                name="attempt_replay",
            ),
        ]
