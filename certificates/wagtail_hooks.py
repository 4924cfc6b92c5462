"""Wagtail admin: certification definitions and credentials (with revocation).

"Certifications" (definitions: exam, project brief, prerequisite courses,
validity and renewal) are edited by programme staff. "Credentials" are
read-only records: nobody adds, edits or deletes one here (not even a
superuser); programme staff revoke one with a mandatory reason through
certificates.services.credential_revoke. Permissions: migration 0004.
"""

from django import forms
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.auth import permission_denied
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from lms.errors import DomainError
from lms.permissions import is_programme_staff

from . import selectors, services
from .models import Certification, Credential

CREDENTIALS_NS = "certificates_admin_credentials"


class ReadOnlyRecordPolicy(ModelPermissionPolicy):
    """Credentials are records: view only; revocation has its own view."""

    def user_has_permission(self, user, action):
        if action in ("add", "change", "delete"):
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


register_permission_policy(Credential, ReadOnlyRecordPolicy(Credential))


class CertificationViewSet(ModelViewSet):
    model = Certification
    icon = "success"
    menu_label = "Certifications"
    copy_view_enabled = False
    form_fields = [
        "name",
        "slug",
        "description",
        "exam",
        "project_brief",
        "prerequisite_courses",
        "validity_months",
        "renewal_exam",
        "renewal_window_days",
    ]
    list_display = ["name", "slug", "exam", "project_brief", "validity_months"]
    search_fields = ["name", "slug"]


class CredentialIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("certification")

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if instance.revoked_at is None and is_programme_staff(self.request.user):
            buttons.append(
                Button(
                    "Revoke",
                    url=reverse(f"{CREDENTIALS_NS}:revoke", args=[instance.pk]),
                    icon_name="cross",
                    priority=30,
                )
            )
        return buttons


class CredentialViewSet(ModelViewSet):
    model = Credential
    icon = "tick-inverse"
    menu_label = "Credentials"
    index_view_class = CredentialIndexView
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = ["holder_name"]  # never used: add/change are refused by the policy
    list_display = [
        "holder_name",
        "certification",
        "status",
        "issued_at",
        "expires_at",
        "public_id",
    ]
    list_filter = ["status", "certification"]
    search_fields = ["holder_name", "public_id", "person__email"]
    inspect_view_fields = [
        "public_id",
        "holder_name",
        "person",
        "certification",
        "status",
        "issued_at",
        "expires_at",
        "revoked_at",
        "revocation_reason",
        "revoked_by",
        "exam_attempt",
        "submission",
        "pdf_rendered_at",
    ]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("revoke/<int:pk>/", CredentialRevokeView.as_view(), name="revoke"),
        ]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,  # the service decides (reason_required), one rule in one place
        max_length=services.MAX_REASON_LENGTH,
        help_text="Required. Shown on the public verification page.",
    )


@method_decorator(never_cache, name="dispatch")
class CredentialRevokeView(WagtailAdminTemplateMixin, View):
    template_name = "certificates/admin/revoke.html"
    page_title = "Revoke credential"
    header_icon = "cross"

    def dispatch(self, request, *args, **kwargs):
        if not is_programme_staff(request.user):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def _render(self, credential, form):
        context = self.get_context_data(
            credential=credential,
            form=form,
            verification_url=selectors.verification_url(credential.public_id),
        )
        return TemplateResponse(self.request, self.template_name, context)

    def get(self, request, pk):
        credential = get_object_or_404(Credential.objects.select_related("certification"), pk=pk)
        return self._render(credential, RevokeForm())

    def post(self, request, pk):
        credential = get_object_or_404(Credential.objects.select_related("certification"), pk=pk)
        form = RevokeForm(request.POST)
        if form.is_valid():
            try:
                services.credential_revoke(
                    credential=credential, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                form.add_error("reason", error.message)
            else:
                messages.success(request, f"The credential of {credential.holder_name} is revoked.")
                return redirect(f"{CREDENTIALS_NS}:index")
        return self._render(credential, form)


class CertificatesMenu(ViewSetGroup):
    menu_label = "Certification"
    menu_icon = "success"
    menu_order = 270
    items = (
        CertificationViewSet(
            "certificates_admin_certifications", url_prefix="certificates/definitions"
        ),
        CredentialViewSet(CREDENTIALS_NS, url_prefix="certificates/credentials"),
    )


@hooks.register("register_admin_viewset")
def register_certificates_menu():
    return CertificatesMenu()
