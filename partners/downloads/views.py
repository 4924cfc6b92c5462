"""Partner downloads pages (mounted by cms.urls via partners.downloads.urls).

- GET  /partners/<slug>/downloads/                    the page: prepare button, progress, link
- POST /partners/<slug>/downloads/prepare/            request a zip (reuses a fresh one)
- GET  /partners/<slug>/downloads/status.json         progress for the page's polling JS
- GET  /partners/<slug>/downloads/<id>/certificates.zip  the ready zip, as an attachment
- GET  /partners/<slug>/report.csv | report.pdf       the roll-up report

Preparing a zip and each report count against the partner's hourly
PARTNER_BUILD_RATE_LIMIT: past it the page answers 429 with Retry-After. A PDF
report too large to render in the request answers 409 and points to the CSV.

Partner admins of that partner and programme staff ("partner.view"); everyone
else and unknown slugs or bundles 404. Views only call partners.downloads.services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from lms import permissions
from lms.errors import DomainError

from ..models import BundleStatus, Partner
from . import services as downloads


def _partner_visible(request, slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.user, "partner.view", partner):
        raise Http404("No such partner.")
    return partner


def _render_page(request, partner: Partner, *, error: DomainError | None = None):
    latest = downloads.bundle_latest(partner=partner)
    fresh = downloads.bundle_latest_fresh(partner=partner)
    context = {
        "partner": partner,
        "bundle": latest,
        "stale": latest is not None and latest.status == BundleStatus.READY and fresh is None,
        "credential_count": downloads.bundle_credentials(partner=partner).count(),
        "error": error,
    }
    response = render(
        request, "partners/downloads/page.html", context, status=error.status if error else 200
    )
    if getattr(error, "retry_after", None):
        response["Retry-After"] = str(error.retry_after)
    return response


@never_cache
@login_required
@require_GET
def downloads_page(request, slug: str):
    return _render_page(request, _partner_visible(request, slug))


@never_cache
@login_required
@require_POST
def bundle_prepare(request, slug: str):
    partner = _partner_visible(request, slug)
    try:
        downloads.bundle_start(partner=partner, requested_by=request.user)
    except DomainError as error:
        return _render_page(request, partner, error=error)
    messages.success(request, "The certificates zip is being prepared.")
    return redirect("partner_downloads:page", slug=partner.slug)


@never_cache
@login_required
@require_GET
def bundle_status(request, slug: str):
    partner = _partner_visible(request, slug)
    bundle = downloads.bundle_latest(partner=partner)
    if bundle is None:
        return JsonResponse({"status": "none", "done": 0, "total": 0, "bundle_id": None})
    return JsonResponse(downloads.bundle_progress(bundle))


def bundle_file_response(partner: Partner, bundle) -> FileResponse:
    handle = bundle.file.storage.open(bundle.file.name, "rb")
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{partner.slug}-certificates.zip",
        content_type="application/zip",
    )


@never_cache
@login_required
@require_GET
def bundle_download(request, slug: str, bundle_id: int):
    partner = _partner_visible(request, slug)
    bundle = downloads.bundle_get(partner=partner, bundle_id=bundle_id)
    if bundle is None or bundle.status != BundleStatus.READY:
        raise Http404("No such download.")
    return bundle_file_response(partner, bundle)


@never_cache
@login_required
@require_GET
def report_csv(request, slug: str):
    partner = _partner_visible(request, slug)
    try:
        downloads.check_build_rate(partner=partner, kind="report_csv")
    except DomainError as error:
        return _render_page(request, partner, error=error)
    response = HttpResponse(
        downloads.report_csv(partner=partner), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{partner.slug}-report.csv"'
    return response


@never_cache
@login_required
@require_GET
def report_pdf(request, slug: str):
    partner = _partner_visible(request, slug)
    try:
        downloads.check_build_rate(partner=partner, kind="report_pdf")
        pdf = downloads.report_pdf(partner=partner)
    except DomainError as error:
        return _render_page(request, partner, error=error)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{partner.slug}-report.pdf"'
    return response
