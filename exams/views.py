"""Server-rendered exam pages: list and history, the attempt page, the result.

Views only call selectors and services. Answers are saved by the page's
script through the JSON API (exams.api); the page itself never contains
correctness data (no `is_correct`, no explanations).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from lms.errors import DomainError, NotFound

from . import selectors, services
from .models import AttemptStatus


def _own_attempt(request, attempt_id: int):
    try:
        attempt = selectors.attempt_get_for_person(person=request.user, attempt_id=attempt_id)
    except NotFound as error:
        raise Http404(error.message) from error
    return services.attempt_finalise_if_overdue(attempt=attempt)


@never_cache
@login_required
def exam_list(request):
    now = timezone.now()
    services.attempt_finalise_overdue(now=now, person=request.user)
    return render(
        request,
        "exams/exam_list.html",
        {
            "cards": selectors.exam_list_for_learner(person=request.user, now=now),
            "history": selectors.attempt_history_for(person=request.user),
        },
    )


@require_POST
@login_required
def attempt_start(request, slug: str):
    try:
        exam = selectors.exam_get_published(slug=slug)
    except NotFound as error:
        raise Http404(error.message) from error
    try:
        attempt, _ = services.attempt_start(person=request.user, exam=exam)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("exams:exam_list")
    return redirect("exams:attempt", attempt_id=attempt.pk)


@never_cache
@login_required
def attempt_page(request, attempt_id: int):
    attempt = _own_attempt(request, attempt_id)
    if attempt.status != AttemptStatus.IN_PROGRESS:
        return redirect("exams:attempt_result", attempt_id=attempt.pk)
    # During a rest break the questions are not on the page at all.
    items = [] if attempt.on_break else selectors.attempt_form_for(attempt=attempt)
    config = {
        "attemptId": attempt.pk,
        "itemUrl": f"/api/v1/attempts/{attempt.pk}/items/",
        "deadline": attempt.deadline.isoformat(),
        "serverTime": timezone.now().isoformat(),
        "graceSeconds": attempt.exam.grace_seconds,
        "resultUrl": reverse("exams:attempt_result", args=[attempt.pk]),
        "onBreak": attempt.on_break,
        "breakEndsAt": attempt.break_ends_at.isoformat() if attempt.break_ends_at else None,
        "pageUrl": reverse("exams:attempt", args=[attempt.pk]),
    }
    return render(
        request,
        "exams/attempt.html",
        {
            "attempt": attempt,
            "exam": attempt.exam,
            "items": items,
            "answered_count": sum(1 for item in items if item.answered),
            "config": config,
        },
    )


@require_POST
@login_required
def attempt_submit(request, attempt_id: int):
    try:
        attempt = services.attempt_submit(person=request.user, attempt_id=attempt_id)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:  # on a rest break
        messages.error(request, error.message)
        return redirect("exams:attempt", attempt_id=attempt_id)
    return redirect("exams:attempt_result", attempt_id=attempt.pk)


@require_POST
@login_required
def attempt_break(request, attempt_id: int):
    """Start a rest break (the page then shows the break instead of the questions)."""
    try:
        services.attempt_break_start(person=request.user, attempt_id=attempt_id)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("exams:attempt", attempt_id=attempt_id)


@require_POST
@login_required
def attempt_resume(request, attempt_id: int):
    """End the rest break now."""
    try:
        services.attempt_break_end(person=request.user, attempt_id=attempt_id)
    except NotFound as error:
        raise Http404(error.message) from error
    return redirect("exams:attempt", attempt_id=attempt_id)


@never_cache
@login_required
def attempt_result(request, attempt_id: int):
    attempt = _own_attempt(request, attempt_id)
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return redirect("exams:attempt", attempt_id=attempt.pk)
    return render(
        request,
        "exams/result.html",
        {
            "attempt": attempt,
            "exam": attempt.exam,
            "result": selectors.attempt_result_for(attempt),
        },
    )
