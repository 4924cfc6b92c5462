"""Account pages. Views translate HTTP to lms.services calls and back."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from . import confirmation, services, two_factor
from .client_ip import client_ip
from .forms import (
    AccessiblePasswordChangeForm,
    AccessiblePasswordResetForm,
    AccessibleSetPasswordForm,
    EmailAuthenticationForm,
    ProfileForm,
    ResendConfirmationForm,
    SignupForm,
)
from .ratelimit import RateLimited
from .views_two_factor import start_code_step

# The backend Django records on the session after sign-up (it loads the user back).
MODEL_BACKEND = "lms.backends.ThrottledEmailBackend"


class SignInView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        # Someone with an authenticator app is signed in only after the code step.
        user = form.get_user()
        if two_factor.two_factor_enabled(user):
            return start_code_step(self.request, user, self.get_success_url())
        return super().form_valid(form)


def rate_limited_page(request, error: RateLimited):
    """The 429 page for a refused request, with Retry-After (the API adds its own)."""
    response = render(
        request,
        "rate_limited.html",
        {"message": error.message, "retry_after": error.retry_after},
        status=429,
    )
    response["Retry-After"] = str(error.retry_after)
    return response


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    if request.method == "POST":
        try:
            confirmation.check_signup_rate(ip=client_ip(request))
        except RateLimited as error:
            return rate_limited_page(request, error)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The same answer whether or not the address has an account.
        confirmation.user_signup(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            legal_name=data["legal_name"],
            time_zone=data["time_zone"],
        )
        return redirect("signup_done")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@require_http_methods(["GET"])
def signup_done(request):
    return render(
        request,
        "registration/signup_done.html",
        {"confirmation_hours": confirmation.confirmation_hours()},
    )


def _confirm_problem(request, error):
    return render(
        request,
        "registration/confirm_problem.html",
        {"error": error, "resend_form": ResendConfirmationForm()},
        status=error.status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm(request, token: str):
    """GET shows a button; POST confirms (mail scanners that follow links change nothing)."""
    try:
        if request.method == "POST":
            confirmation.email_confirm(token=token)
        else:
            user = confirmation.confirmation_check(token)
    except confirmation.ConfirmationError as error:
        return _confirm_problem(request, error)
    if request.method == "POST":
        messages.success(request, "Your e-mail address is confirmed. Sign in to start learning.")
        return redirect("login")
    return render(request, "registration/confirm_email.html", {"email": user.email})


@never_cache
@require_http_methods(["GET", "POST"])
def email_confirm_resend(request):
    form = ResendConfirmationForm(request.POST or None)
    if request.method == "POST":
        try:
            confirmation.check_resend_rate(ip=client_ip(request))
        except RateLimited as error:
            return rate_limited_page(request, error)
        if form.is_valid():
            confirmation.confirmation_resend(email=form.cleaned_data["email"])
            return redirect("email_confirm_resend_done")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/confirm_resend.html", {"form": form}, status=status)


@require_http_methods(["GET"])
def email_confirm_resend_done(request):
    return render(
        request,
        "registration/signup_done.html",
        {"resent": True, "confirmation_hours": confirmation.confirmation_hours()},
    )


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            services.user_profile_update(
                user=request.user,
                legal_name=data["legal_name"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                time_zone=data["time_zone"],
            )
            messages.success(request, "Your profile was saved.")
            return redirect("profile")
        # A ModelForm writes cleaned values onto the instance even when invalid:
        # reload so the preview shows what is really stored.
        request.user.refresh_from_db()
        return render(request, "registration/profile.html", {"form": form}, status=400)
    return render(request, "registration/profile.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = AccessiblePasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def post(self, request, *args, **kwargs):
        try:
            confirmation.check_password_reset_rate(ip=client_ip(request))
        except RateLimited as error:
            return rate_limited_page(request, error)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # Past the per-address limit nothing is sent, and the page answers as usual.
        if not confirmation.password_reset_allowed_for(email=form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = AccessibleSetPasswordForm
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The link reached the inbox: the address is the person's.
        confirmation.email_confirm_by_reset(user=form.user)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = AccessiblePasswordChangeForm
    success_url = reverse_lazy("password_change_done")
