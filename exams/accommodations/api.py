"""Accommodations staff API (a ninja Router mounted by cms.api at /api/v1/).

Programme staff only (403 `permission_denied` for everyone else):

- GET   /accommodations?person=<e-mail>&exam=<slug>   grants, newest first, paginated
                                        (lms.pagination; the grant's id is the cursor)
- POST  /accommodations                 `{person, exam (slug or null: all exams),
                                        extra_time_percent (1-200 or null), breaks,
                                        break_minutes, ends_on, reason}` -> 201 the grant
- GET   /accommodations/{id}            the grant with its `history` (newest first)
- PATCH /accommodations/{id}            any of the fields above but `person` -> the grant
- POST  /accommodations/{id}/revoke     -> the grant; 409 `already_revoked`

A bad grant is 422 with the first problem's code (`invalid_extra_time`,
`too_many_breaks`, `invalid_break_length`, `break_too_long`,
`nothing_granted`, `end_date_in_past`, `reason_required`) and `errors` listing
every problem; an unknown person 422 `person_not_found`, exam 422
`exam_not_found`; changing a revoked grant 409 `accommodation_revoked`.
Numbers may be sent only as JSON integers: `50.5` or `"50"` is
`invalid_extra_time`.
"""

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import ConfigDict, JsonValue, field_validator

from lms.errors import DomainError, PermissionDenied
from lms.models import User
from lms.pagination import PageParams, list_page, page_of
from lms.permissions import is_programme_staff

from ..models import Accommodation, Exam
from . import selectors, services

router = Router(tags=["accommodations"])

MAX_ID = 2**63 - 1
GrantId = Path(..., ge=1, le=MAX_ID)


class ErrorOut(Schema):
    detail: str
    code: str


class ProblemOut(Schema):
    # The shape of every 422's `errors` (lms.api_docs), plus the field by name.
    loc: list[str]
    msg: str
    type: str
    field: str
    code: str
    message: str


class InvalidOut(ErrorOut):
    errors: list[ProblemOut] = []


class AccommodationEventOut(Schema):
    action: str
    actor: str | None
    at: datetime
    snapshot: dict[str, Any]
    changes: dict[str, Any]


class AccommodationOut(Schema):
    id: int
    person: str
    exam: str | None
    extra_time_percent: int
    breaks: int
    break_minutes: int
    ends_on: date
    reason: str
    revoked_at: datetime | None
    in_force: bool
    created_at: datetime


class AccommodationDetailOut(AccommodationOut):
    history: list[AccommodationEventOut]


# Read as bounded text, then parsed (YYYY-MM-DD).
EndsOn = Field(
    None,
    max_length=10,
    description="The last day the grant applies (YYYY-MM-DD), today or later.",
    json_schema_extra={"format": "date"},
)


def _date(value: str | None) -> str | None:
    if value is not None and parse_date(value) is None:
        raise ValueError("must be a date, YYYY-MM-DD")
    return value


def _ends_on(value: str | None) -> date | None:
    return None if value is None else parse_date(value)


class GrantIn(Schema):
    model_config = ConfigDict(extra="forbid")

    person: str = Field(..., min_length=3, max_length=254, description="The person's e-mail.")
    exam: str | None = Field(None, max_length=80, description="An exam's slug; null: all exams.")
    # Checked by the rules (stable codes), not by the schema.
    extra_time_percent: JsonValue = None
    breaks: JsonValue = 0
    break_minutes: JsonValue = None
    ends_on: str | None = EndsOn
    reason: str = Field("", max_length=services.MAX_REASON_LENGTH)

    _valid_date = field_validator("ends_on")(_date)


class ChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    exam: str | None = Field(None, max_length=80)
    extra_time_percent: JsonValue = None
    breaks: JsonValue = None
    break_minutes: JsonValue = None
    ends_on: str | None = EndsOn
    reason: str | None = Field(None, max_length=services.MAX_REASON_LENGTH)

    _valid_date = field_validator("ends_on")(_date)


class ListFilter(Schema):
    person: str | None = Field(None, max_length=254)
    exam: str | None = Field(None, max_length=80)


def _check_staff(user) -> None:
    if not is_programme_staff(user):
        raise PermissionDenied("Only programme staff manage accommodations.")


def _person(email: str) -> User:
    person = User.objects.filter(email__iexact=email.strip()).first()
    if person is None:
        raise DomainError("Nobody has this e-mail address.", code="person_not_found", status=422)
    return person


def _exam(slug: str | None) -> Exam | None:
    if slug is None:
        return None
    exam = Exam.objects.filter(slug=slug).first()
    if exam is None:
        raise DomainError("No exam with this slug.", code="exam_not_found", status=422)
    return exam


def _payload(grant: Accommodation) -> dict[str, Any]:
    return {
        "id": grant.pk,
        "person": grant.person.email,
        "exam": grant.exam.slug if grant.exam is not None else None,
        "extra_time_percent": grant.extra_time_percent,
        "breaks": grant.breaks,
        "break_minutes": grant.break_minutes,
        "ends_on": grant.ends_on,
        "reason": grant.reason,
        "revoked_at": grant.revoked_at,
        "in_force": grant.revoked_at is None and grant.ends_on >= timezone.localdate(),
        "created_at": grant.created_at,
    }


def _detail(grant: Accommodation) -> dict[str, Any]:
    return {
        **_payload(grant),
        "history": [
            {
                "action": event.action,
                "actor": event.actor.email if event.actor is not None else None,
                "at": event.at,
                "snapshot": event.snapshot,
                "changes": event.changes,
            }
            for event in selectors.accommodation_history(accommodation=grant)
        ],
    }


@router.get(
    "/accommodations",
    response={200: page_of(AccommodationOut), 400: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Accommodations granted (programme staff)",
)
def accommodation_list(request, page: Query[PageParams], filters: Query[ListFilter]):
    _check_staff(request.auth)
    grants, has_more = selectors.accommodation_page(
        page=page,
        person=_person(filters.person) if filters.person else None,
        exam=_exam(filters.exam),
    )
    return list_page([_payload(grant) for grant in grants], has_more)


@router.post(
    "/accommodations",
    response={201: AccommodationDetailOut, 403: ErrorOut, 422: InvalidOut},
    summary="Grant extra time and/or rest breaks (programme staff)",
)
def accommodation_grant(request, payload: GrantIn):
    _check_staff(request.auth)
    grant = services.accommodation_grant(
        by=request.auth,
        person=_person(payload.person),
        exam=_exam(payload.exam),
        extra_time_percent=payload.extra_time_percent,
        breaks=payload.breaks,
        break_minutes=payload.break_minutes,
        ends_on=_ends_on(payload.ends_on),
        reason=payload.reason,
    )
    return Status(201, _detail(grant))


@router.get(
    "/accommodations/{grant_id}",
    response={200: AccommodationDetailOut, 403: ErrorOut, 404: ErrorOut},
    summary="One accommodation with its history (programme staff)",
)
def accommodation_get(request, grant_id: int = GrantId):
    _check_staff(request.auth)
    return _detail(selectors.accommodation_get(accommodation_id=grant_id))


@router.patch(
    "/accommodations/{grant_id}",
    response={
        200: AccommodationDetailOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: InvalidOut,
    },
    summary="Change an accommodation (programme staff; kept in its history)",
)
def accommodation_change(request, payload: ChangeIn, grant_id: int = GrantId):
    _check_staff(request.auth)
    grant = selectors.accommodation_get(accommodation_id=grant_id)
    sent = payload.model_fields_set
    grant = services.accommodation_change(
        by=request.auth,
        accommodation=grant,
        exam=_exam(payload.exam) if "exam" in sent else grant.exam,
        extra_time_percent=payload.extra_time_percent
        if "extra_time_percent" in sent
        else (grant.extra_time_percent or None),
        breaks=payload.breaks if "breaks" in sent else grant.breaks,
        break_minutes=payload.break_minutes if "break_minutes" in sent else grant.break_minutes,
        ends_on=_ends_on(payload.ends_on) if "ends_on" in sent else grant.ends_on,
        reason=payload.reason if payload.reason is not None else grant.reason,
    )
    return _detail(grant)


@router.post(
    "/accommodations/{grant_id}/revoke",
    response={200: AccommodationDetailOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Revoke an accommodation now (programme staff)",
)
def accommodation_revoke(request, grant_id: int = GrantId):
    _check_staff(request.auth)
    grant = services.accommodation_revoke(
        by=request.auth, accommodation=selectors.accommodation_get(accommodation_id=grant_id)
    )
    return _detail(grant)
