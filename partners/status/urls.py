"""Partner dashboard URLs, mounted by cms.urls at /partners/ after partners.portal.urls."""

from django.urls import path

from . import views

app_name = "partners"

urlpatterns = [
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/verifications/", views.verification_record, name="verification_record"),
    path("<slug:slug>/figures/", views.figures_record, name="figures_record"),
]
