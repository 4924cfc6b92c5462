"""Programme lifecycle URLs, mounted by cms.urls at /partners/ before partners.status.urls."""

from django.urls import path

from . import views

app_name = "partners_lifecycle"

urlpatterns = [
    path("<slug:slug>/rereview/", views.rereview, name="rereview"),
    path("<slug:slug>/programme-status/", views.transition, name="transition"),
    path("<slug:slug>/payments-account/", views.payments_account_confirm, name="payments_account"),
]
