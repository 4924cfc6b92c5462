"""Question banks and topics: lists with counts, import (GIFT/CSV) and export."""

from django.db.models import Count
from django.urls import path, reverse
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from lms.admin_forms import ProtectedDeleteView

from .. import admin_views
from ..models import QuestionBank, Topic


class BankIndexView(generic.IndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .annotate(
                topic_count=Count("topics", distinct=True),
                question_count=Count("topics__questions", distinct=True),
            )
        )

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        ns = admin_views.BANKS_NS
        user = self.request.user
        if user.has_perm("exams.add_question"):
            buttons.append(
                MenuItem(
                    "Import GIFT/CSV/Moodle XML",
                    reverse(f"{ns}:import", args=[instance.pk]),
                    icon_name="upload",
                    priority=40,
                )
            )
        for fmt, label in (("gift", "GIFT"), ("csv", "CSV"), ("moodlexml", "Moodle XML")):
            buttons.append(
                MenuItem(
                    f"Export {label}",
                    reverse(f"{ns}:export", args=[instance.pk, fmt]),
                    icon_name="download",
                    priority=50,
                )
            )
        return buttons


class QuestionBankViewSet(ModelViewSet):
    model = QuestionBank
    icon = "folder-open-inverse"
    menu_label = "Question banks"
    index_view_class = BankIndexView
    delete_view_class = ProtectedDeleteView
    copy_view_enabled = False
    form_fields = ["title", "slug", "description"]
    list_display = [
        "title",
        "slug",
        Column("topic_count", label="Topics"),
        Column("question_count", label="Questions"),
    ]
    search_fields = ["title", "slug"]
    ordering = ["title"]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/<int:pk>/", admin_views.BankImportView.as_view(), name="import"),
            path(
                "export/<int:pk>/<slug:fmt>/",
                admin_views.BankExportView.as_view(),
                name="export",
            ),
        ]


class TopicIndexView(generic.IndexView):
    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .select_related("bank")
            .annotate(question_count=Count("questions"))
        )


class TopicViewSet(ModelViewSet):
    model = Topic
    icon = "tag"
    menu_label = "Topics"
    index_view_class = TopicIndexView
    delete_view_class = ProtectedDeleteView
    copy_view_enabled = False
    form_fields = ["bank", "name", "objective", "position"]
    list_display = ["name", "bank", "position", Column("question_count", label="Questions")]
    list_filter = ["bank"]
    search_fields = ["name"]
    ordering = ["bank__title", "position", "name"]
