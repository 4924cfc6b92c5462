"""A second factor at sign-in: TOTP authenticator apps and single-use recovery codes.

Built on django-otp (its TOTP and static-token plugins); this module is the one
place that decides who needs a code and checks one.

Contract:
- `is_privileged(user)`: instructors, programme staff, superusers and anyone
  with `is_staff` — the people who can change what others learn and earn.
- `two_factor_enabled(user)`: the person has confirmed an authenticator app.
  They are asked for a code at every sign-in, whatever OTP_REQUIRED says.
- `two_factor_required(user)`: a verified second factor is needed for the
  admins and for API tokens: enabled, or privileged while
  `settings.OTP_REQUIRED` is on.
- `normalise_code(raw)` -> the code as stored (spaces and dashes dropped,
  lower case), or None when it is shaped like neither a 6-digit app code nor
  a recovery code. Callers turn None into a clear "that is not a code" error.
- `two_factor_verify(*, user, code)` -> the device that accepted `code`, or
  None. Six digits are checked against the authenticator app (a code is
  accepted once: django-otp remembers the last time step used); anything else
  against the recovery codes, each of which is deleted when used. Wrong codes
  slow the device down (django-otp's throttling: 1, 2, 4 … seconds), which
  also bounds guessing through the API; a code sent while the device waits is
  not checked and raises `RateLimited` (429 `otp_throttled`, `retry_after`).
  Callers report a wrong code to the sign-in throttle (`report_failed_code`).
- `two_factor_setup_start(*, user)` -> an unconfirmed TOTP device (the same one
  until it is confirmed, so reloading the page keeps the secret);
  `two_factor_setup_confirm(*, user, device, code)` confirms it with a current
  code from the app (`OtpInvalid` otherwise, `RateLimited` right after wrong
  ones), replaces any earlier app and
  returns fresh recovery codes with the confirmed device.
- `recovery_codes_regenerate(*, user)` -> RECOVERY_CODE_COUNT new codes (the old
  ones stop working); `recovery_codes_remaining(user)` -> how many are unused.
- `two_factor_disable(*, user)` forgets the app and the recovery codes;
  `TwoFactorRequired` (403) when the person is privileged and OTP_REQUIRED is on.
"""

import io
import math
import re
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .errors import DomainError
from .permissions import is_instructor
from .ratelimit import RateLimited

RECOVERY_CODE_COUNT = 10
# The longest input worth reading: a recovery code with separators fits easily.
CODE_MAX_LENGTH = 16
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

_APP_CODE = re.compile(r"[0-9]{6}")
# django-otp's StaticToken.random_token(): 8 characters of lower-case base32.
_RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")
_SEPARATORS = re.compile(r"[\s-]+")


class OtpRequired(DomainError):
    code = "otp_required"
    status = 401


class OtpInvalid(DomainError):
    code = "otp_invalid"
    status = 401


class TwoFactorRequired(DomainError):
    code = "two_factor_required"
    status = 403


# --- who ------------------------------------------------------------------------


def is_privileged(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff) or is_instructor(user)


def two_factor_enabled(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def two_factor_required(user) -> bool:
    if settings.OTP_REQUIRED and is_privileged(user):
        return True
    return two_factor_enabled(user)


def may_disable(user) -> bool:
    return not (settings.OTP_REQUIRED and is_privileged(user))


# --- codes --------------------------------------------------------------------------


def normalise_code(raw) -> str | None:
    if not isinstance(raw, str) or len(raw) > CODE_MAX_LENGTH:
        return None
    code = _SEPARATORS.sub("", raw).lower()
    if _APP_CODE.fullmatch(code) or _RECOVERY_CODE.fullmatch(code):
        return code
    return None


def is_recovery_code(code: str) -> bool:
    return bool(_RECOVERY_CODE.fullmatch(code))


def two_factor_verify(*, user, code: str):
    """The confirmed device of `user` that accepts `code` (consumed), or None.

    Raises `RateLimited` (code `otp_throttled`) while the device still waits
    out earlier wrong codes: the code was not checked, so it is no failure.
    """
    code = normalise_code(code)
    if code is None:
        return None
    model = StaticDevice if is_recovery_code(code) else TOTPDevice
    locked_until = None
    checked = False
    # Locked rows: two requests with the same code cannot both succeed.
    with transaction.atomic():
        devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices:
            until = _locked_until(device)
            if until is not None:
                locked_until = until if locked_until is None else max(until, locked_until)
                continue
            checked = True
            if device.verify_token(code):
                return device
    if locked_until is not None and not checked:
        _raise_throttled(locked_until)
    return None


def _locked_until(device):
    """When `device` accepts codes again after wrong ones, or None if it does now."""
    allowed, details = device.verify_is_allowed()
    if allowed:
        return None
    return (details or {}).get("locked_until") or timezone.now()


def _raise_throttled(locked_until) -> None:
    wait = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    raise RateLimited(
        f"Too many wrong codes. Wait {wait} seconds, then enter the code your app shows.",
        retry_after=wait,
        code="otp_throttled",
    )


def report_failed_code(*, request, user) -> None:
    """A wrong second factor counts as a failed sign-in for the account."""
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)


# --- setting up -------------------------------------------------------------------------


def two_factor_setup_start(*, user) -> TOTPDevice:
    pending = list(TOTPDevice.objects.devices_for_user(user, confirmed=False).order_by("pk"))
    if pending:
        device = pending[-1]
        TOTPDevice.objects.filter(pk__in=[d.pk for d in pending[:-1]]).delete()
        return device
    return TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def two_factor_setup_confirm(
    *, user, device: TOTPDevice, code: str
) -> tuple[list[str], TOTPDevice]:
    """Confirm `device` with a current code; returns the new recovery codes and the device."""
    normalised = normalise_code(code)
    if normalised is None or is_recovery_code(normalised):
        raise OtpInvalid("Enter the 6-digit code your authenticator app shows.")
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device.pk, user=user, confirmed=False)
            .first()
        )
        if device is not None and (locked_until := _locked_until(device)) is not None:
            _raise_throttled(locked_until)
        if device is None or not device.verify_token(normalised):
            raise OtpInvalid(
                "That code does not match. Check the app shows Partner Academy and "
                "enter the code it shows now."
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # One app at a time: a new phone replaces the old one.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = recovery_codes_regenerate(user=user)
    return codes, device


def setup_secret(device: TOTPDevice) -> str:
    """The key as authenticator apps want it typed: base32 in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def setup_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (no XML declaration, no fixed size)."""
    image = qrcode.make(
        device.config_url,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=2,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    # Decorative for screen readers: the secret is printed in text next to it.
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" class="qr-code" ', 1)


# --- recovery codes ------------------------------------------------------------------


def recovery_codes_regenerate(*, user) -> list[str]:
    with transaction.atomic():
        device = StaticDevice.objects.filter(user=user).order_by("pk").first()
        if device is None:
            device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME)
        StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.token_set.all().delete()
        codes = set()
        while len(codes) < RECOVERY_CODE_COUNT:
            codes.add(StaticToken.random_token())
        codes = sorted(codes)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def recovery_codes_remaining(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- turning off ---------------------------------------------------------------------


def two_factor_disable(*, user) -> None:
    if not may_disable(user):
        raise TwoFactorRequired(
            "Instructors, programme staff and administrators must keep two-factor "
            "authentication on."
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
