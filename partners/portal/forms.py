"""Forms of the partner portal: input shape only; the rules live in
partners.applications and partners.invitations services (the views call them)."""

from django import forms
from django.contrib.auth import get_user_model, password_validation

from lms.forms import AccessibleFormMixin

from ..models import Membership, Partner, PartnerTrack


class ApplicationForm(AccessibleFormMixin, forms.Form):
    name = forms.CharField(label="Company name", max_length=200)
    website = forms.URLField(label="Website", max_length=200, required=False, assume_scheme="https")
    country = forms.CharField(
        label="Country",
        max_length=2,
        required=False,
        help_text="Two-letter ISO code, for example DE or US.",
    )
    tracks = forms.MultipleChoiceField(
        label="Tracks",
        choices=PartnerTrack.Track.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # the service says "choose at least one" (422 tracks_required)
    )
    agreement_version = forms.CharField(widget=forms.HiddenInput, required=False)
    accept_agreement = forms.BooleanField(
        label="I accept the partner agreement shown above on behalf of the company.",
        required=False,
    )
    restricted_business = forms.BooleanField(
        label="The company is not a restricted business.", required=False
    )
    embedded_payments = forms.BooleanField(
        label="The company uses the platform-payments product (needed for the embedded "
        "payments track).",
        required=False,
    )


class InviteForm(AccessibleFormMixin, forms.Form):
    # A CharField so the service gives the one clear answer for bad addresses.
    email = forms.CharField(label="E-mail", max_length=254)
    role = forms.ChoiceField(
        label="Role", choices=Membership.Role.choices, initial=Membership.Role.EMPLOYEE
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ReasonForm(AccessibleFormMixin, forms.Form):
    reason = forms.CharField(
        label="Reason (sent to the applicant)", widget=forms.Textarea, required=False
    )


class InvitationSignupForm(AccessibleFormMixin, forms.Form):
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    legal_name = forms.CharField(
        label="Name on certificates",
        max_length=200,
        required=False,
        help_text="Leave blank to use your first and last name.",
    )
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Repeat password", strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords do not match.")
        elif p1:
            candidate = get_user_model()(
                email=self.email,
                first_name=cleaned.get("first_name") or "",
                last_name=cleaned.get("last_name") or "",
            )
            try:
                password_validation.validate_password(p1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class StaffFilterForm(forms.Form):
    track = forms.ChoiceField(
        choices=[("", "Any track"), *PartnerTrack.Track.choices], required=False
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Partner.Status.choices], required=False
    )
    at_risk = forms.BooleanField(label="A track at risk", required=False)
    deadline_within = forms.IntegerField(
        label="Provisional deadline within (days)", min_value=0, max_value=3650, required=False
    )
