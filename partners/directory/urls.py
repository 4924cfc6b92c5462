"""Directory URLs, mounted by cms.urls at /partners/ before partners.status.urls
(whose /partners/<slug>/ would otherwise catch "directory")."""

from django.urls import path

from . import views

app_name = "partner_directory"

urlpatterns = [
    path("directory/", views.directory, name="directory"),
    path("<slug:slug>/verified", views.verified, name="verified"),
    path("<slug:slug>/badge.svg", views.badge, name="badge"),
    path("<slug:slug>/logo/<str:name>", views.logo, name="logo"),
    path("<slug:slug>/profile/", views.profile, name="profile"),
]
