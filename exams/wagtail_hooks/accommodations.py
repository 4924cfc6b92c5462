"""Accommodations: grants of extra time and rest breaks, with their history.

Saved through exams.accommodations.services (the same rules and history as
the staff API): the form checks the input with the same pure rule, shows
each problem on its field, and the edit page lists every change with who
made it and when. A grant is never deleted: it is revoked ("Revoke" on the
edit page and in the list), which is kept in its history too.
"""

from django import forms
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.log_actions import log

from lms.admin_forms import DomainErrorAsFormErrorMixin
from lms.errors import DomainError
from lms.models import User

from ..accommodations import rules, selectors, services
from ..models import Accommodation, Exam

ACCOMMODATIONS_NS = "exams_admin_accommodations"


class AccommodationForm(WagtailAdminModelForm):
    """The grant's fields; the person by e-mail when granting."""

    person_email = forms.EmailField(
        label="Person's e-mail",
        help_text="The learner the grant is for.",
    )
    extra_time_percent = forms.IntegerField(
        label="Extra time (%)",
        required=False,
        min_value=rules.MIN_EXTRA_TIME_PERCENT,
        max_value=rules.MAX_EXTRA_TIME_PERCENT,
        widget=forms.NumberInput(attrs={"list": "extra-time-quick", "step": 1}),
        help_text="A whole percentage from 1 to 200 (quick choices: 25, 50, 100); "
        "empty for none. 50 % makes a 60-minute exam 90 minutes.",
    )
    break_minutes = forms.IntegerField(
        label="Longest break (minutes)",
        required=False,
        min_value=1,
    )

    class Meta:
        model = Accommodation
        fields = ["exam", "extra_time_percent", "breaks", "break_minutes", "ends_on", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The limits are settings: read them per form, not at import.
        self.fields["breaks"] = forms.IntegerField(
            label="Rest breaks",
            required=False,
            min_value=0,
            max_value=services.max_breaks(),
            initial=0,
            help_text="Breaks per attempt that stop the clock (0 for none); "
            f"at most {services.max_breaks()}.",
        )
        self.fields[
            "break_minutes"
        ].help_text = (
            f"At most {services.max_break_minutes()} minutes. Needed when breaks are granted."
        )
        self.fields["exam"].queryset = Exam.objects.order_by("title")
        self.fields["exam"].empty_label = "All exams"
        self.fields["exam"].required = False
        self.fields["reason"].widget.attrs["rows"] = 3
        if self.instance.pk:
            self.fields["person_email"].required = False
            self.fields["person_email"].disabled = True
            self.initial["person_email"] = self.instance.person.email
            self.initial["extra_time_percent"] = self.instance.extra_time_percent or None
            self.initial["break_minutes"] = self.instance.break_minutes or None

    def clean_person_email(self):
        if self.instance.pk:
            return self.instance.person.email
        email = self.cleaned_data["person_email"]
        person = User.objects.filter(email__iexact=email).first()
        if person is None:
            raise forms.ValidationError("Nobody has this e-mail address.")
        self.person = person
        return email

    def clean(self):
        cleaned = super().clean()
        if self.errors:  # a field is not even a number or a date: say that first
            return cleaned
        for problem in services.grant_problems(
            extra_time_percent=cleaned.get("extra_time_percent"),
            breaks=cleaned.get("breaks") or 0,
            break_minutes=cleaned.get("break_minutes"),
            ends_on=cleaned.get("ends_on"),
            reason=cleaned.get("reason") or "",
            today=timezone.localdate(),
        ):
            self.add_error(problem.field if problem.field in self.fields else None, problem.message)
        return cleaned

    def grant_values(self) -> dict:
        data = self.cleaned_data
        return {
            "exam": data.get("exam"),
            "extra_time_percent": data.get("extra_time_percent"),
            "breaks": data.get("breaks") or 0,
            "break_minutes": data.get("break_minutes"),
            "ends_on": data.get("ends_on"),
            "reason": data.get("reason") or "",
        }


# The service's refusals (the form checks the same rules first) on their fields.
ERROR_FIELDS = {
    "invalid_extra_time": "extra_time_percent",
    "nothing_granted": "extra_time_percent",
    "too_many_breaks": "breaks",
    "invalid_break_length": "break_minutes",
    "break_too_long": "break_minutes",
    "end_date_in_past": "ends_on",
    "reason_required": "reason",
    "reason_too_long": "reason",
}


class AccommodationCreateView(DomainErrorAsFormErrorMixin, generic.CreateView):
    error_fields = ERROR_FIELDS

    def save_instance(self):
        grant = services.accommodation_grant(
            by=self.request.user, person=self.form.person, **self.form.grant_values()
        )
        log(instance=grant, action="wagtail.create", user=self.request.user)
        return grant


class AccommodationEditView(DomainErrorAsFormErrorMixin, generic.EditView):
    error_fields = ERROR_FIELDS

    @property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if self.object.revoked_at is None:
            buttons.append(
                Button(
                    "Revoke",
                    reverse(f"{ACCOMMODATIONS_NS}:revoke", args=[self.object.pk]),
                    icon_name="cross",
                    priority=5,
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["history"] = selectors.accommodation_history(accommodation=self.object)
        return context

    def save_instance(self):
        grant = services.accommodation_change(
            by=self.request.user, accommodation=self.object, **self.form.grant_values()
        )
        log(instance=grant, action="wagtail.edit", user=self.request.user)
        return grant


@method_decorator(never_cache, name="dispatch")
class AccommodationRevokeView(WagtailAdminTemplateMixin, View):
    """Confirm (GET), then revoke (POST): attempts started later get nothing from it."""

    template_name = "exams/admin/accommodation_revoke.html"
    page_title = "Revoke accommodation"
    header_icon = "time"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("exams.change_accommodation"):
            return permission_denied(request)
        self.object = get_object_or_404(
            Accommodation.objects.select_related("person", "exam"), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get(self, request, pk):
        return TemplateResponse(
            request, self.template_name, self.get_context_data(object=self.object)
        )

    def post(self, request, pk):
        try:
            services.accommodation_revoke(by=request.user, accommodation=self.object)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            log(instance=self.object, action="wagtail.edit", user=request.user)
            messages.success(request, f"Accommodation revoked: {self.object}.")
        return redirect(f"{ACCOMMODATIONS_NS}:edit", self.object.pk)


class AccommodationIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("person", "exam")

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.revoked_at is None:
            buttons.append(
                MenuItem(
                    "Revoke",
                    reverse(f"{ACCOMMODATIONS_NS}:revoke", args=[instance.pk]),
                    icon_name="cross",
                    priority=20,
                )
            )
        return buttons


def _scope(grant: Accommodation) -> str:
    return grant.exam.title if grant.exam is not None else "All exams"


def _state(grant: Accommodation) -> str:
    if grant.revoked_at is not None:
        return "Revoked"
    return "In force" if grant.ends_on >= timezone.localdate() else "Ended"


class AccommodationViewSet(ModelViewSet):
    model = Accommodation
    icon = "time"
    menu_label = "Accommodations"
    index_view_class = AccommodationIndexView
    add_view_class = AccommodationCreateView
    edit_view_class = AccommodationEditView
    delete_view_enabled = False
    copy_view_enabled = False
    create_template_name = "exams/admin/accommodation_form.html"
    edit_template_name = "exams/admin/accommodation_edit.html"
    list_display = [
        Column("person", label="Person", accessor="person.email"),
        Column("scope", label="Exam", accessor=_scope),
        "extra_time_percent",
        "breaks",
        "break_minutes",
        "ends_on",
        Column("state", label="State", accessor=_state),
    ]
    list_filter = ["exam"]
    search_fields = ["person__email", "reason"]
    ordering = ["-created_at"]

    def get_form_class(self, for_update=False):
        return AccommodationForm

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("revoke/<int:pk>/", AccommodationRevokeView.as_view(), name="revoke"),
        ]
