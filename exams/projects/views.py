"""Project pages: briefs and submitting (learners), review queue and grading (instructors).

Views only call project_selectors and project_services. Refusals are shown on
the page with the service's status code (413/415/422/409), never a 500.
Someone who may not see a submission, file, or the review pages gets 404.
Submission files are served only through `project_file`, as attachments.
The grading page shows a grader only the reviews they may see
(`project_selectors.reviews_visible_to`): never the first grader's to the
second. Programme staff have the grader agreement page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from lms.errors import DomainError, NotFound
from lms.permissions import is_instructor, is_programme_staff

from ..models import SubmissionStatus
from . import rules as project_rules
from . import selectors as project_selectors
from . import services as project_services
from . import uploads


def _published_brief(slug: str):
    try:
        return project_selectors.brief_get_published(slug=slug)
    except NotFound as error:
        raise Http404(error.message) from error


def _check_grader(user) -> None:
    try:
        project_services.check_grader(user)
    except NotFound as error:
        raise Http404(error.message) from error


@never_cache
@login_required
def project_list(request):
    return render(
        request,
        "exams/projects/project_list.html",
        {
            "cards": project_selectors.brief_cards_for(person=request.user),
            "is_grader": is_instructor(request.user),
        },
    )


def _detail_context(request, brief) -> dict:
    submissions = project_selectors.submissions_of(person=request.user, brief=brief)
    latest = submissions[0] if submissions else None
    can_submit = latest is None or latest.status in (
        SubmissionStatus.REVISE,
        SubmissionStatus.FAILED,
    )
    return {
        "brief": brief,
        "max_points": project_selectors.brief_max_points(brief),
        "submissions": [(s, project_selectors.submission_feedback_for(s)) for s in submissions],
        "can_submit": can_submit,
        "accept": ",".join(f".{ext}" for ext in brief.allowed_file_types),
        "max_files": project_services.MAX_FILES,
    }


@never_cache
@login_required
def project_detail(request, slug: str):
    brief = _published_brief(slug)
    return render(request, "exams/projects/project_detail.html", _detail_context(request, brief))


@require_POST
@login_required
def project_submit(request, slug: str):
    brief = _published_brief(slug)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        limit = brief.max_upload_bytes
        # Refuse before Django spools the upload to disk.
        if declared > min(limit + 64 * 1024, uploads.GLOBAL_MAX_UPLOAD_BYTES):
            raise uploads.FileTooLarge(
                f"The upload is larger than this project accepts ({limit} bytes)."
            )
        project_services.submission_create(
            person=request.user,
            brief=brief,
            files=request.FILES.getlist("files"),
            repository_url=request.POST.get("repository_url", ""),
            notes=request.POST.get("notes", ""),
        )
    except (DomainError, ValueError) as error:
        status = getattr(error, "status", 400)
        context = _detail_context(request, brief)
        context.update(
            error=getattr(error, "message", "The form could not be read."),
            error_code=getattr(error, "code", "bad_request"),
            values={
                "repository_url": request.POST.get("repository_url", "")[:500],
                "notes": request.POST.get("notes", "")[: project_services.NOTES_MAX],
            },
        )
        return render(request, "exams/projects/project_detail.html", context, status=status)
    messages.success(request, "Your project is submitted. You will see the graders' feedback here.")
    return redirect("exams:project_detail", slug=brief.slug)


@never_cache
@login_required
def project_file(request, file_id: int):
    try:
        file = project_selectors.submission_file_get_for_viewer(user=request.user, file_id=file_id)
    except NotFound as error:
        raise Http404(error.message) from error
    try:
        handle = file.file.open("rb")
    except FileNotFoundError as error:
        raise Http404("The file is missing.") from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=file.original_name,
        content_type=file.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- instructors ------------------------------------------------------------------------


@never_cache
@login_required
def review_queue(request):
    _check_grader(request.user)
    now = timezone.now()
    queue = project_selectors.review_queue_for(grader=request.user, now=now)
    return render(
        request,
        "exams/projects/review_queue.html",
        {
            "queue": [
                (s, s.claimed_by_id == request.user.pk and project_selectors.claim_is_live(s, now))
                for s in queue
            ],
            "is_staff": is_programme_staff(request.user),
        },
    )


@require_POST
@login_required
def review_claim(request, submission_id: int):
    _check_grader(request.user)
    try:
        project_services.submission_claim(grader=request.user, submission_id=submission_id)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("exams:review_queue")
    return redirect("exams:review_grade", submission_id=submission_id)


def _grading_context(request, submission, **extra) -> dict:
    brief = project_selectors.brief_with_rubric(brief_id=submission.brief_id)
    return {
        "submission": submission,
        "brief": brief,
        "max_points": project_selectors.brief_max_points(brief),
        "blind": brief.blind_grading,
        "files": list(submission.files.all()),
        "earlier_reviews": project_selectors.feedback_visible_to(request.user, submission),
        "round": len(project_selectors.reviews_for(submission)) + 1,
        "margin": project_rules.margin_for(brief.pass_threshold, brief.second_grader_margin),
        "selected": {},
        "comments": {},
        **extra,
    }


def _posted_round(raw: str | None) -> int | None:
    """The round the form was shown for; anything unreadable is the service's 409."""
    if raw is None or raw == "":
        return None
    return int(raw) if raw.isdigit() and len(raw) < 3 else 0


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review_grade(request, submission_id: int):
    _check_grader(request.user)
    try:
        submission = project_selectors.submission_get_for_viewer(
            user=request.user, submission_id=submission_id
        )
    except NotFound as error:
        raise Http404(error.message) from error
    now = timezone.now()
    holds_claim = submission.claimed_by_id == request.user.pk and project_selectors.claim_is_live(
        submission, now
    )
    if not submission.is_open or not holds_claim:
        if request.method == "POST" or submission.is_open:
            messages.error(request, "Claim this submission from the queue before grading it.")
            return redirect("exams:review_queue")
    if request.method == "GET":
        return render(
            request, "exams/projects/review_grade.html", _grading_context(request, submission)
        )
    scores = {
        key.removeprefix("criterion-"): value
        for key, value in request.POST.items()
        if key.startswith("criterion-")
    }
    comments = {
        key.removeprefix("comment-"): value
        for key, value in request.POST.items()
        if key.startswith("comment-")
    }
    try:
        review = project_services.submission_review(
            grader=request.user,
            submission_id=submission.pk,
            scores=scores,
            comment=request.POST.get("comment", ""),
            criterion_comments=comments,
            expected_round=_posted_round(request.POST.get("round")),
        )
    except DomainError as error:
        context = _grading_context(
            request,
            submission,
            error=error.message,
            error_code=error.code,
            selected=scores,
            comments=comments,
            comment=request.POST.get("comment", ""),
        )
        return render(request, "exams/projects/review_grade.html", context, status=error.status)
    if review.submission.needs_third_review:
        messages.success(
            request,
            f"Review saved ({review.total} points). The two reviews disagree: "
            "a member of programme staff will decide.",
        )
    elif review.submission.is_open:
        messages.success(
            request,
            f"Review saved ({review.total} points). The result is close to the threshold: "
            "a second grader will review it.",
        )
    else:
        messages.success(
            request,
            f"Review saved: {review.submission.get_status_display()} "
            f"({review.submission.score} points).",
        )
    return redirect("exams:review_queue")


# --- programme staff --------------------------------------------------------------------


@never_cache
@login_required
def grader_agreement(request):
    if not is_programme_staff(request.user):
        raise Http404("Not found.")
    window = settings.GRADER_AGREEMENT_WINDOW
    return render(
        request,
        "exams/projects/grader_agreement.html",
        {
            "window": window,
            "report": project_selectors.grader_agreement_report(window=window),
        },
    )
