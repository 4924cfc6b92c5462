"""Server-rendered certificate pages: public verification, "My certifications",
PDF download, Open Badges export and the Open Badges issuer profile (public key).
Views only call selectors, services and certificates.openbadges.
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lms.errors import DomainError, NotFound

from . import openbadges, selectors, services


@require_GET
def verify(request, public_id: str):
    """Public: who holds what, issued and valid when, and whether it still stands."""
    try:
        credential = selectors.credential_get_public(public_id=public_id)
    except NotFound as error:
        raise Http404(error.message) from error
    response = render(
        request,
        "certificates/verify.html",
        {
            "credential": credential,
            "public": selectors.credential_public_payload(credential),
            "verification_url": selectors.verification_url(credential.public_id),
        },
    )
    # Status changes (revocation): shared caches must revalidate.
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
@login_required
def my_certifications(request):
    return render(
        request,
        "certificates/my_certifications.html",
        {"items": selectors.credential_list_for_holder(person=request.user)},
    )


def _for_holder(request, public_id: str):
    try:
        return selectors.credential_get_for_holder_view(user=request.user, public_id=public_id)
    except NotFound as error:
        raise Http404(error.message) from error


def pdf_response(credential) -> FileResponse:
    handle = services.credential_pdf_open(credential=credential)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"certificate-{credential.certification.slug}-{credential.public_id}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@login_required
@require_GET
def credential_pdf(request, public_id: str):
    credential = _for_holder(request, public_id)
    try:
        selectors.check_pdf_offered(credential)
    except DomainError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    return pdf_response(credential)


@never_cache
@login_required
@require_GET
def credential_openbadge(request, public_id: str):
    credential = _for_holder(request, public_id)
    try:
        document = openbadges.signed_open_badge_credential(credential)
    except DomainError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    body = json.dumps(document, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/ld+json")
    response["Content-Disposition"] = (
        f'attachment; filename="openbadge-{credential.public_id}.json"'
    )
    return response


@require_GET
def openbadge_issuer(request):
    """Public: the Open Badges issuer Profile with the public key badges are signed with."""
    try:
        profile = openbadges.issuer_profile()
    except DomainError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    response = HttpResponse(
        json.dumps(profile, indent=2, ensure_ascii=False), content_type="application/ld+json"
    )
    response["Cache-Control"] = "public, max-age=3600"
    # Verifiers running in a browser fetch it from other origins.
    response["Access-Control-Allow-Origin"] = "*"
    return response
