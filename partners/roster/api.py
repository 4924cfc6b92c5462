"""Partner members JSON API (a ninja Router mounted by cms.api at /api/v1/).

Public contract (clients depend on it: keep paths and fields). Partner admins of that
partner, programme staff and the partner's company API keys with the scope named
below; everyone else (and unknown slugs) 404 `not_found`, a key without the scope 403
`insufficient_scope` (partners.api_keys.policies):

- GET    /partners/{slug}/members              (`partner:read`) current members, admins
                                               first, then by name, paginated
                                               (lms.pagination): `data` holds `{id,
                                               person_id, email, name, role, started,
                                               courses_completed, attempts_count,
                                               last_attempt, certifications}`; `id` is the
                                               membership id and the cursor
- POST   /partners/{slug}/invitations          (`members:write`) `{"email", "role"?:
                                               "employee"|"admin"}` -> 201 `{id, email,
                                               role, partner, created_at, expires_at}`
                                               (the link goes by e-mail only);
                                               422 `invalid_email`/`validation_error`,
                                               409 `duplicate_invitation`, `already_member`
                                               (a member of this partner only), 403
                                               `partner_not_approved` (applicant or
                                               suspended partner), 429
                                               `too_many_requests` (INVITATION_DAILY_LIMIT
                                               per day; Retry-After)
- PATCH  /partners/{slug}/members/{member_id}  `{"role"}` -> the member; 409 `last_admin`
                                               (people only: no key may change roles)
- DELETE /partners/{slug}/members/{member_id}  (`members:write`) ends the membership
                                               -> 204; 404 `member_not_found`, 409
                                               `last_admin`
"""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict

from lms.pagination import PageParams, list_page, page_of

from ..api_keys.policies import api_key_of, partner_for_api
from ..invitations import services as invitations
from ..models import Partner
from . import selectors as roster

router = Router(tags=["partners"])

MAX_ID = 2**63 - 1


class ErrorOut(Schema):
    detail: str
    code: str


class CompletedCourseOut(Schema):
    title: str
    slug: str
    completed_at: datetime


class LastAttemptOut(Schema):
    exam: str
    passed: bool | None
    score_percent: Decimal | None
    finished_at: datetime | None


class CertificationOut(Schema):
    certification: str
    certification_slug: str
    status: Literal["active", "expired", "revoked"]
    issued_at: datetime
    expires_at: datetime
    id: str


class MemberOut(Schema):
    id: int
    person_id: int
    email: str
    name: str
    role: Literal["employee", "admin"]
    started: datetime
    courses_completed: list[CompletedCourseOut]
    attempts_count: int
    last_attempt: LastAttemptOut | None
    certifications: list[CertificationOut]


class InvitationIn(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Address validity is the service's rule (422 `invalid_email`).
    email: str = Field(..., max_length=254)
    role: Literal["employee", "admin"] = "employee"


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    partner: str
    created_at: datetime
    expires_at: datetime


class RoleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    role: Literal["employee", "admin"]


def _partner_for(request, slug: str, scope: str | None) -> Partner:
    return partner_for_api(request, slug, rule="partner.manage_members", scope=scope)


def _acting_person(request):
    """Who a write is recorded against: the person, or the person who made the key."""
    key = api_key_of(request)
    return key.created_by if key is not None else request.auth


def _actor_label(request) -> str:
    key = api_key_of(request)
    if key is not None:
        return f"API key {key.prefix}… ({key.name})"
    return getattr(request.auth, "email", "staff")


def _member_payload(row: roster.RosterRow) -> dict:
    membership = row.membership
    return {
        "id": membership.pk,
        "person_id": membership.person_id,
        "email": membership.person.email,
        "name": membership.person.legal_name,
        "role": membership.role,
        "started": membership.started,
        "courses_completed": [
            {"title": c.title, "slug": c.slug, "completed_at": c.completed_at} for c in row.courses
        ],
        "attempts_count": row.attempts_count,
        "last_attempt": (
            {
                "exam": row.last_attempt.exam,
                "passed": row.last_attempt.passed,
                "score_percent": row.last_attempt.score_percent,
                "finished_at": row.last_attempt.finished_at,
            }
            if row.last_attempt
            else None
        ),
        "certifications": [
            {
                "certification": c.certification,
                "certification_slug": c.certification_slug,
                "status": c.status,
                "issued_at": c.issued_at,
                "expires_at": c.expires_at,
                "id": c.public_id,
            }
            for c in row.credentials
        ],
    }


@router.get(
    "/partners/{slug}/members",
    response={200: page_of(MemberOut), 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Current members of a partner with their records",
)
def members_list(request, slug: str, page: Query[PageParams]):
    partner = _partner_for(request, slug, "partner:read")
    rows, has_more = roster.partner_roster_page(partner=partner, page=page)
    return list_page([_member_payload(row) for row in rows], has_more)


@router.post(
    "/partners/{slug}/invitations",
    response={
        201: InvitationOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
    },
    summary="Invite someone by e-mail (single-use link, expires after 7 days)",
)
def invitation_create(request, slug: str, payload: InvitationIn):
    partner = _partner_for(request, slug, "members:write")
    invitation, _token = invitations.invitation_create(
        partner=partner, email=payload.email, role=payload.role, created_by=_acting_person(request)
    )
    return Status(
        201,
        {
            "id": invitation.pk,
            "email": invitation.email,
            "role": invitation.role,
            "partner": partner.slug,
            "created_at": invitation.created_at,
            "expires_at": invitation.expires_at,
        },
    )


@router.patch(
    "/partners/{slug}/members/{member_id}",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Promote to partner admin or demote to employee",
)
def member_role_set(
    request, slug: str, payload: RoleIn, member_id: int = Path(..., ge=1, le=MAX_ID)
):
    partner = _partner_for(request, slug, None)
    membership = invitations.member_get(partner=partner, member_id=member_id)
    invitations.member_role_set(partner=partner, membership=membership, role=payload.role)
    row = roster.partner_roster_row(partner=partner, member_id=member_id)
    return Status(200, _member_payload(row))


@router.delete(
    "/partners/{slug}/members/{member_id}",
    response={204: None, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="End a membership (the person keeps their certifications)",
)
def member_end(request, slug: str, member_id: int = Path(..., ge=1, le=MAX_ID)):
    partner = _partner_for(request, slug, "members:write")
    membership = invitations.member_get(partner=partner, member_id=member_id)
    invitations.member_end(
        partner=partner,
        membership=membership,
        reason=f"Removed by {_actor_label(request)} (API)"[:200],
    )
    return Status(204, None)
