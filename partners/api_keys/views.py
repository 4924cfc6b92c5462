"""The partner portal's API keys page: list, create (the secret shown once), revoke.

Partner admins of the partner and programme staff; everyone else gets 404.
A new key's secret is rendered in the answer to the POST that made it and
nowhere else (never stored, never put in the session or a redirect).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from lms import permissions
from lms.errors import DomainError

from ..models import Partner
from . import selectors, services
from .forms import ApiKeyForm

LIST_LIMIT = 200  # a partner holds at most 50 usable keys; older revoked ones beyond are not shown


def _partner_for_admin(request, slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.user, "partner.manage_members", partner):
        raise Http404("No such partner.")
    return partner


def _render(request, partner, *, form=None, created=None, status=200):
    now = timezone.now()
    keys = list(selectors.api_key_list_for_partner(partner=partner)[:LIST_LIMIT])
    return render(
        request,
        "partners/api_keys/page.html",
        {
            "partner": partner,
            "rows": [(key, key.state(now)) for key in keys],
            "form": form or ApiKeyForm(),
            "created": created,
            "key_limit": services.MAX_ACTIVE_KEYS_PER_PARTNER,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_keys_page(request, slug: str):
    partner = _partner_for_admin(request, slug)
    if request.method == "GET":
        return _render(request, partner)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _render(request, partner, form=form, status=400)
    try:
        key, plain = services.api_key_create(
            partner=partner,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
            created_by=request.user,
        )
    except DomainError as error:
        field = {"invalid_api_key_name": "name", "invalid_expiry": "expires_on"}.get(error.code)
        field = field or ("scopes" if "scope" in error.code else None)
        form.add_error(field, error.message)
        return _render(request, partner, form=form, status=error.status)
    response = _render(request, partner, created={"key": key, "secret": plain}, status=201)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
@require_POST
def api_key_revoke(request, slug: str, key_id: int):
    partner = _partner_for_admin(request, slug)
    try:
        key = selectors.api_key_get(partner=partner, key_id=key_id)
    except DomainError as error:
        raise Http404(error.message) from error
    services.api_key_revoke(key=key, reason=f"Revoked by {request.user.email}")
    messages.success(request, f"The key “{key.name}” ({key.prefix}…) is revoked.")
    return redirect("partner_api_keys:page", slug=partner.slug)
