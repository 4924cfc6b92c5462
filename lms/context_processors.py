from django.conf import settings

from .permissions import is_instructor


def site(request):
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": "Partner Academy",
        "SITE_URL": settings.SITE_URL,
        # The navigation's admin links: instructors, programme staff and
        # superusers (the groups granted Wagtail admin access). A callable, so
        # pages that do not print it read nothing; one cached read of the
        # person's groups (lms.permissions) instead of Django's two
        # permission queries for `perms.wagtailadmin.access_admin`.
        "nav_admin": lambda: user is not None and is_instructor(user),
    }
