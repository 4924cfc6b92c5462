"""Wagtail admin screens of the programme lifecycle (the "Programme" menu).

- "Re-reviews": the yearly re-review queue: who is due (the re-review is open,
  within 30 days of its due date), who is overdue (suspended 30 days after
  the due date), who confirmed in the last 90 days; each partner links to its
  dashboard, where staff change the programme status.
- "Status history": every change of a partner's programme status (read-only:
  changes are made through partners.lifecycle.services only).

Access: programme staff and superusers (partners.membership.policies.StaffPolicy).
Loaded by partners.wagtail_hooks.
"""

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from ..membership.policies import StaffPolicy
from ..models import PartnerStatusChange
from .selectors import rereview_queue


def _is_staff(user) -> bool:
    return StaffPolicy(PartnerStatusChange, {"view"}).user_has_permission(user, "view")


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return _is_staff(request.user)


class ReReviewQueueView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "partners/admin/rereview_queue.html"
    page_title = "Re-reviews"
    header_icon = "date"

    def dispatch(self, request, *args, **kwargs):
        if not StaffPolicy(PartnerStatusChange, {"view"}).user_has_permission(request.user, "view"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["queue"] = rereview_queue()
        return context


class ReReviewQueueViewSet(ViewSet):
    icon = "date"
    menu_label = "Re-reviews"
    name = "admin_rereviews"
    url_prefix = "rereviews"

    @property
    def menu_item_class(self):
        return StaffMenuItem

    def get_urlpatterns(self):
        return [path("", ReReviewQueueView.as_view(), name="index")]


class StatusHistoryIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("partner", "by")


class StatusHistoryViewSet(ModelViewSet):
    model = PartnerStatusChange
    index_view_class = StatusHistoryIndexView
    icon = "history"
    menu_label = "Status history"
    add_view_enabled = False
    copy_view_enabled = False
    list_display = ["partner", "from_status", "to_status", "reason", "by", "rule", "at"]
    list_filter = ["to_status", "rule"]
    search_fields = ["partner__name", "reason"]
    ordering = ["-at"]
    form_fields = ["reason"]  # required by ModelViewSet; editing is not allowed


register_permission_policy(PartnerStatusChange, StaffPolicy(PartnerStatusChange, {"view"}))


class ProgrammeMenu(ViewSetGroup):
    menu_label = "Programme"
    menu_icon = "date"
    menu_order = 305
    items = (
        ReReviewQueueViewSet("admin_rereviews", url_prefix="rereviews"),
        StatusHistoryViewSet("admin_status_history", url_prefix="status-history"),
    )


@hooks.register("register_admin_viewset")
def register_programme_menu():
    return ProgrammeMenu()
