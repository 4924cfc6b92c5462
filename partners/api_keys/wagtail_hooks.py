"""Wagtail admin screen "API keys": programme staff see every partner's company
API keys (never their secrets) and revoke any of them.

The list shows each key's partner, name, prefix, scopes, state and last use;
"Revoke" (the edit view) asks for a reason and goes through
partners.api_keys.services.api_key_revoke, so a revoked key stays revoked
(nothing else about a key can be edited here, and keys are made by partner
admins in the portal or the API, not here). Access: programme staff and
superusers (partners.membership.policies.StaffPolicy). Loaded by
partners.wagtail_hooks.
"""

import django_filters
from django import forms
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permissions import register_permission_policy

from ..membership.policies import StaffPolicy
from ..models import ApiKey
from . import services


class ApiKeyRevokeForm(WagtailAdminModelForm):
    revoked_reason = forms.CharField(
        label="Reason for revoking",
        max_length=200,
        help_text="Kept with the key; the partner's admins see that it is revoked.",
    )

    class Meta:
        model = ApiKey
        fields = ["revoked_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.revoked_at is not None:
            self.fields["revoked_reason"].disabled = True
            self.fields[
                "revoked_reason"
            ].help_text = f"Revoked {self.instance.revoked_at:%d %b %Y %H:%M} UTC."


class ApiKeyRevokeView(generic.EditView):
    def save_instance(self):
        key = ApiKey.objects.get(pk=self.form.instance.pk)
        if key.revoked_at is None:
            key = services.api_key_revoke(
                key=key, reason=self.form.cleaned_data.get("revoked_reason", "")
            )
            log(instance=key, action="wagtail.edit", user=self.request.user)
        return key


class ApiKeyIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("partner", "created_by")


class ApiKeyFilterSet(WagtailFilterSet):
    revoked = django_filters.BooleanFilter(
        field_name="revoked_at", lookup_expr="isnull", exclude=True, label="Revoked"
    )

    class Meta:
        model = ApiKey
        fields = ["partner"]


def _state(key: ApiKey) -> str:
    return key.state(timezone.now()).capitalize()


class ApiKeyViewSet(ModelViewSet):
    model = ApiKey
    icon = "key"
    menu_label = "API keys"
    menu_order = 330
    add_to_admin_menu = True
    index_view_class = ApiKeyIndexView
    edit_view_class = ApiKeyRevokeView
    add_view_enabled = False
    copy_view_enabled = False
    list_display = [
        "name",
        "partner",
        "prefix",
        Column("scopes", label="Scopes", accessor=lambda key: ", ".join(key.scopes)),
        Column("state", label="State", accessor=_state),
        Column("created_by", label="Made by", accessor="created_by.email"),
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    filterset_class = ApiKeyFilterSet
    search_fields = ["name", "prefix", "partner__name"]
    ordering = ["-created_at"]

    def get_form_class(self, for_update=False):
        return ApiKeyRevokeForm


register_permission_policy(ApiKey, StaffPolicy(ApiKey, {"view", "change"}))


@hooks.register("register_admin_viewset")
def register_api_keys_admin():
    return ApiKeyViewSet("admin_api_keys", url_prefix="api-keys")
