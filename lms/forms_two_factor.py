"""Forms of the two-factor pages: input shape only; lms.two_factor checks the codes."""

from django import forms

from .forms import AccessibleFormMixin
from .two_factor import CODE_MAX_LENGTH, normalise_code

NOT_A_CODE = "Enter the 6-digit code from your authenticator app, or one of your recovery codes."


def _code_widget(*, numeric: bool) -> forms.TextInput:
    attrs = {
        "autocomplete": "one-time-code",
        "autocapitalize": "none",
        "spellcheck": "false",
        "class": "input--code",
    }
    if numeric:
        # Phones offer the digit keyboard; recovery codes have their own page variant.
        attrs.update({"inputmode": "numeric", "pattern": "[0-9 ]*"})
    return forms.TextInput(attrs=attrs)


class CodeField(forms.CharField):
    def __init__(self, *, numeric: bool = True, **kwargs):
        kwargs.setdefault("max_length", CODE_MAX_LENGTH)
        super().__init__(widget=_code_widget(numeric=numeric), **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        code = normalise_code(value)
        if code is None:
            raise forms.ValidationError(NOT_A_CODE, code="not_a_code")
        return code


class SignInCodeForm(AccessibleFormMixin, forms.Form):
    """The second sign-in step: a code from the app (a recovery code is accepted too)."""

    code = CodeField(
        label="Authentication code",
        help_text="The 6-digit code your authenticator app shows for Partner Academy.",
    )


class RecoveryCodeForm(AccessibleFormMixin, forms.Form):
    """The second sign-in step with a recovery code: letters allowed on phone keyboards."""

    code = CodeField(
        label="Recovery code",
        numeric=False,
        help_text="One of the codes you saved when you turned on two-factor "
        "authentication, such as abcd2345. Each code works once.",
    )


class SetupConfirmForm(AccessibleFormMixin, forms.Form):
    code = CodeField(
        label="Code from the app",
        help_text="After adding the account, enter the 6-digit code the app shows.",
    )


class ReauthenticateForm(AccessibleFormMixin, forms.Form):
    """Proof that the person at the keyboard is the account holder: a code or the password."""

    code = CodeField(
        label="Code from your authenticator app",
        required=False,
        help_text="Or a recovery code.",
    )
    password = forms.CharField(
        label="Or your password",
        required=False,
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("code") and not cleaned.get("password"):
            raise forms.ValidationError(
                "Enter a code from your authenticator app or your password.",
                code="required",
            )
        return cleaned
