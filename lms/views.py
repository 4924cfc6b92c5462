"""Account pages. Views translate HTTP to lms.services calls and back."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.debug import sensitive_post_parameters

from . import services, two_factor
from .errors import Conflict
from .forms import (
    AccessiblePasswordChangeForm,
    AccessiblePasswordResetForm,
    AccessibleSetPasswordForm,
    EmailAuthenticationForm,
    ProfileForm,
    SignupForm,
)
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


@sensitive_post_parameters("password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_register(
                email=data["email"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                legal_name=data["legal_name"],
            )
        except Conflict as error:
            form.add_error("email", error.message)
        else:
            login(request, user, backend=MODEL_BACKEND)
            messages.success(
                request,
                f"Welcome to Partner Academy, {user.first_name}! Your account is ready.",
            )
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


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


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = AccessibleSetPasswordForm
    success_url = reverse_lazy("password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = AccessiblePasswordChangeForm
    success_url = reverse_lazy("password_change_done")
