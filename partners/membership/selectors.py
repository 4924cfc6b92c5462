"""Reads about partners and memberships.

Contract: functions here never write. Each returns a queryset or an object
with the related rows a caller needs already joined, so callers do not add
queries per row. "Current" means `ended` is empty.
"""

from typing import Any

from django.db.models import QuerySet

from lms.types import AnyUser

from ..models import Membership, Partner


def membership_current_for(user: AnyUser | None) -> Membership | None:
    """The person's current membership with its partner, or None (also for anonymous users)."""
    if user is None or not user.is_authenticated:
        return None
    return (
        Membership.objects.select_related("partner")
        .filter(person_id=user.pk, ended__isnull=True)
        .first()
    )


def me_partner_fields(user: AnyUser | None) -> dict[str, Any]:
    """The partner part of `GET /api/v1/me`: `partner` {slug, name} and `partner_role`."""
    membership = membership_current_for(user)
    if membership is None:
        return {"partner": None, "partner_role": None}
    return {
        "partner": {"slug": membership.partner.slug, "name": membership.partner.name},
        "partner_role": membership.role,
    }


def partner_members_current(partner: Partner) -> QuerySet[Membership]:
    """Current memberships of `partner` with the person, admins first, then by name."""
    return (
        Membership.objects.select_related("person")
        .filter(partner=partner, ended__isnull=True)
        .order_by("role", "person__legal_name", "person__email")
    )


def partner_admins_current(partner: Partner) -> QuerySet[Membership]:
    """Current admin memberships of `partner` with the person."""
    return partner_members_current(partner).filter(role=Membership.Role.ADMIN)


def partner_people_ids_current(partner: Partner) -> QuerySet[Membership, int]:
    """Ids of the partner's current members (a flat values queryset, usable as a subquery)."""
    return Membership.objects.filter(partner=partner, ended__isnull=True).values_list(
        "person_id", flat=True
    )
