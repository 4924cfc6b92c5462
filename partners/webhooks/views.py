"""Webhook pages of the partner portal (partner admins of that partner and staff;
everyone else and unknown slugs or ids 404). Views only call the services.

- GET/POST /partners/<slug>/webhooks/                 the endpoints; register one (the
                                                      secret is shown on the answer, once)
- GET      /partners/<slug>/webhooks/<id>/            one endpoint and its deliveries
                                                      (?status=&event_type=, 25 a page)
- POST     …/<id>/settings/ | enabled/ | rotate/ | test/ | delete/
- POST     …/<id>/deliveries/<delivery_id>/retry/     send a delivery again
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from lms import permissions
from lms.errors import DomainError
from lms.pagination import InvalidCursor, PageParams, paginate

from ..models import Partner, WebhookEndpoint
from . import events, selectors, services
from .forms import DeliveryFilterForm, EndpointForm, EndpointSettingsForm

PAGE_SIZE = 25


def _partner(request, slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.user, "partner.manage_webhooks", partner):
        raise Http404("No such partner.")
    return partner


def _endpoint(partner: Partner, endpoint_id: int) -> WebhookEndpoint:
    endpoint = selectors.endpoint_get(partner, endpoint_id)
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def _render_list(request, partner, *, form=None, created=None, secret=None, status=200):
    context = {
        "partner": partner,
        "endpoints": list(selectors.endpoints_for(partner).order_by(*selectors.ENDPOINT_ORDER)),
        "form": form or EndpointForm(initial={"events": list(events.EVENT_TYPES)}),
        "created": created,
        "secret": secret,
    }
    return render(request, "partners/webhooks/list.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def endpoint_list(request, slug: str):
    partner = _partner(request, slug)
    if request.method == "GET":
        return _render_list(request, partner)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _render_list(request, partner, form=form, status=400)
    try:
        endpoint, secret = services.endpoint_create(
            partner=partner,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            by=request.user,
        )
    except DomainError as error:
        field = (
            "url"
            if error.code in ("invalid_url", "https_required", "address_refused", "host_not_found")
            else None
        )
        field = "events" if error.code in ("unknown_event", "events_required") else field
        form.add_error(field, error.message)
        return _render_list(request, partner, form=form, status=error.status)
    # Rendered, not redirected: the secret is shown in this answer only.
    return _render_list(request, partner, created=endpoint, secret=secret, status=201)


def _render_detail(request, partner, endpoint, *, secret=None, settings_form=None, status=200):
    filters = DeliveryFilterForm(request.GET or None)
    deliveries, has_more, cursor_error = [], False, None
    chosen = {"status": "", "event_type": "", "starting_after": None}
    if filters.is_bound and not filters.is_valid():
        status = 400
    else:
        if filters.is_bound:
            chosen.update({k: v for k, v in filters.cleaned_data.items() if v not in (None, "")})
        page = PageParams(
            limit=PAGE_SIZE,
            starting_after=str(chosen["starting_after"]) if chosen["starting_after"] else None,
        )
        rows = selectors.deliveries_for(
            endpoint, status=chosen["status"] or None, event_type=chosen["event_type"] or None
        )
        try:
            deliveries, has_more = paginate(rows, page, order=selectors.DELIVERY_ORDER)
        except InvalidCursor as error:
            cursor_error, status = error.message, error.status
    context = {
        "partner": partner,
        "endpoint": endpoint,
        "secret": secret,
        "settings_form": settings_form
        or EndpointSettingsForm(
            initial={"description": endpoint.description, "events": endpoint.events}
        ),
        "filters": filters if filters.is_bound else DeliveryFilterForm(),
        "chosen": chosen,
        "deliveries": deliveries,
        "has_more": has_more,
        "cursor_error": cursor_error,
        "next_cursor": deliveries[-1].pk if deliveries and has_more else None,
    }
    return render(request, "partners/webhooks/detail.html", context, status=status)


@never_cache
@login_required
def endpoint_detail(request, slug: str, endpoint_id: int):
    partner = _partner(request, slug)
    return _render_detail(request, partner, _endpoint(partner, endpoint_id))


def _done(request, partner, endpoint, message: str):
    messages.success(request, message)
    return redirect("partner_webhooks:detail", slug=partner.slug, endpoint_id=endpoint.pk)


def _refused(request, partner, endpoint, error: DomainError):
    messages.error(request, error.message)
    return redirect("partner_webhooks:detail", slug=partner.slug, endpoint_id=endpoint.pk)


@never_cache
@login_required
@require_POST
def endpoint_settings(request, slug: str, endpoint_id: int):
    partner = _partner(request, slug)
    endpoint = _endpoint(partner, endpoint_id)
    form = EndpointSettingsForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, partner, endpoint, settings_form=form, status=400)
    try:
        services.endpoint_update(
            endpoint=endpoint,
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
        )
    except DomainError as error:
        form.add_error("events" if "event" in error.code else None, error.message)
        return _render_detail(request, partner, endpoint, settings_form=form, status=error.status)
    return _done(request, partner, endpoint, "Settings saved.")


@never_cache
@login_required
@require_POST
def endpoint_enabled(request, slug: str, endpoint_id: int):
    partner = _partner(request, slug)
    endpoint = _endpoint(partner, endpoint_id)
    enable = request.POST.get("enabled") == "1"
    try:
        services.endpoint_update(endpoint=endpoint, enabled=enable)
    except DomainError as error:
        return _refused(request, partner, endpoint, error)
    return _done(
        request, partner, endpoint, "Endpoint enabled." if enable else "Endpoint disabled."
    )


@never_cache
@login_required
@require_POST
def endpoint_rotate(request, slug: str, endpoint_id: int):
    partner = _partner(request, slug)
    endpoint, secret = services.endpoint_update(
        endpoint=_endpoint(partner, endpoint_id), rotate_secret=True
    )
    # Rendered, not redirected: the new secret is shown in this answer only.
    return _render_detail(request, partner, endpoint, secret=secret)


@never_cache
@login_required
@require_POST
def endpoint_test(request, slug: str, endpoint_id: int):
    partner = _partner(request, slug)
    endpoint = _endpoint(partner, endpoint_id)
    try:
        delivery = services.endpoint_ping(endpoint=endpoint)
    except DomainError as error:
        return _refused(request, partner, endpoint, error)
    return _done(request, partner, endpoint, f"Test event {delivery.event.public_id} queued.")


@never_cache
@login_required
@require_POST
def endpoint_delete(request, slug: str, endpoint_id: int):
    partner = _partner(request, slug)
    endpoint = _endpoint(partner, endpoint_id)
    services.endpoint_delete(endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint.url} deleted.")
    return redirect("partner_webhooks:list", slug=partner.slug)


@never_cache
@login_required
@require_POST
def delivery_retry(request, slug: str, endpoint_id: int, delivery_id: int):
    partner = _partner(request, slug)
    endpoint = _endpoint(partner, endpoint_id)
    delivery = selectors.delivery_get(endpoint, delivery_id)
    if delivery is None:
        raise Http404("No such delivery.")
    try:
        services.delivery_retry(delivery=delivery)
    except DomainError as error:
        return _refused(request, partner, endpoint, error)
    return _done(
        request, partner, endpoint, f"Delivery of {delivery.event.public_id} queued again."
    )
