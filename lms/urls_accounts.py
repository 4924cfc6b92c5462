"""Account pages under /accounts/ (URL names match django.contrib.auth's)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_two_factor

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_done, name="signup_done"),
    path("confirm/resend/", views.email_confirm_resend, name="email_confirm_resend"),
    path("confirm/resend/sent/", views.email_confirm_resend_done, name="email_confirm_resend_done"),
    path("confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("login/", views.SignInView.as_view(), name="login"),
    # Django 5 signs out on POST only; the header's "Sign out" is a small form.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("two-factor/", views_two_factor.overview, name="two_factor"),
    path("two-factor/verify/", views_two_factor.verify, name="two_factor_verify"),
    path("two-factor/setup/", views_two_factor.setup, name="two_factor_setup"),
    path(
        "two-factor/recovery-codes/",
        views_two_factor.recovery_codes,
        name="two_factor_recovery_codes",
    ),
    path(
        "two-factor/recovery-codes/download/",
        views_two_factor.recovery_codes_download,
        name="two_factor_recovery_codes_download",
    ),
    path(
        "two-factor/recovery-codes/regenerate/",
        views_two_factor.recovery_codes_regenerate,
        name="two_factor_recovery_codes_regenerate",
    ),
    path("two-factor/disable/", views_two_factor.disable, name="two_factor_disable"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
