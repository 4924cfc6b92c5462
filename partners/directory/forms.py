"""Forms of the directory pages: input shape only; the rules live in
partners.directory.services (the views call it)."""

from django import forms

from lms.forms import AccessibleFormMixin

from ..models import Partner, Track

SEARCH_MAX_LENGTH = 100


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label="Company name", max_length=SEARCH_MAX_LENGTH, required=False)
    track = forms.ChoiceField(
        label="Verified on", choices=[("", "Any track"), *Track.choices], required=False
    )
    country = forms.ChoiceField(label="Country", choices=[("", "Any country")], required=False)

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any country"), *countries]


class ProfileForm(AccessibleFormMixin, forms.Form):
    # Plain text fields: the service gives the one clear answer for bad values.
    website = forms.CharField(
        label="Website",
        max_length=200,
        required=False,
        help_text="Starting with https:// (or http://).",
    )
    country = forms.CharField(
        label="Country",
        max_length=2,
        required=False,
        help_text="Two-letter ISO 3166-1 code, for example DE or US.",
    )
    description = forms.CharField(
        label="Short description",
        max_length=Partner.DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"At most {Partner.DESCRIPTION_MAX_LENGTH} characters, shown in the directory.",
    )
    logo = forms.FileField(
        label="Logo",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text="PNG or JPEG, at most 1 MB. We re-encode it; SVG is not accepted.",
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)
    listed = forms.BooleanField(
        label="Show the company in the public directory (while verified on a track)",
        required=False,
    )
