"""Partner API keys pages, mounted by cms.urls at /partners/ before partners.status.urls."""

from django.urls import path

from . import views

app_name = "partner_api_keys"

urlpatterns = [
    path("<slug:slug>/api-keys/", views.api_keys_page, name="page"),
    path("<slug:slug>/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="revoke"),
]
