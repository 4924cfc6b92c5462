from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import OutboxTask, User
from .outbox import outbox_retry


def superuser_only(request) -> bool:
    """The Django admin is a superuser tool; everyone else works in Wagtail's admin."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = superuser_only
admin.site.site_header = "Partner Academy — system administration"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = (
        "email",
        "legal_name",
        "first_name",
        "last_name",
        "is_staff",
        "is_active",
        "email_confirmed_at",
    )
    search_fields = ("email", "legal_name", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("legal_name", "first_name", "last_name", "time_zone")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined", "email_confirmed_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(OutboxTask)
class OutboxTaskAdmin(admin.ModelAdmin):
    """After-commit work (lms.outbox): see what waits or failed, and try it again."""

    list_display = ("pk", "task", "created_at", "due_at", "attempts", "done_at", "short_error")
    list_filter = (("done_at", admin.EmptyFieldListFilter), "task")
    search_fields = ("task", "last_error")
    ordering = ("-created_at",)
    readonly_fields = (
        "task",
        "args",
        "kwargs",
        "created_at",
        "due_at",
        "attempts",
        "claimed_until",
        "done_at",
        "last_error",
    )
    actions = ("retry_now",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="last error")
    def short_error(self, obj) -> str:
        return obj.last_error[:120]

    @admin.action(description="Run the selected tasks again now (attempts start over)")
    def retry_now(self, request, queryset):
        count = outbox_retry(task_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} task(s) queued again.")
