"""The root URLconf (ROOT_URLCONF): every app's pages, the API and Wagtail's catch-all.

The composition root of the site: only the top layer may mount every app.
"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail import views as wagtail_views
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms.api import api
from lms.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("api/v1/", api.urls),
    # Early: badges are fetched from other sites' pages, so they resolve first;
    # no other partner route matches these (reserved words are no slugs).
    path("partners/", include("partners.directory.urls")),  # /partners/directory/, badges
    path("accounts/", include("lms.urls_accounts")),
    path("", include("courses.urls")),  # /dashboard/ (before Wagtail's catch-all)
    path("exams/", include("exams.urls")),
    path("", include("certificates.urls")),  # /verify/<id>, /certificates/
    path("partners/", include("partners.portal.urls")),  # before partners.status.urls
    path("partners/", include("partners.downloads.urls")),  # /partners/<slug>/downloads/
    path("partners/", include("partners.lifecycle.urls")),  # re-review, programme status
    path("partners/", include("partners.api_keys.urls")),  # /partners/<slug>/api-keys/
    path("partners/", include("partners.webhooks.urls")),  # /partners/<slug>/webhooks/
    path("partners/", include("partners.analytics.urls")),  # /partners/staff/analytics/
    path("partners/", include("partners.status.urls")),  # /partners/<slug>/ dashboard
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's page serving is the catch-all: keep it last.
urlpatterns += [
    # "home" names the site root (LOGIN_REDIRECT_URL, templates); Wagtail serves it.
    path("", wagtail_views.serve, {"path": ""}, name="home"),
    path("", include(wagtail_urls)),
]
