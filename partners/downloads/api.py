"""Certificates zip JSON API (a ninja Router mounted by cms.api at /api/v1/).

Partner admins of that partner, programme staff and the partner's API keys
with `certificates:read` (other keys: 403 `insufficient_scope`); everyone else
and unknown slugs 404 `not_found`. A GET never starts anything:

- POST /partners/{slug}/certificates.zip   starts a build: 202 `{bundle_id,
  status, done, total}`. A fresh bundle (ready or being built, newer than the
  latest credential or membership change) is returned instead of building
  another. Starting a build counts against PARTNER_BUILD_RATE_LIMIT per hour:
  429 `too_many_requests` with Retry-After.
- GET  /partners/{slug}/certificates.zip   the latest bundle's progress: 200
  `{bundle_id, status, done, total, url}`; `url` is null until it is ready,
  then the zip's address (below). 404 `not_found` when none was ever started.
- GET  /partners/{slug}/bundles/{bundle_id}/certificates.zip   the ready zip
  (application/zip, attachment); 404 `not_found` otherwise.
- GET  /partners/{slug}/credentials/{public_id}/pdf   the certificate PDF of a
  current member's active credential (the `id` of the members list's
  `certifications`); 404 `not_found` for anyone else's.
"""

from typing import Literal

from ninja import Path, Router, Schema, Status

from certificates import views as certificate_views
from lms.errors import NotFound

from ..models import BundleStatus
from ..status.api import ErrorOut, partner_visible_or_404
from . import services as downloads
from .views import bundle_file_response

router = Router(tags=["partners"])

MAX_ID = 2**63 - 1
SCOPE = "certificates:read"


class BundleProgressOut(Schema):
    bundle_id: int
    status: Literal["queued", "running", "ready", "failed"]
    done: int
    total: int


class BundleStateOut(BundleProgressOut):
    url: str | None


def _file_path(slug: str, bundle_id: int) -> str:
    return f"/api/v1/partners/{slug}/bundles/{bundle_id}/certificates.zip"


@router.post(
    "/partners/{slug}/certificates.zip",
    response={202: BundleProgressOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="Start building every current member's active certificate PDF as one zip",
)
def partner_certificates_zip_start(request, slug: str):
    partner = partner_visible_or_404(request, slug, scope=SCOPE)
    bundle, _started = downloads.bundle_start(partner=partner, requested_by=request.auth)
    bundle.refresh_from_db()  # a synchronous build (small partner, tests) may have finished
    return Status(202, downloads.bundle_progress(bundle))


@router.get(
    "/partners/{slug}/certificates.zip",
    response={200: BundleStateOut, 403: ErrorOut, 404: ErrorOut},
    summary="Progress of the latest certificates zip (never starts one)",
)
def partner_certificates_zip_state(request, slug: str):
    partner = partner_visible_or_404(request, slug, scope=SCOPE)
    bundle = downloads.bundle_latest(partner=partner)
    if bundle is None:
        raise NotFound("No certificates zip was started for this partner; POST to start one.")
    ready = bundle.status == BundleStatus.READY
    url = request.build_absolute_uri(_file_path(partner.slug, bundle.pk)) if ready else None
    return {**downloads.bundle_progress(bundle), "url": url}


@router.get(
    "/partners/{slug}/bundles/{bundle_id}/certificates.zip",
    response={403: ErrorOut, 404: ErrorOut},
    summary="Download a ready certificates zip",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The zip (attachment)",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def partner_certificates_zip_file(request, slug: str, bundle_id: int = Path(..., ge=1, le=MAX_ID)):
    partner = partner_visible_or_404(request, slug, scope=SCOPE)
    bundle = downloads.bundle_get(partner=partner, bundle_id=bundle_id)
    if bundle is None or bundle.status != BundleStatus.READY:
        raise NotFound("No such ready certificates zip.")
    return bundle_file_response(partner, bundle)


@router.get(
    "/partners/{slug}/credentials/{public_id}/pdf",
    response={403: ErrorOut, 404: ErrorOut},
    summary="Download a current member's certificate PDF",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The certificate PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def partner_credential_pdf(request, slug: str, public_id: str = Path(..., max_length=64)):
    partner = partner_visible_or_404(request, slug, scope=SCOPE)
    credential = downloads.bundle_credentials(partner=partner).filter(public_id=public_id).first()
    if credential is None:
        raise NotFound("No such certificate of a current member.")
    return certificate_views.pdf_response(credential)
