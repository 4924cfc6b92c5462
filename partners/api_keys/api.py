"""Company API keys JSON API (a ninja Router mounted by cms.api at /api/v1/).

Partner admins of that partner (session or personal token) and programme
staff; everyone else and unknown slugs 404 `not_found`; a company API key
gets 403 `insufficient_scope` (keys do not manage keys).

- POST   /partners/{slug}/api-keys        `{name, scopes, expires_at?}` -> 201 `{id, name,
                                          key, prefix, scopes, created_at, expires_at}`;
                                          `key` is shown only this once. 422
                                          `validation_error` (unknown scope, bad fields),
                                          `invalid_expiry`, 409 `too_many_api_keys`
- GET    /partners/{slug}/api-keys        every key without its secret, newest first,
                                          paginated (lms.pagination)
- DELETE /partners/{slug}/api-keys/{id}   revokes the key -> 204 (again: 204); 404
                                          `not_found` for another partner's or no key

Scopes: `partner:read` (status, members with their credentials),
`certificates:read` (certificate PDFs and the zip, which it may start),
`members:write` (invite, end a membership).
"""

from datetime import datetime
from typing import Literal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import field_validator

from lms.api import InputSchema, Text
from lms.pagination import PageParams, list_page, page_of, paginate

from ..models import ApiKey
from . import selectors, services
from .policies import partner_for_api

router = Router(tags=["partners"])

MAX_ID = 2**63 - 1
MANAGE = "partner.manage_members"

Scope = Literal["partner:read", "certificates:read", "members:write"]


class ErrorOut(Schema):
    detail: str
    code: str


class ApiKeyIn(InputSchema):
    name: Text = Field(..., min_length=1, max_length=services.NAME_MAX_LENGTH)
    scopes: list[Scope] = Field(..., min_length=1, max_length=len(services.SCOPES))
    # Read as bounded text, then parsed: a date-time with a time zone, in the future.
    expires_at: str | None = Field(
        None,
        max_length=40,
        description="When the key stops working (ISO 8601 with a time zone); "
        "leave out for a key that works until revoked.",
        json_schema_extra={"format": "date-time"},
    )

    @field_validator("expires_at")
    @classmethod
    def _date_time(cls, value: str | None) -> str | None:
        if value is not None and parse_datetime(value) is None:
            raise ValueError("must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z")
        return value

    def expires(self) -> datetime | None:
        return None if self.expires_at is None else parse_datetime(self.expires_at)


class ApiKeyCreatedOut(Schema):
    id: int
    name: str
    key: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[Scope]
    status: Literal["active", "expired", "revoked"]
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def api_key_payload(key: ApiKey, now: datetime) -> dict:
    return {
        "id": key.pk,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "status": key.state(now),
        "created_by": key.created_by.email if key.created_by_id else None,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


@router.post(
    "/partners/{slug}/api-keys",
    response={201: ApiKeyCreatedOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Create a company API key (the key is shown only in this answer)",
)
def api_key_create(request, slug: str, payload: ApiKeyIn):
    partner = partner_for_api(request, slug, rule=MANAGE, scope=None)
    key, plain = services.api_key_create(
        partner=partner,
        name=payload.name,
        scopes=payload.scopes,
        expires_at=payload.expires(),
        created_by=request.auth,
    )
    return Status(
        201,
        {
            "id": key.pk,
            "name": key.name,
            "key": plain,
            "prefix": key.prefix,
            "scopes": key.scopes,
            "created_at": key.created_at,
            "expires_at": key.expires_at,
        },
    )


@router.get(
    "/partners/{slug}/api-keys",
    response={200: page_of(ApiKeyOut), 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="The partner's API keys (never their secrets), newest first",
)
def api_key_list(request, slug: str, page: Query[PageParams]):
    partner = partner_for_api(request, slug, rule=MANAGE, scope=None)
    rows, has_more = paginate(
        selectors.api_key_list_for_partner(partner=partner), page, order=("-created_at", "-id")
    )
    now = timezone.now()
    return list_page([api_key_payload(key, now) for key in rows], has_more)


@router.delete(
    "/partners/{slug}/api-keys/{key_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut},
    summary="Revoke a company API key",
)
def api_key_revoke(request, slug: str, key_id: int = Path(..., ge=1, le=MAX_ID)):
    partner = partner_for_api(request, slug, rule=MANAGE, scope=None)
    key = selectors.api_key_get(partner=partner, key_id=key_id)
    services.api_key_revoke(key=key, reason=f"Revoked by {request.auth.email}")
    return Status(204, None)
