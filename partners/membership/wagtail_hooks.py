"""Wagtail admin screens for partner companies and memberships ("Partners").

Programme staff manage partner companies and memberships here. The screens
follow the model permissions the "Programme staff" group holds, and every
write goes through partners.membership.services, so the admin obeys the same
rules (one current membership per person, memberships ended rather than
rewritten) as the API; a refused write comes back as a form error, never a
500. Loaded by partners.wagtail_hooks.
"""

import django_filters
from django import forms
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log

from lms.admin_forms import DomainErrorAsFormErrorMixin
from lms.errors import DomainError
from partners.membership import services
from partners.models import Membership, Partner, PartnerTrack
from partners.rules import normalise_country_code

# --- partners ---------------------------------------------------------------


class PartnerForm(WagtailAdminModelForm):
    website = forms.URLField(required=False, assume_scheme="https")
    tracks = forms.MultipleChoiceField(
        choices=PartnerTrack.Track.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The tracks the partner joined.",
    )

    class Meta:
        model = Partner
        fields = ["name", "slug", "website", "country", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tracks"] = [t.track for t in self.instance.tracks.all()]
            # The programme status changes only through its transitions (with a
            # reason and history): on the partner dashboard, never by a hand edit.
            del self.fields["status"]
        else:
            self.fields["status"].choices = [
                c for c in Partner.Status.choices if c[0] in ("applicant", "provisional", "active")
            ]
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Leave empty to derive it from the name."

    def clean_country(self):
        return normalise_country_code(self.cleaned_data.get("country"))


class PartnerCreateView(DomainErrorAsFormErrorMixin, generic.CreateView):
    domain_error_field = "slug"

    def save_instance(self):
        data = self.form.cleaned_data
        partner = services.partner_create(
            name=data["name"],
            slug=data.get("slug") or None,
            website=data.get("website", ""),
            country=data.get("country", ""),
            status=data["status"],
            tracks=data.get("tracks", ()),
        )
        log(instance=partner, action="wagtail.create", user=self.request.user)
        return partner


class PartnerEditView(DomainErrorAsFormErrorMixin, generic.EditView):
    domain_error_field = "tracks"

    def save_instance(self):
        partner = self.form.save(commit=False)
        # Only the form's own fields: the status and its deadlines are the
        # lifecycle's, written by conditional updates this save must not undo.
        partner.save(update_fields=["name", "slug", "website", "country", "updated_at"])
        if self.form.has_changed():
            log(instance=partner, action="wagtail.edit", user=self.request.user)
        services.partner_tracks_set(partner=partner, tracks=self.form.cleaned_data["tracks"])
        return partner


class PartnerIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().prefetch_related("tracks")


def _track_labels(partner: Partner) -> str:
    return ", ".join(t.get_track_display() for t in partner.tracks.all()) or "—"


class PartnerViewSet(ModelViewSet):
    model = Partner
    icon = "group"
    menu_label = "Partner companies"
    index_view_class = PartnerIndexView
    add_view_class = PartnerCreateView
    edit_view_class = PartnerEditView
    copy_view_enabled = False
    list_display = [
        "name",
        "status",
        "country",
        Column("tracks", label="Tracks", accessor=_track_labels),
    ]
    list_filter = ["status"]
    search_fields = ["name"]
    ordering = ["name"]

    def get_form_class(self, for_update=False):
        return PartnerForm


# --- memberships -------------------------------------------------------------


class MembershipStartForm(WagtailAdminModelForm):
    """Add a person to a partner (goes through `membership_start`)."""

    class Meta:
        model = Membership
        fields = ["person", "partner", "role", "started"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started"].required = False
        self.fields["started"].help_text = "Leave empty for now."

    def clean(self):
        cleaned = super().clean()
        person = cleaned.get("person")
        if person is not None:
            try:
                services.check_no_current_membership(person=person)
            except DomainError as error:
                # On the field, so the model's constraint check is skipped and
                # the message that names the current company is the one shown.
                self.add_error("person", error.message)
        return cleaned


class MembershipEditForm(WagtailAdminModelForm):
    """Change the role or end the membership; an ended membership is history."""

    class Meta:
        model = Membership
        fields = ["role", "ended", "ended_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.ended is not None:
            for field in self.fields.values():
                field.disabled = True
                field.help_text = "This membership has ended and can no longer change."


class MembershipCreateView(DomainErrorAsFormErrorMixin, generic.CreateView):
    domain_error_field = "person"

    def save_instance(self):
        data = self.form.cleaned_data
        membership = services.membership_start(
            person=data["person"],
            partner=data["partner"],
            role=data["role"],
            started=data.get("started"),
        )
        log(instance=membership, action="wagtail.create", user=self.request.user)
        return membership


class MembershipEditView(DomainErrorAsFormErrorMixin, generic.EditView):
    domain_error_field = "ended"

    def save_instance(self):
        data = self.form.cleaned_data
        # The form wrote the new values onto its instance while validating; the
        # services start from what is stored.
        membership = Membership.objects.select_related("person", "partner").get(
            pk=self.form.instance.pk
        )
        if membership.ended is not None:
            return membership
        if data["role"] != membership.role:
            services.membership_set_role(membership=membership, role=data["role"])
        if data.get("ended"):
            services.membership_end(
                membership=membership, ended=data["ended"], reason=data.get("ended_reason", "")
            )
        if self.form.has_changed():
            log(instance=membership, action="wagtail.edit", user=self.request.user)
        return membership


class MembershipIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("person", "partner")


class MembershipFilterSet(WagtailFilterSet):
    current = django_filters.BooleanFilter(
        field_name="ended", lookup_expr="isnull", label="Current"
    )

    class Meta:
        model = Membership
        fields = ["partner", "role"]


class MembershipViewSet(ModelViewSet):
    model = Membership
    icon = "user"
    menu_label = "Memberships"
    index_view_class = MembershipIndexView
    add_view_class = MembershipCreateView
    edit_view_class = MembershipEditView
    copy_view_enabled = False
    list_display = [
        "person",
        Column("email", label="E-mail", accessor="person.email"),
        "partner",
        "role",
        "started",
        "ended",
    ]
    filterset_class = MembershipFilterSet
    search_fields = ["person__email", "person__legal_name", "partner__name"]
    ordering = ["-started"]

    def get_form_class(self, for_update=False):
        return MembershipEditForm if for_update else MembershipStartForm


class PartnersMenu(ViewSetGroup):
    menu_label = "Partners"
    menu_icon = "group"
    menu_order = 300
    # Namespaced "admin_*" so they never clash with the partners app's own URL namespace.
    items = (
        PartnerViewSet("admin_partners", url_prefix="partners"),
        MembershipViewSet("admin_memberships", url_prefix="memberships"),
    )


@hooks.register("register_admin_viewset")
def register_partners_menu():
    return PartnersMenu()
