"""The Wagtail admin home: the work waiting, as counts that link to their lists.

Programme staff see every queue (`cms.selectors.staff_work`); instructors see
their part (`cms.selectors.instructor_work`): the review queue, the pages they
sent to moderation and their upcoming live sessions. Wagtail's own panels stay
after ours. cms composes the apps' reads, so this is where the home lives.
"""

from django.urls import reverse
from django.utils import timezone
from wagtail import hooks
from wagtail.admin.ui.components import Component

from lms.permissions import is_instructor, is_programme_staff

from . import selectors


def _link(label: str, count: int, url: str, detail: str = "") -> dict:
    return {"label": label, "count": count, "url": url, "detail": detail}


def _age(since) -> str:
    if since is None:
        return ""
    days = (timezone.now() - since).days
    if days < 1:
        return "oldest waiting less than a day"
    return f"oldest waiting {days} day{'s' if days != 1 else ''}"


class StaffWorkPanel(Component):
    name = "academy_staff_work"
    order = 10
    template_name = "cms/admin/work_panel.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        work = selectors.staff_work(user=self.user)
        partners = reverse("partners_portal:staff_partners")
        items = [
            _link(
                "Applications to decide",
                work.applications_to_decide,
                reverse("admin_partner_applications:index") + "?status=pending",
            ),
            _link(
                "Technical verifications to record",
                work.verifications_to_record,
                partners,
                "tracks of approved partners without a current passed verification",
            ),
            _link(
                "Re-reviews due",
                work.rereviews_due,
                reverse("admin_rereviews:index"),
                "within 30 days",
            ),
            _link("Re-reviews overdue", work.rereviews_overdue, reverse("admin_rereviews:index")),
            _link(
                "Provisional deadlines in the next 30 days",
                work.provisional_deadlines_soon,
                partners + f"?status=provisional&deadline_within={selectors.DEADLINE_WINDOW_DAYS}",
            ),
            _link(
                "Submissions waiting for review",
                work.review_queue.waiting,
                reverse("exams:review_queue"),
                _age(work.review_queue.oldest_at),
            ),
            _link(
                "Pages waiting for moderation",
                work.pages_in_moderation,
                reverse("wagtailadmin_reports:workflow"),
            ),
            _link("Partners at risk", work.partners_at_risk, partners + "?at_risk=on"),
            _link(
                "Credentials expiring this month",
                work.credentials_expiring_this_month,
                reverse("certificates_admin_credentials:index") + "?ordering=expires_at",
            ),
        ]
        return {"title": "Work waiting", "items": items, "events": None}


class InstructorWorkPanel(Component):
    name = "academy_instructor_work"
    order = 10
    template_name = "cms/admin/work_panel.html"

    def __init__(self, user):
        self.user = user

    def get_context_data(self, parent_context=None):
        work = selectors.instructor_work(user=self.user)
        items = [
            _link(
                "Submissions waiting for review",
                work.review_queue.waiting,
                reverse("exams:review_queue"),
                _age(work.review_queue.oldest_at),
            ),
            _link(
                "Your pages waiting for moderation",
                work.my_pages_in_moderation,
                reverse("wagtailadmin_reports:workflow"),
            ),
        ]
        return {
            "title": "Your work",
            "items": items,
            "events": work.upcoming_events,
            "events_url": reverse("events:index"),
        }


class ProgrammeChartsPanel(Component):
    """Three of the programme analytics charts (the last 24 months), with their
    data tables and a link to the whole page."""

    name = "academy_programme_charts"
    order = 20
    template_name = "cms/admin/charts_panel.html"

    def get_context_data(self, parent_context=None):
        from partners.analytics import reports
        from partners.analytics.selectors import Scope, default_date_range

        now = timezone.now()
        period = default_date_range(today=timezone.localdate())
        scope = Scope.programme()
        chosen = [
            reports.certifications_issued(scope=scope, period=period, now=now),
            reports.credentials_expiring(scope=scope, period=period, now=now),
            reports.at_risk(scope=scope, period=period, now=now),
        ]
        return {"reports": chosen, "analytics_url": reverse("partners_analytics:staff")}


@hooks.register("construct_homepage_panels")
def add_work_panels(request, panels):
    user = request.user
    if user.is_superuser or is_programme_staff(user):
        panels.insert(0, StaffWorkPanel(user))
        panels.insert(1, ProgrammeChartsPanel())
    elif is_instructor(user):
        panels.insert(0, InstructorWorkPanel(user))
