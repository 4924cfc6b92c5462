"""Certificate pages. Mounted by lms.urls at the site root, before Wagtail's catch-all:
/verify/<id> and /openbadges/issuer (public), /certificates/... (signed in)."""

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
    # Open Badges issuer Profile: `issuer.id` of every badge; its `#key-1` is the
    # proof's verificationMethod.
    path("openbadges/issuer", views.openbadge_issuer, name="issuer"),
]
