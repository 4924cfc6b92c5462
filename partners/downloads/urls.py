"""Partner downloads URLs, mounted by cms.urls at /partners/ before partners.status.urls."""

from django.urls import path

from . import views

app_name = "partner_downloads"

urlpatterns = [
    path("<slug:slug>/downloads/", views.downloads_page, name="page"),
    path("<slug:slug>/downloads/prepare/", views.bundle_prepare, name="prepare"),
    path("<slug:slug>/downloads/status.json", views.bundle_status, name="status"),
    path(
        "<slug:slug>/downloads/<int:bundle_id>/certificates.zip",
        views.bundle_download,
        name="bundle",
    ),
    path("<slug:slug>/report.csv", views.report_csv, name="report_csv"),
    path("<slug:slug>/report.pdf", views.report_pdf, name="report_pdf"),
]
