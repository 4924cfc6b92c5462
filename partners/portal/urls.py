"""Partner portal URLs, mounted by cms.urls at /partners/ before partners.status.urls
(whose /partners/<slug>/ would otherwise catch "apply", "staff" and "invitations")."""

from django.urls import path

from . import views

app_name = "partners_portal"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("staff/partners/", views.staff_partners, name="staff_partners"),
    path(
        "staff/partners.csv",
        views.staff_partners,
        {"export": "csv"},
        name="staff_partners_csv",
    ),
    path("staff/applications/", views.staff_applications, name="staff_applications"),
    path(
        "staff/applications/<int:application_id>/",
        views.staff_application,
        name="staff_application",
    ),
    path("<slug:slug>/people/", views.people, name="people"),
    path("<slug:slug>/people/invite/", views.people_invite, name="people_invite"),
    path("<slug:slug>/people/<int:member_id>/role/", views.member_role, name="member_role"),
    path("<slug:slug>/people/<int:member_id>/end/", views.member_end, name="member_end"),
    path(
        "<slug:slug>/people/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
]
