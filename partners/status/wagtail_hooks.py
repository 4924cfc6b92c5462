"""Wagtail admin screens for the track-status settings and records.

- "Track rules": programme staff edit each track's rule (how many certified
  individuals, grace days, which certification slugs count) without a deploy.
  Saving recomputes every partner's status in the background (partners.receivers).
- "Technical verifications" and "Apps figures": read-only history lists; new
  decisions and figures are recorded on the partner dashboard
  (/partners/<slug>/), which goes through partners.status.services so history
  is never rewritten.

Access: programme staff (lms.permissions) and superusers
(partners.membership.policies.StaffPolicy); Django model permissions are not
needed for these screens. Loaded by partners.wagtail_hooks.
"""

from django import forms
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from ..membership.policies import StaffPolicy
from ..models import (
    AppMilestoneFigure,
    TechnicalVerification,
    TrackRuleSetting,
)


class TrackRuleForm(WagtailAdminModelForm):
    counting_certifications = forms.CharField(
        help_text="Certification slugs that count, comma-separated (e.g. developer, architect).",
        max_length=500,
    )

    class Meta:
        model = TrackRuleSetting
        fields = ["required", "grace_days", "counting_certifications"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["counting_certifications"] = ", ".join(
                self.instance.counting_certifications or []
            )

    def clean_counting_certifications(self):
        raw = self.cleaned_data["counting_certifications"]
        slugs = [s.strip() for s in raw.split(",") if s.strip()]
        if not slugs:
            raise forms.ValidationError("Name at least one certification slug.")
        bad = [s for s in slugs if not s.replace("-", "").replace("_", "").isalnum()]
        if bad:
            raise forms.ValidationError(f"Not a slug: {', '.join(bad)}.")
        return list(dict.fromkeys(slugs))


class TrackRuleViewSet(ModelViewSet):
    model = TrackRuleSetting
    icon = "cog"
    menu_label = "Track rules"
    add_view_enabled = False
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["track", "required", "grace_days", "counting_certifications"]
    ordering = ["track"]

    def get_form_class(self, for_update=False):
        return TrackRuleForm


class VerificationViewSet(ModelViewSet):
    model = TechnicalVerification
    icon = "tick"
    menu_label = "Technical verifications"
    add_view_enabled = False
    copy_view_enabled = False
    list_display = ["partner", "track", "status", "decided_on", "expires_at", "reviewer"]
    list_filter = ["track", "status"]
    ordering = ["-decided_on", "-created_at"]
    form_fields = ["notes"]  # required by ModelViewSet; editing is not allowed


class FiguresViewSet(ModelViewSet):
    model = AppMilestoneFigure
    icon = "pick"
    menu_label = "Apps figures"
    add_view_enabled = False
    copy_view_enabled = False
    list_display = ["partner", "recorded_on", "installs", "payment_volume_usd", "app_review_passed"]
    ordering = ["-recorded_on", "-created_at"]
    form_fields = ["notes"]


register_permission_policy(TrackRuleSetting, StaffPolicy(TrackRuleSetting, {"view", "change"}))
register_permission_policy(TechnicalVerification, StaffPolicy(TechnicalVerification, {"view"}))
register_permission_policy(AppMilestoneFigure, StaffPolicy(AppMilestoneFigure, {"view"}))


class TrackStatusMenu(ViewSetGroup):
    menu_label = "Track status"
    menu_icon = "tick-inverse"
    menu_order = 310
    items = (
        TrackRuleViewSet("admin_track_rules", url_prefix="track-rules"),
        VerificationViewSet("admin_verifications", url_prefix="technical-verifications"),
        FiguresViewSet("admin_app_figures", url_prefix="app-figures"),
    )


@hooks.register("register_admin_viewset")
def register_track_status_menu():
    return TrackStatusMenu()
