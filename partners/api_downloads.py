"""Certificates zip JSON API (a ninja Router mounted by cms.api at /api/v1/).

- GET /partners/{slug}/certificates.zip   partner admins of that partner and
  programme staff; everyone else and unknown slugs 404 `not_found`.
  200 application/zip (attachment) when a ready bundle newer than the latest
  credential or membership change exists; otherwise 202
  `{status, done, total, bundle_id}` for the bundle being built (one is queued
  if none is). Poll until 200.
"""

from typing import Literal

from ninja import Router, Schema, Status

from . import downloads
from .api import ErrorOut, partner_visible_or_404
from .models import BundleStatus
from .views_downloads import bundle_file_response

router = Router(tags=["partners"])


class BundleProgressOut(Schema):
    status: Literal["queued", "running", "ready", "failed"]
    done: int
    total: int
    bundle_id: int


@router.get(
    "/partners/{slug}/certificates.zip",
    response={202: BundleProgressOut, 404: ErrorOut},
    summary="Every current member's active certificate PDF as one zip",
)
def partner_certificates_zip(request, slug: str):
    partner = partner_visible_or_404(request.auth, slug)
    bundle = downloads.bundle_request_unless_fresh(partner=partner, requested_by=request.auth)
    bundle.refresh_from_db()  # a synchronous build (small partner, tests) may have finished
    if bundle.status == BundleStatus.READY:
        return bundle_file_response(partner, bundle)
    return Status(202, downloads.bundle_progress(bundle))
