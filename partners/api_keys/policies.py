"""Who may use the partner endpoints of the API: people or company API keys.

Contract:
- `authenticate_api_key(request, token)` is registered with
  `lms.api_auth.register_bearer_authenticator` for tokens starting `pak_`
  (PartnersConfig.ready()). A usable key sets `request.api_key` (the ApiKey,
  partner joined) and makes the caller anonymous (`request.user` and
  `request.auth` are AnonymousUser), so nothing written for people grants a
  key anything. A key is accepted only on URLs of its own partner
  (`…/partners/<its slug>/…`); anywhere else, personal endpoints included,
  it gets 404 `not_found`, as if the URL named nothing. For every other
  API caller `request.api_key` is None (lms.api sets it before any view).
- `partner_for_api(request, slug, rule=, scope=)` is how every partner
  endpoint finds its partner: 404 `not_found` for what is not a partner's
  slug, for another partner's key and for a person without the rule
  (lms.permissions); a key without `scope` gets 403 `insufficient_scope`
  (`scope=None`: no key may do this, e.g. managing keys and webhooks); a key
  with a write scope of a suspended partner gets 403 `partner_suspended`
  (a suspended partner's keys keep read access).
"""

import re

from django.contrib.auth.models import AnonymousUser
from django.utils.text import slugify

from lms import permissions
from lms.errors import DomainError, NotFound

from ..models import Partner, PartnerStatus
from . import services

PARTNER_ROUTE = re.compile(r"(^|/)partners/<slug>/")


class InsufficientScope(DomainError):
    status = 403
    code = "insufficient_scope"


def authenticate_api_key(request, token: str):
    key = services.api_key_authenticate(token)
    match = getattr(request, "resolver_match", None)
    if (
        match is None
        or not PARTNER_ROUTE.search(match.route or "")
        or match.kwargs.get("slug") != key.partner.slug
    ):
        raise NotFound("Not found.")
    request.api_key = key
    anonymous = AnonymousUser()
    request.user = anonymous
    return anonymous


def api_key_of(request):
    """The company API key the request authenticated with, or None."""
    return getattr(request, "api_key", None)


def partner_for_api(request, slug: str, *, rule: str, scope: str | None) -> Partner:
    if len(slug) > 80 or slug != slugify(slug):
        raise NotFound("Not found.")
    key = api_key_of(request)
    if key is not None:
        if key.partner.slug != slug:
            raise NotFound("Not found.")
        partner = key.partner
        if scope is None or scope not in key.scopes:
            needed = f"the {scope!r} scope" if scope else "a partner admin, not an API key"
            raise InsufficientScope(f"This API key may not do this: it needs {needed}.")
        if scope not in services.READ_SCOPES and partner.status == PartnerStatus.SUSPENDED:
            raise DomainError(
                "The partner is suspended: its API keys may only read.",
                code="partner_suspended",
                status=403,
            )
        return partner
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.auth, rule, partner):
        raise NotFound("Not found.")
    return partner
