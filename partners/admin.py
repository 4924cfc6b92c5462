"""Django admin (superusers only, see lms.admin): a raw view for support work.

Programme staff use the Wagtail admin screens (partners.wagtail_hooks), which
go through the services. Here memberships are read-only: starting and
ending them belongs to the services.
"""

from django.contrib import admin

from .models import Membership, Partner, PartnerTrack


class PartnerTrackInline(admin.TabularInline):
    model = PartnerTrack
    extra = 0


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "status", "country", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "slug")
    inlines = [PartnerTrackInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("person", "partner", "role", "started", "ended")
    list_filter = ("role", ("ended", admin.EmptyFieldListFilter))
    search_fields = ("person__email", "person__legal_name", "partner__name")
    list_select_related = ("person", "partner")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
