"""Directory pages: the public directory, a partner's verified page, its
badge and logo, and the partner admins' profile page (with the badge's
embed snippet).

Views translate HTTP to partners.directory selectors and services. The
public pages show no people and no counts of people. The profile page
answers 404 to everyone but the partner's current admins and programme staff.
"""

import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.utils.http import parse_etags
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from lms import permissions
from lms.errors import DomainError

from ..models import Partner, Track
from . import selectors, services
from .forms import DirectoryFilterForm, ProfileForm

DIRECTORY_PAGE_SIZE = 20


@require_safe
def directory(request):
    countries = selectors.directory_countries()
    form = DirectoryFilterForm(request.GET or None, countries=countries)
    filters = {"track": None, "country": None, "q": None}
    status = 200
    if form.is_bound:
        if form.is_valid():
            filters = {k: form.cleaned_data[k] or None for k in filters}
        else:
            status = 400
    partners = selectors.directory_partners(**filters).order_by("name", "pk")
    paginator = Paginator(partners, DIRECTORY_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "partners/directory/directory.html",
        {
            "form": form,
            "page_obj": page,
            "entries": selectors.directory_entries(list(page.object_list)),
            "query": query.urlencode(),
        },
        status=status,
    )


@require_safe
def verified(request, slug: str):
    public = selectors.public_verification(slug=slug)
    if public is None:
        raise Http404("No such partner.")
    return render(
        request,
        "partners/directory/verified.html",
        {
            "public": public,
            "badge_url": reverse("partner_directory:badge", args=[slug]),
        },
    )


def _not_found_svg() -> HttpResponse:
    return HttpResponse("Not found.", status=404, content_type="text/plain; charset=utf-8")


TRACKS = frozenset(Track.values)
BADGE_CACHE_CONTROL = f"public, max-age={selectors.BADGE_CACHE_SECONDS}"


@require_safe
def badge(request, slug: str):
    """The partner's live badge; from the cache, so no query on a hit (see
    docs/benchmarks.md: the badge against the bare view)."""
    track = request.GET.get("track") or None
    if track is not None and track not in TRACKS:
        return HttpResponse(
            f"Unknown track; use one of: {', '.join(Track.values)}.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    found = selectors.badge_svg(slug=slug, track=track)
    if found is None:
        return _not_found_svg()
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and found.etag in parse_etags(if_none_match):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(found.svg, content_type="image/svg+xml; charset=utf-8")
    response["ETag"] = found.etag
    response["Cache-Control"] = BADGE_CACHE_CONTROL
    return response


@require_safe
def logo(request, slug: str, name: str):
    partner = Partner.objects.filter(slug=slug).only("pk", "logo").first()
    if partner is None or not partner.logo or partner.logo.name.rsplit("/", 1)[-1] != name:
        raise Http404("No such logo.")
    content_type = mimetypes.guess_type(name)[0]
    if content_type not in ("image/png", "image/jpeg"):
        raise Http404("No such logo.")
    try:
        handle = partner.logo.open("rb")
    except OSError:
        raise Http404("No such logo.") from None
    response = FileResponse(handle, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    # The name changes with every upload, so the file under it never does.
    patch_cache_control(response, public=True, max_age=86400, immutable=True)
    return response


# --- partner admins: the profile and the embed snippet --------------------------------


def _partner_for_admin(request, slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.user, "partner.manage_members", partner):
        raise Http404("No such partner.")
    return partner


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile(request, slug: str):
    partner = _partner_for_admin(request, slug)
    status = 200
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            upload = data.get("logo")
            try:
                logo = None
                if upload is not None:
                    if upload.size > services.LOGO_MAX_BYTES:
                        raise services.LogoRefused(
                            "The logo is larger than 1 MB; upload a smaller PNG or JPEG.",
                            code="logo_too_large",
                            status=413,
                        )
                    logo = upload.read()
                services.partner_profile_update(
                    partner=partner,
                    website=data["website"],
                    country=data["country"],
                    description=data["description"],
                    listed=data["listed"],
                    logo=logo,
                    remove_logo=data["remove_logo"],
                )
            except DomainError as error:
                field = {
                    "invalid_website": "website",
                    "invalid_country": "country",
                    "description_too_long": "description",
                }.get(error.code, "logo" if error.code.startswith("logo_") else None)
                form.add_error(field, error.message)
                status = error.status
            else:
                messages.success(request, "The directory profile was saved.")
                return redirect("partner_directory:profile", slug=partner.slug)
    else:
        form = ProfileForm(
            initial={
                "website": partner.website,
                "country": partner.country,
                "description": partner.description,
                "listed": partner.listed,
            }
        )
    verified_url = selectors.absolute_url("partner_directory:verified", partner.slug)
    badge_url = selectors.absolute_url("partner_directory:badge", partner.slug)
    public = selectors.public_verification(slug=partner.slug)
    return render(
        request,
        "partners/directory/profile.html",
        {
            "partner": partner,
            "form": form,
            "logo_url": selectors.logo_url(partner),
            "public": public,
            "verified_url": verified_url,
            "badge_url": badge_url,
            # The preview loads from this site (same origin, whatever SITE_URL says);
            # the snippet carries the public address.
            "badge_preview_url": reverse("partner_directory:badge", args=[partner.slug]),
            "snippet": (
                f'<a href="{escape(verified_url)}"><img src="{escape(badge_url)}" '
                f'alt="{escape(partner.name)}: partner verification" height="20"></a>'
            ),
            "listable": Partner.objects.listable().filter(pk=partner.pk).exists(),
        },
        status=status,
    )
