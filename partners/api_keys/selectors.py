"""Reads of company API keys (one query each)."""

from django.db.models import QuerySet

from lms.errors import NotFound

from ..models import ApiKey, Partner

MAX_ID = 2**63 - 1


def api_key_list_for_partner(*, partner: Partner) -> QuerySet[ApiKey]:
    """Every key of the partner, revoked and expired ones too, newest first."""
    return (
        ApiKey.objects.filter(partner=partner)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )


def api_key_get(*, partner: Partner, key_id: int) -> ApiKey:
    """The partner's key `key_id`; another partner's or an unknown id is NotFound."""
    key = None
    if 0 < key_id <= MAX_ID:
        key = ApiKey.objects.filter(partner=partner, pk=key_id).first()
    if key is None:
        raise NotFound("No such API key.", code="not_found")
    return key
