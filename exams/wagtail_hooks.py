"""Wagtail admin for exam authors: an "Exams" menu with banks, topics, questions, exams.

Every write goes through exams.services, so the admin obeys the same rules
as imports and the API: a question saved here is validated by
`check_choices` and, once used in an attempt, changes by a new version
(`question_revise`); publishing goes through `exam_publish`, whose refusal
is shown as a message. The Projects menu is in exams.projects.wagtail_hooks;
the extra screens (import/export, blueprint, item
analysis, drop/credit) are in exams.admin_views. Access follows the model
permissions given to "Instructors" and "Programme staff" (migration 0004).
"""

from django import forms
from django.db.models import Count
from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.log_actions import log

from lms.admin_forms import DomainErrorAsFormErrorMixin, ProtectedDeleteView
from lms.errors import DomainError

from . import admin_views, services
from .models import MAX_CHOICES, MIN_CHOICES, Exam, Question, QuestionBank, Topic
from .services import ChoiceSpec

# --- question banks and topics -------------------------------------------------------


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


# --- questions ---------------------------------------------------------------------


class QuestionForm(WagtailAdminModelForm):
    """Question details plus the current version's text and 2-8 options.

    The form only collects and checks the input; saving is the views' call
    to `question_create` / `question_update`.
    """

    stem = forms.CharField(label="Question", widget=forms.Textarea(attrs={"rows": 3}))
    explanation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Why the right answer is right. Never shown during a certification exam.",
    )

    class Meta:
        model = Question
        fields = ["topic", "title", "kind", "difficulty", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(MAX_CHOICES):
            self.fields[f"choice_{i}_text"] = forms.CharField(
                label=f"Option {i + 1}",
                required=i < MIN_CHOICES,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 1}),
            )
            self.fields[f"choice_{i}_correct"] = forms.BooleanField(
                label=f"Option {i + 1} is right", required=False
            )
        self.fields["topic"].queryset = Topic.objects.select_related("bank").order_by(
            "bank__title", "position", "name"
        )
        self.fields["topic"].label_from_instance = lambda t: f"{t.bank.title} › {t.name}"
        version = self.instance.current_version if self.instance.pk else None
        if version is not None:
            self.initial["stem"] = version.stem
            self.initial["explanation"] = version.explanation
            for i, choice in enumerate(version.choices.order_by("position")):
                self.initial[f"choice_{i}_text"] = choice.text
                self.initial[f"choice_{i}_correct"] = choice.is_correct
            if version.attempt_items.exists():
                self.fields["stem"].help_text = (
                    f"Version {version.number} has been given in attempts: changing the "
                    "text or options saves a new version; those attempts keep theirs."
                )

    def choice_specs(self) -> list[ChoiceSpec]:
        specs = []
        for i in range(MAX_CHOICES):
            text = (self.cleaned_data.get(f"choice_{i}_text") or "").strip()
            if text:
                specs.append(ChoiceSpec(text, bool(self.cleaned_data.get(f"choice_{i}_correct"))))
            elif self.cleaned_data.get(f"choice_{i}_correct"):
                self.add_error(f"choice_{i}_text", "An option marked right needs a text.")
        return specs

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind:
            try:
                services.check_choices(kind=kind, choices=self.choice_specs())
            except DomainError as error:
                self.add_error(None, error.message)
        return cleaned


class QuestionCreateView(DomainErrorAsFormErrorMixin, generic.CreateView):
    def save_instance(self):
        data = self.form.cleaned_data
        question = services.question_create(
            topic=data["topic"],
            kind=data["kind"],
            stem=data["stem"],
            choices=self.form.choice_specs(),
            explanation=data.get("explanation", ""),
            difficulty=data["difficulty"],
            title=data.get("title", ""),
            is_active=data.get("is_active", True),
        )
        log(instance=question, action="wagtail.create", user=self.request.user)
        return question


class QuestionEditView(DomainErrorAsFormErrorMixin, generic.EditView):
    def save_instance(self):
        data = self.form.cleaned_data
        question = services.question_update(
            question=self.object,
            topic=data["topic"],
            kind=data["kind"],
            stem=data["stem"],
            choices=self.form.choice_specs(),
            explanation=data.get("explanation", ""),
            difficulty=data["difficulty"],
            title=data.get("title", ""),
            is_active=data.get("is_active", True),
        )
        log(instance=question, action="wagtail.edit", user=self.request.user)
        return question


class QuestionIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("topic__bank", "current_version")


def _question_text(question: Question) -> str:
    version = question.current_version
    return (version.stem[:90] + ("…" if len(version.stem) > 90 else "")) if version else "—"


class QuestionViewSet(ModelViewSet):
    model = Question
    icon = "help"
    menu_label = "Questions"
    index_view_class = QuestionIndexView
    add_view_class = QuestionCreateView
    edit_view_class = QuestionEditView
    delete_view_class = ProtectedDeleteView
    copy_view_enabled = False
    list_display = [
        Column("text", label="Question", accessor=_question_text),
        "topic",
        "kind",
        "difficulty",
        "is_active",
        Column("version", label="Version", accessor="current_version.number"),
    ]
    list_filter = ["topic__bank", "topic", "kind", "difficulty", "is_active"]
    search_fields = ["title"]
    ordering = ["topic__bank__title", "topic__position", "pk"]

    def get_form_class(self, for_update=False):
        return QuestionForm


# --- exams ---------------------------------------------------------------------------

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
        ]


class ExamsMenu(ViewSetGroup):
    menu_label = "Exams"
    menu_icon = "form"
    menu_order = 260
    items = (
        QuestionBankViewSet("exams_admin_banks", url_prefix="exams/banks"),
        TopicViewSet("exams_admin_topics", url_prefix="exams/topics"),
        QuestionViewSet("exams_admin_questions", url_prefix="exams/questions"),
        ExamViewSet("exams_admin_exams", url_prefix="exams/exams"),
    )


@hooks.register("register_admin_viewset")
def register_exams_menu():
    return ExamsMenu()


# The Projects menu (briefs and rubrics) registers itself on import.
from .projects import wagtail_hooks as projects_wagtail_hooks  # noqa: E402, F401
