"""The portal's form for a new company API key: input shape only; the rules
(name, scopes, expiry) live in partners.api_keys.services."""

from datetime import UTC, datetime, time

from django import forms

from lms.forms import AccessibleFormMixin

from ..models import ApiKeyScope
from . import services


class ApiKeyForm(AccessibleFormMixin, forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=services.NAME_MAX_LENGTH,
        help_text="What uses the key, for example “HR sync” or “Website badge”.",
    )
    scopes = forms.MultipleChoiceField(
        label="What the key may do",
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    expires_on = forms.DateField(
        label="Expires on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for a key that works until it is revoked.",
    )

    def clean_name(self):
        name = self.cleaned_data["name"]
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
            raise forms.ValidationError("Use letters, digits and punctuation only.")
        return name

    def expires_at(self) -> datetime | None:
        """The start of the chosen day (UTC), or None."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=UTC)
