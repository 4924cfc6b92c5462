"""Wagtail admin screens for partner agreement versions ("Agreement versions",
in the Applications menu of partners.applications.wagtail_hooks).

The versions with where each stands and how many partners accepted it, and a
screen to publish a new one (partners.agreements.services). A version
somebody accepted is kept as the record of what they agreed to: its edit and
delete screens refuse with a message.

Access: programme staff and superusers (partners.membership.policies.StaffPolicy,
registered at the end of this module).
"""

from django import forms
from django.db import transaction
from django.db.models import Count
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, StatusTagColumn, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permissions import register_permission_policy

from lms.admin_forms import DomainErrorAsFormErrorMixin
from lms.errors import DomainError
from lms.timezones import format_moment

from ..membership.policies import StaffPolicy
from ..models import PartnerAgreement
from . import services as agreements

AGREEMENT_ICON = "doc-full"


def when_label(moment) -> str:
    """A moment as the admin screens show it, in the reader's zone with its name."""
    return format_moment(moment) if moment else "—"


# --- agreement versions ---------------------------------------------------------


class AgreementForm(WagtailAdminModelForm):
    url = forms.URLField(
        label="Link to the full text",
        required=False,
        max_length=200,
        assume_scheme="https",
    )

    class Meta:
        model = PartnerAgreement
        fields = ["version", "title", "effective_from", "text", "url"]
        labels = {"effective_from": "In force from", "text": "Text"}
        help_texts = {
            "version": "A label applicants see, for example 2.0.",
            "effective_from": (
                "From this moment applicants are asked to accept this version. "
                "Not earlier than the versions before it."
            ),
            "text": "The agreement's text, or a summary with the link below.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            # Start a new version from the one in force.
            current = agreements.agreement_current()
            self.initial["effective_from"] = timezone.localtime().replace(second=0, microsecond=0)
            if current is not None:
                self.initial.update(title=current.title, text=current.text, url=current.url)


AGREEMENT_ERROR_FIELDS = {
    "invalid_version": "version",
    "version_taken": "version",
    "agreement_content_required": "text",
    "agreement_effective_too_early": "effective_from",
}


def _agreement_fields(form) -> dict:
    data = form.cleaned_data
    return {
        "version": data["version"],
        "title": data["title"],
        "text": data.get("text", ""),
        "url": data.get("url", ""),
        "effective_from": data["effective_from"],
    }


class AgreementIndexView(generic.IndexView):
    page_title = "Agreement versions"
    add_item_label = "Publish a new version"

    def get_base_queryset(self):
        return super().get_base_queryset().annotate(acceptance_count=Count("acceptances"))

    @cached_property
    def now(self):
        return timezone.now()

    @cached_property
    def current(self):
        return agreements.agreement_current(now=self.now)

    def state(self, agreement) -> str:
        return agreements.agreement_state(agreement, current=self.current, now=self.now)

    @cached_property
    def columns(self):
        title_column = self._get_title_column_class(TitleColumn)
        return [
            title_column(
                "version",
                label="Version",
                accessor="version",
                sort_key="version",
                get_url=lambda a: self.get_edit_url(a) or self.get_inspect_url(a),
            ),
            Column("title", label="Title", sort_key="title"),
            Column(
                "effective_from",
                label="In force from",
                accessor=lambda a: when_label(a.effective_from),
                sort_key="effective_from",
            ),
            StatusTagColumn(
                "state",
                label="State",
                accessor=self.state,
                primary=lambda a: self.state(a) == agreements.IN_FORCE,
            ),
            Column("acceptance_count", label="Acceptances", sort_key="acceptance_count"),
        ]

    # Versions somebody accepted are records: no edit or delete buttons.
    def get_edit_url(self, instance):
        if getattr(instance, "acceptance_count", 0):
            return None
        return super().get_edit_url(instance)

    def get_delete_url(self, instance):
        if getattr(instance, "acceptance_count", 0):
            return None
        return super().get_delete_url(instance)


class AgreementRecordMixin:
    """Refuse edit and delete screens of a version somebody accepted, with the reason."""

    inspect_url_name = None

    def refuse_if_accepted(self):
        try:
            agreements.check_agreement_editable(agreement=self.get_object())
        except DomainError as error:
            return self.refuse(error)
        return None

    def refuse(self, error: DomainError):
        messages.error(self.request, error.message)
        return redirect(self.inspect_url_name, self.kwargs[self.pk_url_kwarg])

    def get(self, request, *args, **kwargs):
        return self.refuse_if_accepted() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        return self.refuse_if_accepted() or super().post(request, *args, **kwargs)


class AgreementCreateView(DomainErrorAsFormErrorMixin, generic.CreateView):
    error_fields = AGREEMENT_ERROR_FIELDS
    page_subtitle = "Agreement version"
    submit_button_label = "Publish"
    submit_button_active_label = "Publishing…"

    def save_instance(self):
        agreement = agreements.agreement_publish(**_agreement_fields(self.form))
        log(instance=agreement, action="wagtail.create", user=self.request.user)
        return agreement

    def get_success_message(self, instance):
        if instance.effective_from <= timezone.now():
            return (
                f"Version {instance.version} is published and in force: applicants are "
                "now asked to accept it."
            )
        return (
            f"Version {instance.version} is published: applicants are asked to accept it "
            f"from {when_label(instance.effective_from)}."
        )


class AgreementEditView(AgreementRecordMixin, DomainErrorAsFormErrorMixin, generic.EditView):
    error_fields = AGREEMENT_ERROR_FIELDS

    def save_instance(self):
        agreement = agreements.agreement_update(
            agreement=self.object, **_agreement_fields(self.form)
        )
        log(instance=agreement, action="wagtail.edit", user=self.request.user)
        return agreement


class AgreementDeleteView(AgreementRecordMixin, generic.DeleteView):
    def form_valid(self, form):
        success_url = self.get_success_url()
        message = self.get_success_message()
        try:
            with transaction.atomic():  # no log entry for a refused delete
                log(
                    instance=self.object,
                    action="wagtail.delete",
                    user=self.request.user,
                    deleted=True,
                )
                agreements.agreement_delete(agreement=self.object)
        except DomainError as error:
            return self.refuse(error)
        messages.success(self.request, message)
        return redirect(success_url)


class AgreementInspectView(generic.InspectView):
    template_name = "partners/admin/agreement_inspect.html"
    page_title = "Agreement version"

    def get_fields(self):
        return ["version", "title", "effective_from", "url", "created_at"]

    labels = {"effective_from": "In force from", "url": "Link to the full text"}
    recent_acceptances_shown = 50

    def get_field_label(self, field_name, field):
        return self.labels.get(field_name) or super().get_field_label(field_name, field)

    def get_effective_from_display_value(self):
        return when_label(self.object.effective_from)

    def get_created_at_display_value(self):
        return when_label(self.object.created_at)

    def get_url_display_value(self):
        url = self.object.url
        if not url:
            return "—"
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', url, url
        )

    @cached_property
    def acceptance_count(self) -> int:
        return agreements.agreement_acceptance_count(agreement=self.object)

    def get_edit_url(self):
        return None if self.acceptance_count else super().get_edit_url()

    def get_delete_url(self):
        return None if self.acceptance_count else super().get_delete_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        current = agreements.agreement_current(now=now)
        context.update(
            acceptance_count=self.acceptance_count,
            recent_acceptances=self.object.acceptances.select_related(
                "partner", "accepted_by"
            ).order_by("-accepted_at", "-pk")[: self.recent_acceptances_shown],
            state=agreements.agreement_state(self.object, current=current, now=now),
        )
        return context


class AgreementViewSet(ModelViewSet):
    model = PartnerAgreement
    icon = AGREEMENT_ICON
    menu_label = "Agreement versions"
    add_to_reference_index = False
    index_view_class = AgreementIndexView
    add_view_class = AgreementCreateView
    edit_view_class = AgreementEditView
    delete_view_class = AgreementDeleteView
    inspect_view_class = AgreementInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    ordering = ["-effective_from", "-pk"]

    def get_form_class(self, for_update=False):
        return AgreementForm


register_permission_policy(
    PartnerAgreement, StaffPolicy(PartnerAgreement, {"view", "add", "change", "delete"})
)
