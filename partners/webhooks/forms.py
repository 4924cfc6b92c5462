"""Forms of the webhook pages; the rules are the services' (their errors are shown)."""

from django import forms

from . import events, services

EVENT_CHOICES = [(name, f"{name} — {events.DESCRIPTIONS[name]}") for name in events.EVENT_TYPES]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=services.MAX_URL,
        help_text="Where we POST each event, for example https://hooks.example.com/academy.",
        widget=forms.URLInput(attrs={"autocomplete": "url", "inputmode": "url"}),
    )
    description = forms.CharField(
        label="Description", max_length=services.MAX_DESCRIPTION, required=False
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # the service says "subscribe to at least one" (events_required)
    )


class EndpointSettingsForm(forms.Form):
    description = forms.CharField(
        label="Description", max_length=services.MAX_DESCRIPTION, required=False
    )
    events = forms.MultipleChoiceField(
        label="Events", choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Any status"),
            ("pending", "Pending"),
            ("delivered", "Delivered"),
            ("failed", "Failed"),
        ],
    )
    event_type = forms.ChoiceField(
        label="Event type",
        required=False,
        choices=[("", "Any event"), *[(n, n) for n in (*events.EVENT_TYPES, events.PING)]],
    )
    starting_after = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
