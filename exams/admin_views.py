"""Wagtail admin screens for exam authors beyond plain create/edit.

Question bank import (GIFT/CSV) and export, an exam's blueprint, publishing,
item analysis (with CSV download), dropping/crediting a question with a
dry run first, and (programme staff) an exam's attempts with the replay of
each one's draw. Each view checks the model permission it needs (the
"Instructors" and "Programme staff" groups hold them, exams migration 0004),
calls selectors and services only, and shows a service's refusal as a
message or form error, never a 500.
"""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.forms import formset_factory
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from lms import permissions
from lms.errors import DomainError, NotFound

from . import selectors, services
from .models import Exam, QuestionBank, QuestionVersion, RegradeAction, Topic

BANKS_NS = "exams_admin_banks"
EXAMS_NS = "exams_admin_exams"


@method_decorator(never_cache, name="dispatch")
class AuthorView(WagtailAdminTemplateMixin, View):
    """Base: permission check, admin page furniture, a template of our own."""

    permission_required = "exams.change_exam"
    header_icon = "form"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(self.permission_required):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def render(self, **context):
        return TemplateResponse(self.request, self.template_name, self.get_context_data(**context))


# --- question banks: import and export ---------------------------------------------


class ImportForm(forms.Form):
    FORMAT_CHOICES = [
        ("auto", "From the file name (.gift/.txt, .csv or .xml)"),
        ("gift", "GIFT"),
        ("csv", "CSV"),
        ("moodlexml", "Moodle XML"),
    ]
    file = forms.FileField(
        help_text=(
            "A GIFT, CSV or Moodle XML file, UTF-8, "
            f"at most {services.MAX_IMPORT_BYTES // 1024} KiB."
        ),
    )
    format = forms.ChoiceField(choices=FORMAT_CHOICES, initial="auto")
    topic = forms.CharField(
        required=False,
        max_length=200,
        help_text="GIFT: the topic for questions before any $CATEGORY line (new or existing).",
    )

    def chosen_format(self) -> str:
        chosen = self.cleaned_data["format"]
        if chosen != "auto":
            return chosen
        name = self.cleaned_data["file"].name.lower()
        if name.endswith(".csv"):
            return "csv"
        return "moodlexml" if name.endswith(".xml") else "gift"


class BankImportView(AuthorView):
    permission_required = "exams.add_question"
    template_name = "exams/admin/bank_import.html"
    page_title = "Import questions"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.bank = get_object_or_404(QuestionBank, pk=kwargs["pk"])
        self.page_subtitle = self.bank.title

    def get(self, request, pk):
        return self.render(form=ImportForm(), bank=self.bank, report=None)

    def post(self, request, pk):
        form = ImportForm(request.POST, request.FILES)
        report = None
        if form.is_valid():
            fmt = form.chosen_format()
            try:
                text = services.import_text_from_upload(form.cleaned_data["file"])
            except DomainError as error:
                form.add_error("file", error.message)
            else:
                report = services.bank_import_file(
                    bank=self.bank, fmt=fmt, text=text, default_topic=form.cleaned_data["topic"]
                )
                if report.ok:
                    messages.success(request, f"{self.bank.title}: {report.summary}")
                    return redirect(f"{BANKS_NS}:index")
                messages.error(request, report.summary)
        status = 200 if form.is_valid() and report is None else 422
        response = self.render(form=form, bank=self.bank, report=report)
        response.status_code = status
        return response


class BankExportView(AuthorView):
    permission_required = "exams.view_question"

    def get(self, request, pk, fmt):
        bank = get_object_or_404(QuestionBank, pk=pk)
        try:
            text, content_type, filename = selectors.bank_export(bank=bank, format=fmt)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(f"{BANKS_NS}:index")
        response = HttpResponse(text, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


# --- exams: blueprint and publishing -----------------------------------------------


class BlueprintRowForm(forms.Form):
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.select_related("bank").order_by("bank__title", "position", "name"),
        required=False,
    )
    count = forms.IntegerField(min_value=1, max_value=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].label_from_instance = lambda t: f"{t.bank.title} › {t.name}"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("topic") and not cleaned.get("count"):
            self.add_error("count", "How many questions to draw from this topic?")
        if cleaned.get("count") and not cleaned.get("topic"):
            self.add_error("topic", "Choose the topic to draw from.")
        return cleaned


class BaseBlueprintFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            topic = form.cleaned_data.get("topic")
            if topic is None:
                continue
            if topic.pk in seen:
                raise forms.ValidationError(f"“{topic.name}” is listed twice.")
            seen.add(topic.pk)


BlueprintFormSet = formset_factory(
    BlueprintRowForm, formset=BaseBlueprintFormSet, extra=3, max_num=50, validate_max=True
)


class ExamBlueprintView(AuthorView):
    template_name = "exams/admin/exam_blueprint.html"
    page_title = "Blueprint"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.exam = get_object_or_404(Exam, pk=kwargs["pk"])
        self.page_subtitle = self.exam.title

    def _context(self, formset):
        return {
            "exam": self.exam,
            "formset": formset,
            "shortfalls": selectors.topic_pool_shortfalls(exam=self.exam),
        }

    def get(self, request, pk):
        initial = [
            {"topic": rule.topic, "count": rule.count}
            for rule in self.exam.blueprint.select_related("topic")
        ]
        return self.render(**self._context(BlueprintFormSet(initial=initial)))

    def post(self, request, pk):
        formset = BlueprintFormSet(request.POST)
        if formset.is_valid():
            counts = [
                (form.cleaned_data["topic"], form.cleaned_data["count"])
                for form in formset.forms
                if form.cleaned_data.get("topic")
            ]
            try:
                services.blueprint_set(exam=self.exam, counts=counts)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Blueprint of “{self.exam.title}” saved.")
                return redirect(f"{EXAMS_NS}:blueprint", pk=self.exam.pk)
        response = self.render(**self._context(formset))
        response.status_code = 422
        return response


class ExamPublishView(AuthorView):
    """POST only: publish (through `exam_publish`, refusals shown) or unpublish."""

    def post(self, request, pk, action):
        exam = get_object_or_404(Exam, pk=pk)
        try:
            if action == "publish":
                services.exam_publish(exam=exam)
                messages.success(request, f"“{exam.title}” is published.")
            else:
                services.exam_unpublish(exam=exam)
                messages.success(request, f"“{exam.title}” is no longer offered to learners.")
        except DomainError as error:
            messages.error(request, f"“{exam.title}” was not published. {error.message}")
        return redirect(f"{EXAMS_NS}:edit", pk=exam.pk)

    def get(self, request, pk, action):
        return redirect(f"{EXAMS_NS}:edit", pk=pk)


# --- item analysis and regrading ------------------------------------------------------


class ItemAnalysisView(AuthorView):
    permission_required = "exams.view_exam"
    template_name = "exams/admin/item_analysis.html"
    page_title = "Item analysis"

    def get(self, request, pk):
        exam = get_object_or_404(Exam, pk=pk)
        report = selectors.exam_item_analysis(exam=exam)
        if request.GET.get("format") == "csv":
            response = HttpResponse(
                selectors.item_analysis_csv(report), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{exam.slug}-item-analysis.csv"'
            )
            return response
        self.page_subtitle = exam.title
        return self.render(
            exam=exam,
            report=report,
            events=selectors.regrade_events_for(exam=exam),
            can_regrade=request.user.has_perm("exams.change_exam"),
        )


class RegradeForm(forms.Form):
    action = forms.ChoiceField(choices=RegradeAction.choices)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


class RegradeView(AuthorView):
    """GET: the dry run (whose pass/fail would change). POST: apply and keep history."""

    template_name = "exams/admin/regrade.html"
    page_title = "Drop or credit a question"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.exam = get_object_or_404(Exam, pk=kwargs["pk"])
        self.version = get_object_or_404(
            QuestionVersion.objects.select_related("question"), pk=kwargs["version_pk"]
        )
        self.page_subtitle = self.exam.title

    def _analysis_url(self):
        return reverse(f"{EXAMS_NS}:item_analysis", args=[self.exam.pk])

    def get(self, request, pk, version_pk):
        form = RegradeForm(request.GET or {"action": RegradeAction.DROP})
        plan = None
        if form.is_valid():
            try:
                plan = services.exam_question_regrade_preview(
                    exam=self.exam,
                    question_version=self.version,
                    action=form.cleaned_data["action"],
                )
            except DomainError as error:
                messages.error(request, error.message)
                return redirect(self._analysis_url())
        return self.render(
            exam=self.exam,
            version=self.version,
            form=form,
            plan=plan,
            analysis_url=self._analysis_url(),
        )

    def post(self, request, pk, version_pk):
        form = RegradeForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose what to do with the question.")
            return redirect(self._analysis_url())
        try:
            event = services.exam_question_regrade(
                exam=self.exam,
                question_version=self.version,
                action=form.cleaned_data["action"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(self._analysis_url())
        flipped = sum(1 for c in event.changes if c["before"]["passed"] != c["after"]["passed"])
        messages.success(
            request,
            f"{event.get_action_display()}: {len(event.changes)} attempt(s) regraded, "
            f"{flipped} pass/fail result(s) changed.",
        )
        return redirect(self._analysis_url())


# --- attempts: replaying the draw (programme staff) ----------------------------------


class StaffView(AuthorView):
    """Programme staff only (the `attempt.replay` rule): attempts name learners."""

    permission_required = "exams.view_attempt"

    def dispatch(self, request, *args, **kwargs):
        if not permissions.can(request.user, "attempt.replay"):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)


ATTEMPTS_PER_PAGE = 50


class ExamAttemptsView(StaffView):
    template_name = "exams/admin/exam_attempts.html"
    page_title = "Attempts"

    def get(self, request, pk):
        exam = get_object_or_404(Exam, pk=pk)
        self.page_subtitle = exam.title
        page = Paginator(selectors.exam_attempts(exam=exam), ATTEMPTS_PER_PAGE).get_page(
            request.GET.get("p")
        )
        return self.render(exam=exam, page=page)


class AttemptReplayView(StaffView):
    template_name = "exams/admin/attempt_replay.html"
    page_title = "Replay draw"

    def get(self, request, attempt_pk):
        try:
            replay = selectors.attempt_replay(attempt_id=attempt_pk)
        except NotFound as error:
            raise Http404(error.message) from error
        self.page_subtitle = f"{replay.attempt.exam.title}, attempt {replay.attempt.pk}"
        return self.render(replay=replay, attempt=replay.attempt, exam=replay.attempt.exam)
