"""Partner portal pages: applying, invitations, the partner admin's people
page, and programme staff's partner list and application decisions.

Views translate HTTP to partners.applications / partners.invitations
services and partners.roster.selectors calls and back. Refusals (DomainError) are shown on the page
with their HTTP status; nothing is changed by a refused request. Pages of a
partner answer 404 to everyone but its current admins and programme staff.
"""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from lms import permissions
from lms.errors import DomainError

from ..applications import services as applications
from ..invitations import services as invitations
from ..models import Partner, PartnerApplication
from ..roster import selectors as roster
from .forms import (
    ApplicationForm,
    InvitationSignupForm,
    InviteForm,
    ReasonForm,
    RoleForm,
    StaffFilterForm,
)


def _partner_for_admin(request, slug: str) -> Partner:
    partner = Partner.objects.filter(slug=slug).first()
    if partner is None or not permissions.can(request.user, "partner.manage_members", partner):
        raise Http404("No such partner.")
    return partner


def _staff_only(request) -> None:
    if not permissions.is_programme_staff(request.user):
        raise Http404("Not found.")


# --- applying -----------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    agreement = applications.agreement_current()
    form = ApplicationForm(
        request.POST or None, initial={"agreement_version": agreement and agreement.version}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = applications.application_submit(
                    applicant=request.user,
                    name=data["name"],
                    website=data["website"],
                    country=data["country"],
                    tracks=data["tracks"],
                    agreement_version=(
                        data["agreement_version"] if data["accept_agreement"] else ""
                    ),
                    restricted_business_attested=data["restricted_business"],
                    embedded_payments_attested=data["embedded_payments"],
                )
            except DomainError as error:
                if error.code == "agreement_outdated":
                    form = _form_with_current_agreement(form, agreement)
                form.add_error(None, error.message)
                status = error.status
            else:
                messages.success(
                    request,
                    f"Thank you: the application of {application.partner.name} was received. "
                    "Programme staff will review it and e-mail you their decision.",
                )
                return redirect("partners_portal:people", slug=application.partner.slug)
    return render(
        request,
        "partners/portal/apply.html",
        {"form": form, "agreement": agreement},
        status=status,
    )


def _form_with_current_agreement(form: ApplicationForm, agreement) -> ApplicationForm:
    """The form again, now carrying the version in force and its box unticked.

    The page was opened before a new agreement version took effect: the applicant
    reads the version now shown and accepts it, or the next try is refused again.
    """
    data = form.data.copy()
    data["agreement_version"] = agreement.version if agreement else ""
    data.pop("accept_agreement", None)
    fresh = ApplicationForm(data)
    fresh.is_valid()
    return fresh


# --- invitations --------------------------------------------------------------


def _invitation_problem(request, error: DomainError):
    return render(
        request,
        "partners/portal/invitation_problem.html",
        {"error": error},
        status=error.status,
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    try:
        invite = invitations.invitation_get_by_token(token)
        invitations.check_invitation_open(invite, now=timezone.now())
    except DomainError as error:
        return _invitation_problem(request, error)

    signup_form = None
    if not request.user.is_authenticated:
        signup_form = InvitationSignupForm(
            request.POST if request.method == "POST" else None, email=invite.email
        )
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = invitations.invitation_accept(token=token, person=request.user)
            elif signup_form.is_valid():
                data = signup_form.cleaned_data
                invitations.invitation_accept_with_signup(
                    token=token,
                    password=data["password1"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    legal_name=data["legal_name"],
                )
                # The same answer whether or not the address had an account.
                return render(
                    request,
                    "partners/portal/invitation_check_email.html",
                    {"invitation": invite},
                )
            else:
                membership = None
        except DomainError as error:
            return _invitation_problem(request, error)
        if membership is not None:
            messages.success(request, f"Welcome to {membership.partner.name}!")
            return redirect("home")
    return render(
        request,
        "partners/portal/invitation.html",
        {"invitation": invite, "signup_form": signup_form},
        status=400 if request.method == "POST" else 200,
    )


# --- the partner admin's people page -------------------------------------------


def _render_people(request, partner, *, invite_form=None, status=200):
    return render(
        request,
        "partners/portal/people.html",
        {
            "partner": partner,
            "rows": roster.partner_roster(partner=partner),
            "open_invitations": invitations_with_state(partner),
            "invite_form": invite_form or InviteForm(),
            "may_invite": invitations.partner_may_invite(partner),
            "roles": RoleForm.base_fields["role"].choices,
        },
        status=status,
    )


def invitations_with_state(partner):
    now = timezone.now()
    return [(inv, inv.state_at(now)) for inv in roster.invitations_open_for(partner=partner)]


@never_cache
@login_required
def people(request, slug: str):
    partner = _partner_for_admin(request, slug)
    return _render_people(request, partner)


@never_cache
@login_required
@require_POST
def people_invite(request, slug: str):
    partner = _partner_for_admin(request, slug)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _render_people(request, partner, invite_form=form, status=400)
    try:
        invite, _token = invitations.invitation_create(
            partner=partner,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            created_by=request.user,
        )
    except DomainError as error:
        form.add_error("email" if "email" in error.code else None, error.message)
        response = _render_people(request, partner, invite_form=form, status=error.status)
        if getattr(error, "retry_after", None):
            response["Retry-After"] = str(error.retry_after)
        return response
    messages.success(request, f"Invitation sent to {invite.email}.")
    return redirect("partners_portal:people", slug=partner.slug)


def _refused(request, partner, error: DomainError):
    messages.error(request, error.message)
    return _render_people(request, partner, status=error.status)


@never_cache
@login_required
@require_POST
def member_role(request, slug: str, member_id: int):
    partner = _partner_for_admin(request, slug)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _refused(request, partner, DomainError("Choose a role.", code="invalid_role"))
    try:
        membership = invitations.member_get(partner=partner, member_id=member_id)
        invitations.member_role_set(
            partner=partner, membership=membership, role=form.cleaned_data["role"]
        )
    except DomainError as error:
        return _refused(request, partner, error)
    messages.success(request, f"{membership.person} is now {membership.get_role_display()}.")
    return redirect("partners_portal:people", slug=partner.slug)


@never_cache
@login_required
@require_POST
def member_end(request, slug: str, member_id: int):
    partner = _partner_for_admin(request, slug)
    try:
        membership = invitations.member_get(partner=partner, member_id=member_id)
        invitations.member_end(
            partner=partner, membership=membership, reason=f"Removed by {request.user.email}"
        )
    except DomainError as error:
        return _refused(request, partner, error)
    messages.success(
        request,
        f"{membership.person} is no longer a member of {partner.name}. "
        "Their certifications stay theirs.",
    )
    if membership.person_id == request.user.pk and not permissions.is_programme_staff(request.user):
        return redirect("home")
    return redirect("partners_portal:people", slug=partner.slug)


@never_cache
@login_required
@require_POST
def invitation_revoke(request, slug: str, invitation_id: int):
    partner = _partner_for_admin(request, slug)
    invite = partner.invitations.filter(pk=invitation_id).first()
    if invite is None:
        raise Http404("No such invitation.")
    try:
        invitations.invitation_revoke(invitation=invite)
    except DomainError as error:
        return _refused(request, partner, error)
    messages.success(request, f"The invitation of {invite.email} was withdrawn.")
    return redirect("partners_portal:people", slug=partner.slug)


# --- programme staff ----------------------------------------------------------


def _staff_filters(request) -> tuple[StaffFilterForm, roster.StaffFilters]:
    form = StaffFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        return form, roster.StaffFilters(
            track=data["track"],
            status=data["status"],
            at_risk=data["at_risk"],
            deadline_within_days=data["deadline_within"],
        )
    return form, roster.StaffFilters()


CSV_HEADER = [
    "name",
    "slug",
    "status",
    "tracks",
    "country",
    "website",
    "current_members",
    "at_risk",
    "applied_at",
    "provisional_deadline",
]


def _csv_safe(value) -> str:
    # Spreadsheet formula injection: a cell starting with = + - @ runs as a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@never_cache
@login_required
def staff_partners(request, export: str = ""):
    _staff_only(request)
    form, filters = _staff_filters(request)
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "partners/portal/staff_partners.html",
            {"form": form, "partners": []},
            status=400,
        )
    partners = roster.partner_list_for_staff(filters=filters)
    if export == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="partners.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_HEADER)
        for partner in partners:
            application = getattr(partner, "application", None)
            writer.writerow(
                [
                    _csv_safe(v)
                    for v in (
                        partner.name,
                        partner.slug,
                        partner.status,
                        " ".join(t.track for t in partner.tracks.all()),
                        partner.country,
                        partner.website,
                        partner.members_count,
                        "yes" if partner.at_risk else "no",
                        application.submitted_at.isoformat() if application else "",
                        (
                            application.provisional_deadline.isoformat()
                            if application and application.provisional_deadline
                            else ""
                        ),
                    )
                ]
            )
        return response
    query = request.GET.urlencode()
    return render(
        request,
        "partners/portal/staff_partners.html",
        {
            "form": form,
            "partners": partners,
            "csv_url": reverse("partners_portal:staff_partners_csv")
            + (f"?{query}" if query else ""),
        },
    )


@never_cache
@login_required
def staff_applications(request):
    _staff_only(request)
    return render(
        request,
        "partners/portal/staff_applications.html",
        {"applications": roster.applications_for_staff()},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def staff_application(request, application_id: int):
    _staff_only(request)
    try:
        application = applications.application_get(application_id=application_id)
    except DomainError as error:
        raise Http404(error.message) from error
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "approve":
                applications.application_approve(application=application, decided_by=request.user)
                messages.success(
                    request, f"{application.partner.name} is now a provisional partner."
                )
            elif decision == "reject" and form.is_valid():
                applications.application_reject(
                    application=application,
                    decided_by=request.user,
                    reason=form.cleaned_data["reason"],
                )
                messages.success(
                    request, f"The application of {application.partner.name} was rejected."
                )
            else:
                raise DomainError("Choose approve or reject.", code="invalid_decision")
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.status
        else:
            return redirect("partners_portal:staff_applications")
    return render(
        request,
        "partners/portal/staff_application.html",
        {
            "application": application,
            "form": form,
            "decided": application.status != PartnerApplication.Status.PENDING,
        },
        status=status,
    )
