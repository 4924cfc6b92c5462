"""Wagtail admin screens for partner applications (the "Applications" menu).

- "Applications": programme staff list the applications (filter by status,
  track and submitted date; search by company or applicant e-mail), inspect
  everything the applicant gave, and approve or reject with a reason. The
  decisions go through partners.applications.services, like the staff page
  (/partners/staff/applications/) and the API: approving twice changes
  nothing, a decided application is never flipped, the applicant is e-mailed
  after commit.
- The "Applications" menu also holds "Agreement versions", whose screens are
  in partners.agreements.wagtail_hooks.

Access: the permission policies registered at the end of this module
(programme staff and superusers, partners.membership.policies.StaffPolicy).
"decide" is the approve/reject action. Loaded by partners.wagtail_hooks.
"""

import django_filters
from django import forms
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, TitleColumn
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import ListingButton
from wagtail.log_actions import log
from wagtail.permissions import register_permission_policy

from certificates.rules import add_months
from lms.errors import DomainError

from ..agreements.wagtail_hooks import AgreementViewSet
from ..agreements.wagtail_hooks import when_label as _when
from ..membership.policies import StaffPolicy
from ..models import PartnerApplication, Track
from . import services as applications

DECIDE = "decide"
PENDING = PartnerApplication.Status.PENDING
APPLICATION_ICON = "form"


LOG_ACTIONS = {
    "partners.application.approve": ("Approve application", "Application approved"),
    "partners.application.reject": ("Reject application", "Application rejected"),
}


def register_log_actions(actions) -> None:
    """For the `register_log_actions` hook: name the decisions in the history views."""
    for action, (label, message) in LOG_ACTIONS.items():
        actions.register_action(action, label, message)


def track_labels(tracks) -> str:
    labels = dict(Track.choices)
    return ", ".join(str(labels.get(track, track)) for track in tracks) or "—"


# --- applications --------------------------------------------------------------


class ApplicationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        choices=PartnerApplication.Status.choices, empty_label="Any status"
    )
    track = django_filters.ChoiceFilter(
        label="Track", choices=Track.choices, empty_label="Any track", method="filter_track"
    )
    submitted_at = django_filters.DateFromToRangeFilter(
        label="Submitted", widget=DateRangePickerWidget
    )

    class Meta:
        model = PartnerApplication
        fields = ["status"]

    def filter_track(self, queryset, name, value):
        # The partner's tracks rows are the ones chosen when applying (one per
        # track, so the join adds no duplicates); the JSON copy cannot be
        # queried on SQLite.
        return queryset.filter(partner__tracks__track=value)


class ApplicationDecisionUrlsMixin:
    """URLs of the approve and reject screens of one application."""

    approve_url_name = None
    reject_url_name = None
    index_url_name = None

    def decision_url(self, decision: str, application, *, back_to_list=False) -> str:
        name = self.approve_url_name if decision == "approve" else self.reject_url_name
        url = reverse(name, args=[application.pk])
        if back_to_list:
            url += "?" + urlencode({"next": reverse(self.index_url_name)})
        return url


class ApplicationIndexView(ApplicationDecisionUrlsMixin, generic.IndexView):
    page_title = "Partner applications"

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("partner", "applicant")

    @cached_property
    def columns(self):
        # The title column gets the row's buttons and links to the inspect view.
        title_column = self._get_title_column_class(TitleColumn)
        return [
            title_column(
                "company",
                label="Company",
                accessor="partner.name",
                sort_key="partner__name",
                get_url=self.get_inspect_url,
            ),
            Column("applicant", label="Applicant", accessor="applicant.email"),
            Column("tracks", label="Tracks", accessor=lambda a: track_labels(a.tracks)),
            DateColumn("submitted_at", label="Submitted", sort_key="submitted_at"),
            StatusTagColumn(
                "status",
                label="Status",
                accessor="get_status_display",
                sort_key="status",
                primary=lambda a: a.status == PENDING,
            ),
        ]

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status == PENDING and self.user_has_permission(DECIDE):
            name = instance.partner.name
            buttons += [
                ListingButton(
                    "Approve",
                    url=self.decision_url("approve", instance, back_to_list=True),
                    icon_name="check",
                    attrs={"aria-label": f"Approve the application of {name}"},
                    priority=1,
                ),
                ListingButton(
                    "Reject",
                    url=self.decision_url("reject", instance, back_to_list=True),
                    icon_name="cross",
                    attrs={"aria-label": f"Reject the application of {name}"},
                    priority=2,
                ),
            ]
        return buttons


def _application_or_404(pk) -> PartnerApplication:
    try:
        return applications.application_get(application_id=int(pk))
    except (DomainError, ValueError) as error:
        raise Http404("No such application.") from error


class RejectForm(forms.Form):
    # Not required here: partners.applications.services says what a reason needs
    # (reason_required, reason_too_long), so every screen gives one message.
    reason = forms.CharField(
        label="Reason (sent to the applicant)",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        strip=True,
    )


class ApplicationContextMixin(ApplicationDecisionUrlsMixin):
    inspect_url_name = None
    agreement_inspect_url_name = "admin_partner_agreements:inspect"

    def application_context(self, application, *, reject_form=None) -> dict:
        acceptance = application.agreement_acceptance
        decided = application.status != PENDING
        return {
            "application": application,
            "tracks": track_labels(application.tracks),
            "acceptance": acceptance,
            "agreement_url": reverse(
                self.agreement_inspect_url_name, args=[acceptance.agreement_id]
            ),
            "decided": decided,
            "can_decide": not decided and self.user_has_permission(DECIDE),
            "approve_url": self.decision_url("approve", application),
            "reject_url": self.decision_url("reject", application),
            "deadline_if_approved_now": add_months(
                timezone.now(), applications.provisional_months()
            ),
            "reject_form": reject_form or RejectForm(),
        }


class ApplicationInspectView(ApplicationContextMixin, generic.InspectView):
    template_name = "partners/admin/application_inspect.html"
    page_title = "Application"

    def get_object(self, queryset=None):
        return _application_or_404(self.pk)

    def get_page_subtitle(self):
        return self.object.partner.name

    def get_fields(self):
        return []  # the template lays the application out itself

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.application_context(self.object))
        return context


class ApplicationDecisionView(
    ApplicationContextMixin, PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView
):
    """Confirm (GET) and make (POST, with CSRF) one decision on one application."""

    model = PartnerApplication
    permission_required = DECIDE
    template_name = "partners/admin/application_decide.html"
    header_icon = APPLICATION_ICON
    decision = ""  # "approve" or "reject"
    page_title = ""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.application = _application_or_404(kwargs["pk"])

    def get_page_title(self):
        return "Approve application" if self.decision == "approve" else "Reject application"

    def get_page_subtitle(self):
        return self.application.partner.name

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": "Applications"},
            {"url": self.inspect_url(), "label": self.application.partner.name},
            {"url": "", "label": self.get_page_title()},
        ]

    def inspect_url(self) -> str:
        return reverse(self.inspect_url_name, args=[self.application.pk])

    def success_url(self) -> str:
        return get_valid_next_url_from_request(self.request) or self.inspect_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            self.application_context(self.application, reject_form=kwargs.get("reject_form"))
        )
        context.update(
            decision=self.decision,
            next_url=get_valid_next_url_from_request(self.request),
            cancel_url=self.success_url(),
        )
        return context

    def already_decided_message(self, application) -> str:
        by = application.decided_by.email if application.decided_by else "someone"
        return (
            f"The application of {application.partner.name} was already "
            f"{application.get_status_display().lower()} on {_when(application.decided_at)} "
            f"by {by}; nothing changed."
        )

    def get(self, request, *args, **kwargs):
        if self.application.status != PENDING:
            messages.warning(request, self.already_decided_message(self.application))
            return redirect(self.inspect_url())
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        now = timezone.now()
        try:
            application = self.decide(now=now)
        except DomainError as error:
            return self.refused(error)
        if application.decided_at != now:  # decided before this request: nothing changed
            messages.warning(request, self.already_decided_message(application))
            return redirect(self.inspect_url())
        log(instance=application, action=f"partners.application.{self.decision}", user=request.user)
        messages.success(request, self.success_message(application))
        return redirect(self.success_url())

    def decide(self, *, now):
        raise NotImplementedError

    def refused(self, error: DomainError):
        messages.error(self.request, error.message)
        return redirect(self.inspect_url())

    def success_message(self, application) -> str:
        raise NotImplementedError


class ApplicationApproveView(ApplicationDecisionView):
    decision = "approve"

    def decide(self, *, now):
        return applications.application_approve(
            application=self.application, decided_by=self.request.user, now=now
        )

    def success_message(self, application) -> str:
        return (
            f"{application.partner.name} is now a provisional partner until "
            f"{application.provisional_deadline:%d %B %Y}. The applicant was e-mailed."
        )


class ApplicationRejectView(ApplicationDecisionView):
    decision = "reject"
    reason_codes = ("reason_required", "reason_too_long")

    def decide(self, *, now):
        self.form = RejectForm(self.request.POST)
        self.form.is_valid()  # a plain text field: always valid; the service checks it
        return applications.application_reject(
            application=self.application,
            decided_by=self.request.user,
            reason=self.form.cleaned_data.get("reason", ""),
            now=now,
        )

    def refused(self, error: DomainError):
        if error.code not in self.reason_codes:
            return super().refused(error)
        self.form.add_error("reason", error.message)
        messages.error(self.request, f"The application was not rejected: {error.message}")
        context = self.get_context_data(reject_form=self.form)
        return self.render_to_response(context, status=error.status)

    def success_message(self, application) -> str:
        return (
            f"The application of {application.partner.name} was rejected. "
            "The applicant was e-mailed the reason."
        )


class ApplicationViewSet(ModelViewSet):
    model = PartnerApplication
    icon = APPLICATION_ICON
    menu_label = "Applications"
    add_to_reference_index = False
    index_view_class = ApplicationIndexView
    inspect_view_class = ApplicationInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = ApplicationFilterSet
    search_fields = ["partner__name", "applicant__email"]
    ordering = ["-submitted_at", "-pk"]
    form_fields = ["rejection_reason"]  # required by ModelViewSet; the policy allows no editing

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            approve_url_name=self.get_url_name("approve"),
            reject_url_name=self.get_url_name("reject"),
            **kwargs,
        )

    @cached_property
    def approve_view(self):
        return self.construct_view(ApplicationApproveView)

    @cached_property
    def reject_view(self):
        return self.construct_view(ApplicationRejectView)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("approve/<int:pk>/", self.approve_view, name="approve"),
            path("reject/<int:pk>/", self.reject_view, name="reject"),
        ]


class ApplicationsMenu(ViewSetGroup):
    menu_label = "Applications"
    menu_icon = APPLICATION_ICON
    menu_order = 305
    items = (
        ApplicationViewSet("admin_partner_applications", url_prefix="partner-applications"),
        AgreementViewSet("admin_partner_agreements", url_prefix="partner-agreements"),
    )


register_permission_policy(PartnerApplication, StaffPolicy(PartnerApplication, {"view", DECIDE}))
hooks.register("register_log_actions", register_log_actions)


@hooks.register("register_admin_viewset")
def register_applications_menu():
    return ApplicationsMenu()
