"""Programme lifecycle pages, mounted by cms.urls at /partners/.

- GET/POST /partners/<slug>/rereview/          the yearly re-review: current partner
                                               admins of that partner confirm it
                                               (accept the agreement in force if it
                                               changed, re-attest not restricted);
                                               staff read it; everyone else 404.
- POST     /partners/<slug>/programme-status/  programme staff: suspend, reinstate,
                                               terminate or activate, with a reason
                                               (and a new deadline on reinstating).
- POST     /partners/<slug>/payments-account/  programme staff: confirm the payments
                                               account is created and activated.

Views translate HTTP to partners.lifecycle.services; a refusal re-renders
with the message and its status (409 or 422), nothing stored.
"""

from datetime import datetime, time

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from lms import permissions
from lms.errors import DomainError

from ..models import Membership, Partner
from . import services
from .selectors import partner_status_history, rereview_of

ACTIONS = {
    "suspend": ("suspended", "Suspend"),
    "reinstate": ("", "Reinstate (returns to the state it was suspended from)"),
    "activate": ("active", "Activate (requirements met)"),
    "terminate": ("terminated", "Terminate (final)"),
}


class TransitionForm(forms.Form):
    action = forms.ChoiceField(choices=[(k, label) for k, (_, label) in ACTIONS.items()])
    reason = forms.CharField(
        required=False,
        max_length=services.MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to suspend or terminate; the partner admins read it.",
    )
    deadline = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="New deadline",
        help_text="Optional, when reinstating: a provisional partner's new deadline, "
        "or an active partner's next re-review.",
    )


class ReReviewForm(forms.Form):
    accept_agreement = forms.BooleanField(
        required=False, label="I accept the partner agreement version in force"
    )
    restricted_business = forms.BooleanField(
        required=False, label="The company is not a restricted business"
    )


def _partner(slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None:
        raise Http404("No such partner.")
    return partner


def _is_admin_of(user, partner) -> bool:
    return Membership.objects.filter(
        partner=partner, person_id=user.pk, role=Membership.Role.ADMIN, ended__isnull=True
    ).exists()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def rereview(request, slug: str):
    partner = _partner(slug)
    if not permissions.can(request.user, "partner.view", partner):
        raise Http404("No such partner.")
    is_admin = _is_admin_of(request.user, partner)
    form = ReReviewForm(request.POST or None)
    status_code = 200
    if request.method == "POST":
        view = rereview_of(partner=partner)
        if form.is_valid():
            try:
                services.partner_rereview_confirm(
                    partner=partner,
                    by=request.user,
                    agreement_version=(
                        view.agreement.version
                        if view.agreement and form.cleaned_data["accept_agreement"]
                        else ""
                    ),
                    restricted_business_attested=form.cleaned_data["restricted_business"],
                )
            except DomainError as error:
                form.add_error(None, error.message)
                status_code = error.status
            else:
                messages.success(request, "Re-review confirmed. Thank you.")
                return redirect("partners_lifecycle:rereview", slug=partner.slug)
        else:
            status_code = 422
    context = {
        "partner": partner,
        "review": rereview_of(partner=partner),
        "form": form,
        "is_admin": is_admin,
        "history": partner_status_history(partner=partner, limit=10),
    }
    return render(request, "partners/lifecycle/rereview.html", context, status=status_code)


def _staff_partner(request, slug: str) -> Partner:
    partner = _partner(slug)
    if not permissions.is_programme_staff(request.user):
        raise Http404("No such partner.")
    return partner


def _refused(request, partner, message: str, status: int):
    return render(
        request,
        "partners/lifecycle/refused.html",
        {"partner": partner, "message": message},
        status=status,
    )


@never_cache
@login_required
@require_POST
def transition(request, slug: str):
    partner = _staff_partner(request, slug)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        return _refused(request, partner, errors, 422)
    data = form.cleaned_data
    target = ACTIONS[data["action"]][0] or services.rules.reinstates_to(
        suspended_from=partner.suspended_from
    )
    if data["action"] == "reinstate" and partner.status != "suspended":
        return _refused(request, partner, "Only a suspended partner can be reinstated.", 409)
    deadline = None
    if data["deadline"]:
        deadline = timezone.make_aware(datetime.combine(data["deadline"], time(23, 59)))
    try:
        services.partner_transition(
            partner=partner,
            to=target,
            reason=data["reason"],
            by=request.user,
            deadline=deadline,
        )
    except DomainError as error:
        return _refused(request, partner, error.message, error.status)
    messages.success(request, f"{partner.name} is now {partner.get_status_display().lower()}.")
    return redirect("partners:dashboard", slug=partner.slug)


@never_cache
@login_required
@require_POST
def payments_account_confirm(request, slug: str):
    partner = _staff_partner(request, slug)
    if services.partner_payments_account_confirm(partner=partner, by=request.user):
        messages.success(request, "Payments account confirmed.")
    return redirect("partners:dashboard", slug=partner.slug)
