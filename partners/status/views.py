"""Partner dashboard (/partners/<slug>/) and staff input for track status.

- GET  /partners/<slug>/                 partner admins of that partner and programme
                                         staff; everyone else 404. Per track: status,
                                         certified individuals vs required, grace
                                         deadline, looking ahead (lapse date, whose
                                         renewals matter), apps milestone; the
                                         provisional checklist; benefits have/locked.
- POST /partners/<slug>/verifications/   programme staff: record a technical
                                         verification (partners.status.services).
- POST /partners/<slug>/figures/         programme staff: record apps figures.

Views only translate HTTP to partners.status.services / .selectors and back.
A refused input re-renders the page with the form's errors and status 422;
nothing is stored.
"""

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from lms import permissions
from lms.errors import DomainError

from ..lifecycle.selectors import partner_status_history, rereview_of
from ..lifecycle.views import TransitionForm
from ..models import Partner, Track, VerificationStatus
from . import services as status
from .selectors import partner_dashboard


class VerificationForm(forms.Form):
    track = forms.ChoiceField(choices=Track.choices)
    status = forms.ChoiceField(choices=VerificationStatus.choices)
    decided_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty if the verification does not expire.",
    )
    notes = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class FiguresForm(forms.Form):
    installs = forms.IntegerField(min_value=0, max_value=2**63 - 1)
    payment_volume_usd = forms.DecimalField(
        min_value=0, max_digits=18, decimal_places=2, label="Payment volume (USD)"
    )
    app_review_passed = forms.BooleanField(required=False, label="App passed review")
    recorded_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    notes = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _partner_visible(request, slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.user, "partner.view", partner):
        raise Http404("No such partner.")
    return partner


def _staff_partner(request, slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.is_programme_staff(request.user):
        raise Http404("No such partner.")
    return partner


def _render(request, partner, *, verification_form=None, figures_form=None, status_code=200):
    is_staff = permissions.is_programme_staff(request.user)
    dashboard = partner_dashboard(partner=partner)
    today = timezone.localdate()
    context = {
        "partner": partner,
        "dashboard": dashboard,
        "overview": dashboard.overview,
        "is_staff": is_staff,
        "verification_form": verification_form
        or (VerificationForm(initial={"decided_on": today}) if is_staff else None),
        "figures_form": figures_form
        or (FiguresForm(initial={"recorded_on": today}) if is_staff else None),
        "has_apps": any(t.track == "apps" for t in dashboard.overview.tracks),
        "history": partner_status_history(partner=partner),
        "review": rereview_of(partner=partner),
        "transition_form": TransitionForm() if is_staff else None,
    }
    return render(request, "partners/dashboard.html", context, status=status_code)


@never_cache
@login_required
@require_GET
def dashboard(request, slug: str):
    return _render(request, _partner_visible(request, slug))


@never_cache
@login_required
@require_POST
def verification_record(request, slug: str):
    partner = _staff_partner(request, slug)
    form = VerificationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        expires_at = None
        if data["expires_on"]:
            expires_at = timezone.make_aware(datetime.combine(data["expires_on"], time.min))
        try:
            status.technical_verification_record(
                partner=partner,
                track=data["track"],
                status=data["status"],
                decided_on=data["decided_on"],
                reviewer=request.user,
                notes=data["notes"],
                expires_at=expires_at,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Technical verification recorded.")
            return redirect("partners:dashboard", slug=partner.slug)
    return _render(request, partner, verification_form=form, status_code=422)


@never_cache
@login_required
@require_POST
def figures_record(request, slug: str):
    partner = _staff_partner(request, slug)
    form = FiguresForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            status.app_milestone_figures_record(
                partner=partner,
                installs=data["installs"],
                payment_volume_usd=data["payment_volume_usd"],
                app_review_passed=data["app_review_passed"],
                recorded_on=data["recorded_on"],
                recorded_by=request.user,
                notes=data["notes"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Apps figures recorded.")
            return redirect("partners:dashboard", slug=partner.slug)
    return _render(request, partner, figures_form=form, status_code=422)
