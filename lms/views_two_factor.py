"""Two-factor pages under /accounts/two-factor/ and the admins' gate.

- Sign-in, second step (`verify`): after a right password, someone with an
  authenticator app is not signed in yet. The session remembers who they are
  (PENDING_KEY, for PENDING_SECONDS) and they enter a code or a recovery code;
  only then does `login()` run and the session become verified
  (`request.user.is_verified()`). A wrong code is a failed sign-in (the
  throttle hears of it through `user_login_failed`); after MAX_CODE_TRIES the
  step starts over from the password. The same page verifies a session that
  is signed in but not verified (signed in some other way).
- `overview`, `setup`, `recovery_codes`, `recovery_codes_download`,
  `recovery_codes_regenerate`, `disable`: the person's own settings. New
  recovery codes are kept in the session only until the person says they saved
  them, so they are shown (and downloadable) once.
- `TwoFactorAdminMiddleware`: the Wagtail and Django admins' sign-in pages send
  people to ours (which has the code step), and the admins need a verified
  session from everyone `lms.two_factor.two_factor_required` names: with an app,
  to the code step; privileged without one (OTP_REQUIRED), to set one up.
"""

import time
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import two_factor
from .errors import DomainError
from .forms_two_factor import (
    ReauthenticateForm,
    RecoveryCodeForm,
    SetupConfirmForm,
    SignInCodeForm,
)
from .ratelimit import RateLimited

PENDING_KEY = "two_factor_pending"
FRESH_CODES_KEY = "two_factor_fresh_codes"
TRIES_KEY = "two_factor_tries"
PENDING_SECONDS = 10 * 60
MAX_CODE_TRIES = 3  # then the password again (below the sign-in throttle's own limit)


def _safe_next(request, candidate: str | None, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _with_next(url: str, next_url: str | None) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _unverified_with_app(user) -> bool:
    """Signed in, has an app, but this session has not given a code."""
    return user.is_authenticated and not user.is_verified() and two_factor.two_factor_enabled(user)


# --- sign-in, second step -----------------------------------------------------------------


def start_code_step(request, user, redirect_to: str) -> HttpResponseRedirect:
    """Called by the sign-in view after a right password: ask for the code next."""
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "at": int(time.time()),
        "next": redirect_to,
        "tries": 0,
    }
    return redirect("two_factor_verify")


def _pending_user(request):
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None, None
    if time.time() - pending.get("at", 0) > PENDING_SECONDS:
        del request.session[PENDING_KEY]
        messages.error(request, "That took too long. Please sign in again.")
        return None, None
    user = get_user_model().objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None:
        del request.session[PENDING_KEY]
        return None, None
    return user, pending


@sensitive_post_parameters("code")
@never_cache
def verify(request):
    recovery = request.GET.get("method") == "recovery"
    user, pending = _pending_user(request)
    if user is None:
        if not request.user.is_authenticated:
            return redirect("login")
        if not _unverified_with_app(request.user):
            return redirect(_safe_next(request, request.GET.get("next"), reverse("home")))
        user = request.user

    form = (RecoveryCodeForm if recovery else SignInCodeForm)(request.POST or None)
    throttled = None
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.two_factor_verify(user=user, code=form.cleaned_data["code"])
            if device is None:
                # Inside the try: a throttle listening to the signal may refuse at once.
                two_factor.report_failed_code(request=request, user=user)
        except RateLimited as error:
            throttled = error
            form.add_error("code", error.message)
        else:
            if device is not None:
                return _code_accepted(request, user, device, pending)
            tries = _count_try(request, pending)
            if tries >= MAX_CODE_TRIES:
                request.session.pop(PENDING_KEY, None)
                request.session.pop(TRIES_KEY, None)
                if request.user.is_authenticated:
                    logout(request)
                messages.error(request, "Too many wrong codes. Please sign in again.")
                return redirect("login")
            form.add_error(
                "code",
                "That code is not right or has been used. Enter the code your app shows now.",
            )
    response = render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "recovery": recovery, "next": request.GET.get("next", "")},
        status=400 if request.method == "POST" else 200,
    )
    return _throttled_response(response, throttled)


def _throttled_response(response, error: RateLimited | None):
    """A page answering a throttled code says so like the API: 429 and Retry-After."""
    if error is not None:
        response.status_code = 429
        response["Retry-After"] = str(error.retry_after)
    return response


def _count_try(request, pending) -> int:
    if pending is not None:
        pending["tries"] = pending.get("tries", 0) + 1
        request.session[PENDING_KEY] = pending
        return pending["tries"]
    tries = request.session.get(TRIES_KEY, 0) + 1
    request.session[TRIES_KEY] = tries
    return tries


def _code_accepted(request, user, device, pending):
    request.session.pop(TRIES_KEY, None)
    if pending is not None:
        del request.session[PENDING_KEY]
        login(request, user, backend=pending["backend"])
        redirect_to = pending.get("next") or reverse(settings.LOGIN_REDIRECT_URL)
    else:
        # More trust than a moment ago: a new session id, as login() would give.
        request.session.cycle_key()
        redirect_to = _safe_next(request, request.GET.get("next"), reverse("home"))
    django_otp.login(request, device)
    if not isinstance(device, TOTPDevice):
        left = two_factor.recovery_codes_remaining(user)
        messages.warning(
            request,
            f"You used a recovery code; {left} left. If you lost your phone, set up "
            "the app again and make new recovery codes.",
        )
    return redirect(redirect_to)


# --- the person's own settings ------------------------------------------------------------


def _verified_or_code_step(view):
    """Settings pages need a verified session from someone with an app."""

    def wrapped(request, *args, **kwargs):
        if _unverified_with_app(request.user):
            return redirect(_with_next(reverse("two_factor_verify"), request.get_full_path()))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return login_required(wrapped)


@_verified_or_code_step
def overview(request):
    user = request.user
    return render(
        request,
        "registration/two_factor_overview.html",
        {
            "enabled": two_factor.two_factor_enabled(user),
            "required": settings.OTP_REQUIRED and two_factor.is_privileged(user),
            "may_disable": two_factor.may_disable(user),
            "codes_left": two_factor.recovery_codes_remaining(user),
        },
    )


@sensitive_post_parameters("code")
@never_cache
@_verified_or_code_step
def setup(request):
    user = request.user
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"), "")
    device = two_factor.two_factor_setup_start(user=user)
    form = SetupConfirmForm(request.POST or None)
    throttled = None
    if request.method == "POST" and form.is_valid():
        try:
            codes, device = two_factor.two_factor_setup_confirm(
                user=user, device=device, code=form.cleaned_data["code"]
            )
        except DomainError as error:
            if isinstance(error, RateLimited):
                throttled = error
            form.add_error("code", error.message)
        else:
            django_otp.login(request, device)
            request.session.cycle_key()
            _keep_fresh_codes(request, codes, next_url)
            messages.success(request, "Two-factor authentication is on.")
            return redirect("two_factor_recovery_codes")
    response = render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": two_factor.setup_qr_svg(device),
            "secret": two_factor.setup_secret(device),
            "replacing": two_factor.two_factor_enabled(user),
            "next": next_url,
        },
        status=400 if request.method == "POST" else 200,
    )
    return _throttled_response(response, throttled)


def _keep_fresh_codes(request, codes, next_url=""):
    request.session[FRESH_CODES_KEY] = {"codes": codes, "next": next_url}


@never_cache
@_verified_or_code_step
def recovery_codes(request):
    fresh = request.session.get(FRESH_CODES_KEY)
    if request.method == "POST":
        # "I saved them": the codes are not shown again.
        request.session.pop(FRESH_CODES_KEY, None)
        next_url = (fresh or {}).get("next") or ""
        return redirect(_safe_next(request, next_url, reverse("two_factor")))
    if not two_factor.two_factor_enabled(request.user):
        return redirect("two_factor")
    return render(
        request,
        "registration/two_factor_recovery_codes.html",
        {
            "codes": (fresh or {}).get("codes"),
            "codes_left": two_factor.recovery_codes_remaining(request.user),
        },
    )


@never_cache
@_verified_or_code_step
def recovery_codes_download(request):
    fresh = request.session.get(FRESH_CODES_KEY)
    if not fresh or not two_factor.two_factor_enabled(request.user):
        raise Http404("No new recovery codes to download.")
    lines = [
        f"Partner Academy recovery codes for {request.user.email}",
        "Each code signs you in once when you cannot use your authenticator app.",
        "",
        *fresh["codes"],
        "",
    ]
    response = HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="partner-academy-recovery-codes.txt"'
    return response


def _reauthenticated(request, form) -> bool:
    """The code or password in `form` is right; a wrong one counts as a failed sign-in.

    Raises RateLimited while the app waits out earlier wrong codes.
    """
    user = request.user
    code = form.cleaned_data.get("code")
    if code:
        try:
            device = two_factor.two_factor_verify(user=user, code=code)
            if device is None:
                two_factor.report_failed_code(request=request, user=user)
        except RateLimited as error:
            form.add_error("code", error.message)
            raise
        if device is not None:
            return True
        form.add_error("code", "That code is not right or has been used.")
        return False
    # authenticate() reports a wrong password to the throttle itself.
    checked = authenticate(request, username=user.email, password=form.cleaned_data["password"])
    if checked is not None and checked.pk == user.pk:
        return True
    form.add_error("password", "That password is not right.")
    return False


@sensitive_post_parameters("code", "password")
@never_cache
@_verified_or_code_step
def recovery_codes_regenerate(request):
    if not two_factor.two_factor_enabled(request.user):
        return redirect("two_factor")
    form = ReauthenticateForm(request.POST or None)
    throttled = None
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = _reauthenticated(request, form)
        except RateLimited as error:
            confirmed, throttled = False, error
        if confirmed:
            codes = two_factor.recovery_codes_regenerate(user=request.user)
            _keep_fresh_codes(request, codes)
            messages.success(request, "New recovery codes are ready; the old ones stop working.")
            return redirect("two_factor_recovery_codes")
    response = render(
        request,
        "registration/two_factor_regenerate.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
    return _throttled_response(response, throttled)


@sensitive_post_parameters("code", "password")
@never_cache
@_verified_or_code_step
def disable(request):
    user = request.user
    if not two_factor.two_factor_enabled(user):
        return redirect("two_factor")
    if not two_factor.may_disable(user):
        return render(
            request,
            "registration/two_factor_disable.html",
            {"form": None, "refused": True},
            status=403,
        )
    form = ReauthenticateForm(request.POST or None)
    throttled = None
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = _reauthenticated(request, form)
        except RateLimited as error:
            confirmed, throttled = False, error
        if confirmed:
            try:
                two_factor.two_factor_disable(user=user)
            except DomainError as error:  # became privileged since the page loaded
                messages.error(request, error.message)
                return redirect("two_factor")
            request.session.pop(FRESH_CODES_KEY, None)
            request.session.pop(django_otp.DEVICE_ID_SESSION_KEY, None)
            messages.success(request, "Two-factor authentication is off.")
            return redirect("two_factor")
    response = render(
        request,
        "registration/two_factor_disable.html",
        {"form": form, "refused": False},
        status=400 if request.method == "POST" else 200,
    )
    return _throttled_response(response, throttled)


# --- the admins -----------------------------------------------------------------------------


class TwoFactorAdminMiddleware:
    """Second factor for /admin/ (Wagtail) and /django-admin/ (Django).

    Wagtail documents no hook that runs before every admin view, so the gate is
    a middleware on the two admins' URL prefixes (after OTPMiddleware and
    MessageMiddleware). Their own sign-in forms would sign people in without the
    code step, so they are replaced by ours: anonymous visitors and form posts
    are redirected to /accounts/login/ with the same `next`. A signed-in
    person's GET still reaches the admin's sign-in page, which sends admins on
    to the admin (and this gate) and tells others they have no access.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._paths = None

    def _admin_paths(self):
        if self._paths is None:
            self._paths = {
                "prefixes": (reverse("wagtailadmin_home"), reverse("admin:index")),
                "logins": {
                    reverse("wagtailadmin_login"): reverse("wagtailadmin_home"),
                    reverse("admin:login"): reverse("admin:index"),
                },
                "logouts": {reverse("wagtailadmin_logout"), reverse("admin:logout")},
            }
        return self._paths

    def __call__(self, request):
        paths = self._admin_paths()
        if request.path.startswith(paths["prefixes"]):
            response = self._gate(request, paths)
            if response is not None:
                return response
        return self.get_response(request)

    def _gate(self, request, paths):
        user = request.user
        if request.path in paths["logins"]:
            if request.method == "GET" and user.is_authenticated:
                return None
            default = paths["logins"][request.path]
            next_url = _safe_next(request, request.GET.get("next"), default)
            return redirect(_with_next(reverse("login"), next_url))
        if request.path in paths["logouts"] or not user.is_authenticated:
            return None
        if user.is_verified():
            return None
        if two_factor.two_factor_enabled(user):
            return redirect(_with_next(reverse("two_factor_verify"), request.get_full_path()))
        if settings.OTP_REQUIRED and two_factor.is_privileged(user):
            messages.info(
                request,
                "The administration needs two-factor authentication. Set it up to continue.",
            )
            return redirect(_with_next(reverse("two_factor_setup"), request.get_full_path()))
        return None
