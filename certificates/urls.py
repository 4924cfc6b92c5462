"""Certificate pages. Mounted by lms.urls at the site root, before Wagtail's catch-all:
/verify/<id> (public) and /certificates/... (signed in)."""

from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("verify/<str:public_id>", views.verify, name="verify"),
    path("verify/<str:public_id>/", views.verify),
    path("certificates/", views.my_certifications, name="mine"),
    path("certificates/<str:public_id>/pdf", views.credential_pdf, name="pdf"),
    path(
        "certificates/<str:public_id>/openbadge.json",
        views.credential_openbadge,
        name="openbadge",
    ),
]
