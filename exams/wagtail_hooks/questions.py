"""Questions: one form for the stem and its options, saved through
exams.services (validated by `check_choices`; a question used in an attempt
changes by a new version)."""

from django import forms
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log

from lms.admin_forms import DomainErrorAsFormErrorMixin, ProtectedDeleteView
from lms.errors import DomainError

from .. import services
from ..models import MAX_CHOICES, MIN_CHOICES, Question, Topic
from ..services import ChoiceSpec


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
