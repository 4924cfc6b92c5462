"""Webhook pages, mounted by cms.urls at /partners/ before partners.status.urls."""

from django.urls import path

from . import views

app_name = "partner_webhooks"

urlpatterns = [
    path("<slug:slug>/webhooks/", views.endpoint_list, name="list"),
    path("<slug:slug>/webhooks/<int:endpoint_id>/", views.endpoint_detail, name="detail"),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/settings/", views.endpoint_settings, name="settings"
    ),
    path("<slug:slug>/webhooks/<int:endpoint_id>/enabled/", views.endpoint_enabled, name="enabled"),
    path("<slug:slug>/webhooks/<int:endpoint_id>/rotate/", views.endpoint_rotate, name="rotate"),
    path("<slug:slug>/webhooks/<int:endpoint_id>/test/", views.endpoint_test, name="test"),
    path("<slug:slug>/webhooks/<int:endpoint_id>/delete/", views.endpoint_delete, name="delete"),
    path(
        "<slug:slug>/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/retry/",
        views.delivery_retry,
        name="retry",
    ),
]
