"""Account forms: input shape and validation only; creating accounts is lms.services' job."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from .outbox import SEND_EMAIL, outbox_enqueue
from .timezones import INVALID_TIME_ZONE_MESSAGE, time_zone_names, time_zone_or_default

User = get_user_model()

EMAIL_UNCONFIRMED = "email_unconfirmed"


def check_email_confirmed(user) -> None:
    """Refuse sign-in until the address is confirmed.

    Django calls this only after the password matched, so the message tells
    nothing to someone who does not know the password.
    """
    if not user.email_confirmed_at:
        raise forms.ValidationError(
            format_html(
                "Confirm your e-mail address first: open the link we sent to {}. "
                '<a href="{}">Send me a new link</a>.',
                user.email,
                reverse("email_confirm_resend"),
            ),
            code=EMAIL_UNCONFIRMED,
        )


class AccessibleFormMixin:
    """Adds the attributes our templates rely on: aria-invalid and aria-describedby.

    Each field's help text and error list get stable ids (`<id>-help`,
    `<id>-errors`) so screen readers announce them with the field.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._describe_fields(errors={})

    def _post_clean(self):
        super()._post_clean()
        # Reading self.errors before here would validate too early (in __init__).
        self._describe_fields(errors=self._errors or {})

    def _describe_fields(self, *, errors):
        for name, field in self.fields.items():
            widget_id = self[name].auto_id or name
            described = []
            if field.help_text:
                described.append(f"{widget_id}-help")
            if name in errors:
                described.append(f"{widget_id}-errors")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)


class EmailAuthenticationForm(AccessibleFormMixin, AuthenticationForm):
    """Django's AuthenticationForm (it passes `request` on, which the sign-in throttle needs)."""

    username = forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That e-mail and password do not match an account. "
        "Passwords are case-sensitive.",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        check_email_confirmed(user)


class SignupForm(AccessibleFormMixin, forms.Form):
    email = forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    first_name = forms.CharField(
        label="First name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    legal_name = forms.CharField(
        label="Name on certificates",
        max_length=200,
        required=False,
        help_text="Printed on your certificates exactly as written. "
        "Leave blank to use your first and last name.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Repeat password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Type the same password again, to catch typing mistakes.",
    )

    # Filled by static/js/time-zone.js from the browser's own setting; a person
    # without script, or a browser naming an unknown zone, gets the site's zone.
    time_zone = forms.CharField(
        required=False,
        widget=forms.HiddenInput(attrs={"data-browser-time-zone": ""}),
    )

    def clean_time_zone(self):
        return time_zone_or_default(self.cleaned_data.get("time_zone"))

    def clean_email(self):
        # Whether the address has an account is not said here (lms.confirmation).
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        password1 = cleaned.get("password1")
        password2 = cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords do not match.")
        elif password1:
            # Validate against an unsaved user so the similarity check sees name and e-mail.
            candidate = User(
                email=cleaned.get("email") or "",
                first_name=cleaned.get("first_name") or "",
                last_name=cleaned.get("last_name") or "",
            )
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class ResendConfirmationForm(AccessibleFormMixin, forms.Form):
    email = forms.EmailField(
        label="E-mail",
        max_length=254,
        help_text="The address you signed up with.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", f"The site's zone ({settings.TIME_ZONE})")] + [
        (name, name.replace("_", " ")) for name in time_zone_names()
    ]


class ProfileForm(AccessibleFormMixin, forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        choices=time_zone_choices,
        help_text="Dates and times on this site and in our e-mails are shown in this zone.",
        error_messages={"invalid_choice": INVALID_TIME_ZONE_MESSAGE},
    )

    class Meta:
        model = User
        fields = ["legal_name", "first_name", "last_name", "time_zone"]
        labels = {"legal_name": "Name on certificates"}
        widgets = {
            "legal_name": forms.TextInput(
                attrs={"autocomplete": "name", "data-preview-source": ""}
            ),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["legal_name"].required = True
        self.fields["first_name"].required = True
        self.fields["last_name"].required = True

    def clean_legal_name(self):
        value = " ".join(self.cleaned_data["legal_name"].split())
        if not value:
            raise forms.ValidationError("Enter the name to print on your certificates.")
        return value


class AccessiblePasswordResetForm(AccessibleFormMixin, PasswordResetForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail"

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """Rendered here, sent by a worker (lms.outbox): a mail server that is
        slow or down neither holds the page nor loses the link."""
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        outbox_enqueue(SEND_EMAIL, subject=subject, body=body, to=[to_email])


class AccessibleSetPasswordForm(AccessibleFormMixin, SetPasswordForm):
    pass


class AccessiblePasswordChangeForm(AccessibleFormMixin, PasswordChangeForm):
    pass
