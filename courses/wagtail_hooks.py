"""Admin guards for course content.

A page that learner records point at (enrolments, completed lessons), or whose
descendants have them, cannot be deleted from the admin: the records are kept
(their foreign keys are PROTECT) and the editor is told to unpublish instead.
This covers the page's own delete view and the bulk delete action.

Serving a lesson (`serve_lessons_to_learners`, a Wagtail `on_serve_page`
hook, inside Wagtail's own view-restriction check): a visitor who is not
signed in is sent to sign in; for a learner, the page is marked for their
per-session copy (courses.learner_page_cache) and the lesson becomes their
resume bookmark (`courses.services.enrolment_touch`, with the enrolment the
page has read already). Previews are not served through hooks, so they do
neither.

Also registers the admin screens for instructor-led events.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.viewsets.model import ModelViewSet

from . import learner_page_cache, services
from .models import Enrolment, Event, LearningPath, LessonPage, LessonProgress

REFUSAL = (
    "“{title}” cannot be deleted: learners have enrolments or progress in it "
    "(or in the pages below it), and those records must be kept. "
    "Unpublish it instead to hide it from learners."
)


def pages_with_learner_records(pages) -> list:
    """The pages among `pages` that have learner records on them or below them."""
    found = []
    for page in pages:
        has_records = (
            Enrolment.objects.filter(course__path__startswith=page.path).exists()
            or LessonProgress.objects.filter(lesson__path__startswith=page.path).exists()
        )
        if has_records:
            found.append(page)
    return found


@hooks.register("before_delete_page")
def refuse_deleting_pages_with_learner_records(request, page):
    if pages_with_learner_records([page]):
        messages.error(request, REFUSAL.format(title=page.get_admin_display_title()))
        return redirect(reverse("wagtailadmin_explore", args=[page.get_parent().pk]))
    return None


@hooks.register("before_bulk_action")
def refuse_bulk_deleting_pages_with_learner_records(request, action_type, objects, action):
    if action_type != "delete" or getattr(action, "model", None) is None:
        return None
    blocked = pages_with_learner_records(
        [page for page in objects if hasattr(page, "path") and hasattr(page, "depth")]
    )
    if not blocked:
        return None
    for page in blocked:
        messages.error(request, REFUSAL.format(title=page.get_admin_display_title()))
    return redirect(reverse("wagtailadmin_explore", args=[blocked[0].get_parent().pk]))


# --- serving lessons ------------------------------------------------------------------


# order=1: inside Wagtail's view-restriction check (order 0), so a restricted
# section answers first (its password form, or its own sign-in redirect).
@hooks.register("on_serve_page", order=1)
def serve_lessons_to_learners(serve):
    def serve_page(page, request, serve_args, serve_kwargs):
        if not isinstance(page, LessonPage):
            return serve(page, request, serve_args, serve_kwargs)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        response = serve(page, request, serve_args, serve_kwargs)
        learner_page_cache.mark_cacheable(request)
        detail = (getattr(response, "context_data", None) or {}).get("detail")
        services.enrolment_touch(
            person=request.user,
            lesson=page,
            enrolment=detail.enrolment if detail is not None else services.UNKNOWN,
        )
        return response

    return serve_page


# --- events ---------------------------------------------------------------------------


EVENT_FORM_FIELDS = [
    "title",
    "description",
    "course",
    "starts_at",
    "ends_at",
    "time_zone",
    "join_url",
    "instructor",
    "capacity",
]


class EventForm(WagtailAdminModelForm):
    join_url = forms.URLField(
        label="Join link",
        max_length=500,
        assume_scheme="https",
        help_text="Shown only to people with a seat.",
    )

    class Meta:
        model = Event
        fields = EVENT_FORM_FIELDS


class EventViewSet(ModelViewSet):
    """Instructors schedule sessions. The model's validation refuses an end
    before the start and a capacity below the seats already taken."""

    model = Event
    icon = "date"
    menu_label = "Live sessions"
    menu_order = 250
    add_to_admin_menu = True
    form_fields = EVENT_FORM_FIELDS
    list_display = ["title", "starts_at", "capacity", "seats_taken", "instructor"]
    search_fields = ["title"]
    ordering = ["-starts_at"]

    def get_form_class(self, for_update=False):
        return EventForm


@hooks.register("register_admin_viewset")
def register_event_viewset():
    return EventViewSet("events")


class LearningPathViewSet(ModelViewSet):
    """Instructors author the learning paths: which courses, in which order, for
    which certification (the steps after the courses follow from it)."""

    model = LearningPath
    icon = "list-ol"
    menu_label = "Learning paths"
    menu_order = 240
    add_to_admin_menu = True
    list_display = ["title", "slug", "certification", "sort_order", "is_published"]
    search_fields = ["title", "slug"]
    ordering = ["sort_order", "title"]


@hooks.register("register_admin_viewset")
def register_learning_path_viewset():
    return LearningPathViewSet("learning_paths")
