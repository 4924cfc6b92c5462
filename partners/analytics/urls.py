"""Analytics URLs, mounted by cms.urls at /partners/ before partners.status.urls."""

from django.urls import path

from . import views

app_name = "partners_analytics"

urlpatterns = [
    path("staff/analytics/", views.analytics, name="staff"),
    path("staff/analytics/<slug:chart>.csv", views.analytics_csv, name="staff_csv"),
    path("<slug:slug>/analytics/", views.analytics, name="partner"),
    path("<slug:slug>/analytics/<slug:chart>.csv", views.analytics_csv, name="partner_csv"),
]
