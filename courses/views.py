"""Form handlers, the dashboard, learning paths and events. Each calls services/selectors.

The course page's "Enrol" and the lesson page's "Mark complete" forms post
here (`courses:course_enrol`, `courses:lesson_complete`, by page id), then
redirect (post/redirect/get). An unknown, unpublished or hidden course or
lesson is 404; someone no longer signed in is sent to sign in, then back to
the page.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from lms.errors import DomainError, NotFound, PermissionDenied

from . import ics, selectors, services
from .models import RegistrationStatus

ATTENDED_ID = re.compile(r"[0-9]{1,18}")


def _known_id(value: int) -> int:
    # Larger ids overflow the database's integer column: no such page.
    if not 0 < value <= selectors.MAX_ID:
        raise Http404("No such page.")
    return value


@require_POST
def course_enrol(request, course_id: int):
    """The course page's "Enrol" form; then the lesson to start (or resume)."""
    try:
        course = selectors.course_get_live(course_id=_known_id(course_id))
        if not request.user.is_authenticated:  # signed out since the page was shown
            return redirect_to_login(course.url, "login")
        enrolment, created = services.enrolment_create(person=request.user, course=course)
    except NotFound as error:
        raise Http404(error.message) from error
    if created:
        messages.success(request, f"You are enrolled in {course.title}.")
    detail = selectors.course_detail_for(user=request.user, course=course)
    if detail.resume is not None:
        return redirect(detail.resume.url)
    return redirect(course.url)


@require_POST
def lesson_complete(request, lesson_id: int):
    """The lesson page's "Mark complete" form; then the next lesson, the course,
    or the dashboard when that was the course's last lesson."""
    try:
        if not request.user.is_authenticated:  # signed out since the page was shown
            lesson = selectors.lesson_get_live(lesson_id=_known_id(lesson_id))
            return redirect_to_login(lesson.url, settings.LOGIN_URL)
        result = services.lesson_complete(person=request.user, lesson_id=_known_id(lesson_id))
    except NotFound as error:
        raise Http404(error.message) from error
    if result.course_completed_now:
        course = result.enrolment.course
        messages.success(request, f"You completed {course.title}. Well done!")
        return redirect("courses:dashboard")
    detail = selectors.lesson_detail_for(user=request.user, lesson=result.lesson)
    if detail.next is not None:
        return redirect(detail.next.url)
    return redirect(detail.course.url)


@never_cache
@login_required
def dashboard(request):
    hidden = selectors.hidden_paths_for(request.user)
    return render(
        request,
        "courses/dashboard.html",
        {
            "dashboard": selectors.dashboard_for(user=request.user, hidden=hidden),
            "paths": selectors.learning_paths_for(
                user=request.user, paths=selectors.learning_path_list(), hidden=hidden
            ),
            "catalogue_url": selectors.catalogue_url(),
        },
    )


@never_cache
def learning_path(request, slug: str):
    try:
        path = selectors.learning_path_for(user=request.user, slug=slug)
    except NotFound as error:
        raise Http404(error.message) from error
    response = render(request, "courses/learning_path.html", {"path": path})
    return response


# --- events ---------------------------------------------------------------------------


@never_cache
def event_list(request):
    return render(
        request,
        "courses/event_list.html",
        {"events": selectors.event_list_upcoming(user=request.user)},
    )


@require_POST
@login_required
def event_registration(request, event_id: int):
    """One form, two actions: `action=register` or `action=cancel`."""
    action = request.POST.get("action")
    try:
        if action == "register":
            registration, created = services.event_register(person=request.user, event_id=event_id)
            if registration.status == RegistrationStatus.WAITLISTED:
                messages.info(request, "The session is full: you are on the waitlist.")
            elif created:
                messages.success(request, "You have a seat. The join link is below.")
        elif action == "cancel":
            services.event_registration_cancel(person=request.user, event_id=event_id)
            messages.success(request, "Your registration is cancelled.")
        else:
            return HttpResponseBadRequest("Unknown action.")
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("courses:event_list")


@login_required
def event_calendar(request, event_id: int):
    try:
        card = selectors.event_get_for(user=request.user, event_id=event_id)
    except NotFound as error:
        raise Http404(error.message) from error
    host = request.get_host().split(":")[0]
    body = ics.calendar_entry(
        uid=f"event-{card.id}@{host}",
        title=card.title,
        description=card.description,
        starts_at=card.starts_at,
        ends_at=card.ends_at,
        now=timezone.now(),
        url=card.join_url or request.build_absolute_uri(reverse("courses:event_list")),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="event-{card.id}.ics"'
    return response


@never_cache
@login_required
def event_attendance(request, event_id: int):
    """The event's instructor (or programme staff) ticks who attended."""
    try:
        card = selectors.event_get_for(user=request.user, event_id=event_id)
        if request.method == "POST":
            # ASCII digits that fit a 64-bit id: "²".isdigit() is true but int() refuses
            # it, and a longer number overflows the column (both were 500s).
            attended = [pk for pk in request.POST.getlist("attended") if ATTENDED_ID.fullmatch(pk)]
            count = services.event_attendance_record(
                by=request.user, event_id=event_id, attended_ids=attended
            )
            messages.success(request, f"Attendance saved: {count} attended.")
            return redirect("courses:event_attendance", event_id=event_id)
        services.check_can_manage_event(user=request.user, event_id=event_id)
    except NotFound as error:
        raise Http404(error.message) from error
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    return render(
        request,
        "courses/event_attendance.html",
        {"event": card, "seats": selectors.event_seat_holders(event_id=event_id)},
    )


@require_POST
@login_required
def event_cancel(request, event_id: int):
    try:
        services.event_cancel(by=request.user, event_id=event_id)
    except NotFound as error:
        raise Http404(error.message) from error
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    messages.success(request, "The session is cancelled; everyone registered is told by e-mail.")
    return redirect("courses:event_attendance", event_id=event_id)
