"""Certificates JSON API (a ninja Router mounted by cms.api at /api/v1/).

Public contract (clients depend on it: keep paths and fields):

- GET  /credentials/{id}            public, no sign-in: exactly `{id, holder_name,
                                    certification, issuer, issued_at, expires_at,
                                    status: "active"|"expired"|"revoked", revoked_at,
                                    revocation_reason}`; unknown or malformed ids 404
                                    `credential_not_found` (the same answer for both)
- GET  /me/credentials              the caller's credentials (the same shape plus
                                    `verification_url`, `pdf_url`, `add_to_profile_url`),
                                    newest first, paginated (lms.pagination; the
                                    credential's `id` is the cursor)
- GET  /credentials/{id}/pdf        the certificate PDF (holder, their partner admin,
                                    programme staff; others 404); 410 `credential_revoked`
- GET  /credentials/{id}/openbadge  Open Badges 3.0 `OpenBadgeCredential` (JSON-LD,
                                    signed: eddsa-jcs-2022 Data Integrity proof, key
                                    published at `{SITE_URL}/openbadges/issuer`; see
                                    certificates.openbadges); same access; 410
                                    `credential_revoked`
- POST /credentials/{id}/revoke     programme staff: `{"reason": "..."}` -> the public
                                    shape; 422 `reason_required`, 409 `already_revoked`,
                                    403 for others

`{id}` is the credential's public id (>= 128 random bits), never a database key.
"""

from datetime import datetime
from typing import Literal

from django.http import JsonResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from lms import permissions
from lms.pagination import PageParams, list_page, page_of

from . import openbadges, selectors, services, views

router = Router(tags=["certificates"])


class ErrorOut(Schema):
    detail: str
    code: str


class CredentialPublicOut(Schema):
    id: str
    holder_name: str
    certification: str
    issuer: str
    issued_at: datetime
    expires_at: datetime
    status: Literal["active", "expired", "revoked"]
    revoked_at: datetime | None
    revocation_reason: str | None


class CredentialMineOut(CredentialPublicOut):
    verification_url: str
    pdf_url: str | None
    add_to_profile_url: str


class RevokeIn(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Emptiness is the service's rule (422 `reason_required`), so it is not checked here.
    reason: str = Field("", max_length=services.MAX_REASON_LENGTH)


@router.get(
    "/credentials/{public_id}",
    auth=None,
    response={200: CredentialPublicOut, 404: ErrorOut},
    summary="Verify a credential (public)",
)
def credential_verify(request, public_id: str):
    credential = selectors.credential_get_public(public_id=public_id)
    return selectors.credential_public_payload(credential)


@router.get(
    "/me/credentials",
    response={200: page_of(CredentialMineOut), 400: ErrorOut},
    summary="Your credentials",
)
def credential_list_mine(request, page: Query[PageParams]):
    """Newest first, paginated (the credential's `id` is the cursor)."""
    items, has_more = selectors.credential_page_for_holder(person=request.auth, page=page)
    rows = []
    for item in items:
        credential = item.credential
        rows.append(
            {
                **selectors.credential_public_payload(credential),
                "status": item.status,
                "verification_url": item.verification_url,
                "pdf_url": None
                if item.status == "revoked"
                else reverse("api:credential_pdf", args=[credential.public_id]),
                "add_to_profile_url": item.add_to_profile_url,
            }
        )
    return list_page(rows, has_more)


@router.get(
    "/credentials/{public_id}/pdf",
    response={200: None, 404: ErrorOut, 410: ErrorOut},
    url_name="credential_pdf",
    summary="Download the certificate PDF",
)
def credential_pdf(request, public_id: str):
    credential = selectors.credential_get_for_holder_view(user=request.auth, public_id=public_id)
    selectors.check_pdf_offered(credential)
    return views.pdf_response(credential)


@router.get(
    "/credentials/{public_id}/openbadge",
    response={200: dict, 404: ErrorOut, 410: ErrorOut, 503: ErrorOut},
    summary="Export as a signed Open Badges 3.0 credential (JSON-LD, eddsa-jcs-2022)",
)
def credential_openbadge(request, public_id: str):
    credential = selectors.credential_get_for_holder_view(user=request.auth, public_id=public_id)
    return JsonResponse(
        openbadges.signed_open_badge_credential(credential),
        content_type="application/ld+json",
        json_dumps_params={"indent": 2},
    )


@router.post(
    "/credentials/{public_id}/revoke",
    response={200: CredentialPublicOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Revoke a credential (programme staff; a reason is required)",
)
def credential_revoke(request, public_id: str, payload: RevokeIn):
    credential = selectors.credential_get_public(public_id=public_id)
    permissions.check_can(request.auth, "credential.revoke", credential)
    credential = services.credential_revoke(
        credential=credential, by=request.auth, reason=payload.reason
    )
    return selectors.credential_public_payload(credential)
