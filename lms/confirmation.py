"""Sign-up with a confirmed e-mail address, and the limits around it.

Contract:
- `user_signup(*, email, password, first_name, last_name, legal_name="")`
  answers the same way whether or not the address has an account (the caller
  shows "check your e-mail" either way), so sign-up cannot be used to learn
  who has an account. A new address gets an unconfirmed account and a
  confirmation link; an address with a confirmed account gets an e-mail
  telling its owner someone tried to sign up with it, with a link to reset the
  password; an address whose account is still unconfirmed gets a new
  confirmation link (as `confirmation_resend`, within its per-address limit).
  Nothing about the existing account changes. Returns the new user, or None
  when the address was taken.
- A confirmation token is signed (django.core.signing, its own salt) over the
  account id and a digest of the e-mail and its confirmation state, and is
  valid for `settings.EMAIL_CONFIRMATION_HOURS` (24). It is single use:
  confirming changes the state it was signed over. `confirmation_check`
  raises `ConfirmationError` with a stable code: 400 `confirmation_invalid`
  (garbled, forged, unknown account, address changed), 410
  `confirmation_expired`, 410 `confirmation_used` (already confirmed).
- `email_confirm(*, token)` confirms (a conditional UPDATE, so two clicks at
  once confirm once) and, after commit, sends `lms.signals.email_confirmed`.
- `confirmation_resend(*, email)` mails a fresh link to an unconfirmed
  account and does nothing for any other address; the caller answers the
  same either way. At most `CONFIRMATION_RESEND_EMAIL_LIMIT` links per
  address and hour are sent (quietly: the answer does not change).
- `check_signup_rate(*, ip)`, `check_resend_rate(*, ip)`,
  `check_password_reset_rate(*, ip)` count one request of that client and
  raise `lms.ratelimit.RateLimited` (429, `retry_after`) past the hourly
  limits SIGNUP_RATE_LIMIT, CONFIRMATION_RESEND_RATE_LIMIT and
  PASSWORD_RESET_RATE_LIMIT. `password_reset_allowed_for(*, email)` is the
  quiet per-address limit (PASSWORD_RESET_EMAIL_LIMIT): False means "send
  nothing, answer as usual".
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from . import ratelimit
from .errors import Conflict, DomainError
from .outbox import SEND_EMAIL, outbox_enqueue
from .services import user_register
from .signals import email_confirmed

logger = logging.getLogger(__name__)

TOKEN_SALT = "lms.confirmation.email"  # noqa: S105 (a signing namespace, not a secret)
# Longer than any token we sign (about 80 characters): refuse before parsing.
TOKEN_MAX_LENGTH = 200
HOUR = timedelta(hours=1)

SCOPE_SIGNUP_IP = "signup_ip"
SCOPE_RESEND_IP = "confirm_resend_ip"
SCOPE_RESEND_EMAIL = "confirm_resend_email"
SCOPE_RESET_IP = "pw_reset_ip"
SCOPE_RESET_EMAIL = "pw_reset_email"


class ConfirmationError(DomainError):
    status = 400
    code = "confirmation_invalid"


def confirmation_hours() -> int:
    return int(getattr(settings, "EMAIL_CONFIRMATION_HOURS", 24))


def _state(user) -> str:
    # Signed over the address and whether it is confirmed: confirming, or an
    # address change, makes every link issued before it stop working.
    confirmed = user.email_confirmed_at.isoformat() if user.email_confirmed_at else ""
    return hashlib.sha256(f"{user.email}\x1f{confirmed}".encode()).hexdigest()[:32]


def confirmation_token(user) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=TOKEN_SALT, compress=False)


def confirmation_url(user) -> str:
    return settings.SITE_URL + reverse("email_confirm", args=[confirmation_token(user)])


def confirmation_check(token: str):
    """The unconfirmed user this token confirms, or ConfirmationError."""
    invalid = ConfirmationError(
        "This confirmation link is not valid. Copy the whole link from the e-mail, or ask "
        "for a new one."
    )
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise invalid
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=confirmation_hours() * 3600)
    except signing.SignatureExpired:
        raise ConfirmationError(
            f"This confirmation link expired (links work for {confirmation_hours()} hours). "
            "Ask for a new one below.",
            code="confirmation_expired",
            status=410,
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise invalid from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise invalid
    user = get_user_model().objects.filter(pk=data["u"]).first()
    if user is None:
        raise invalid
    if user.email_confirmed_at is not None:
        raise ConfirmationError(
            "Your e-mail address is already confirmed: this link was used. Sign in.",
            code="confirmation_used",
            status=410,
        )
    if data.get("s") != _state(user):
        raise invalid
    return user


@transaction.atomic
def email_confirm(*, token: str):
    """Confirm the address the token was sent to; returns the user."""
    user = confirmation_check(token)
    now = timezone.now()
    User = get_user_model()
    claimed = User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=now
    )
    if not claimed:  # confirmed by a parallel click between our read and now
        raise ConfirmationError(
            "Your e-mail address is already confirmed: this link was used. Sign in.",
            code="confirmation_used",
            status=410,
        )
    user.email_confirmed_at = now
    transaction.on_commit(lambda: email_confirmed.send(sender=User, user=user))
    return user


@transaction.atomic
def email_confirm_by_reset(*, user) -> bool:
    """A completed password reset proves the address too: confirm it (idempotent).

    Returns True when this call confirmed it (and `email_confirmed` is sent on
    commit, so what the person earned meanwhile is issued).
    """
    User = get_user_model()
    now = timezone.now()
    claimed = User.objects.filter(pk=user.pk, email_confirmed_at__isnull=True).update(
        email_confirmed_at=now
    )
    if claimed:
        user.email_confirmed_at = now
        transaction.on_commit(lambda: email_confirmed.send(sender=User, user=user))
    return bool(claimed)


def _mail_on_commit(template: str, subject: str, recipient: str, context: dict) -> None:
    body = render_to_string(template, {**context, "site_url": settings.SITE_URL})
    outbox_enqueue(SEND_EMAIL, subject=subject, body=body, to=[recipient])


def send_confirmation(user) -> None:
    _mail_on_commit(
        "registration/confirm_email.txt",
        "Confirm your e-mail address for Partner Academy",
        user.email,
        {"user": user, "url": confirmation_url(user), "hours": confirmation_hours()},
    )


def send_signup_attempt_notice(user) -> None:
    _mail_on_commit(
        "registration/signup_attempt_email.txt",
        "Someone tried to sign up to Partner Academy with your address",
        user.email,
        {"user": user, "reset_url": settings.SITE_URL + reverse("password_reset")},
    )


@transaction.atomic
def user_signup(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    legal_name: str = "",
    time_zone: str = "",
):
    email = email.strip().lower()
    existing = get_user_model().objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            user = user_register(
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                legal_name=legal_name,
                time_zone=time_zone,
            )
        except Conflict:  # a concurrent sign-up with this address won
            existing = get_user_model().objects.filter(email__iexact=email).first()
        else:
            send_confirmation(user)
            return user
    # Hash anyway so both answers take about as long.
    make_password(password)
    if existing is None:
        return None
    if existing.email_confirmed_at is None:
        # Most likely the same person, who lost the first link.
        confirmation_resend(email=existing.email)
    else:
        send_signup_attempt_notice(existing)
    return None


def confirmation_resend(*, email: str) -> bool:
    """Mail a new link when `email` has an unconfirmed account; True when one was sent."""
    email = (email or "").strip().lower()
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is None or user.email_confirmed_at is not None or not user.is_active:
        return False
    try:
        ratelimit.rate_limit_hit(
            scope=SCOPE_RESEND_EMAIL,
            key=email,
            limit=int(getattr(settings, "CONFIRMATION_RESEND_EMAIL_LIMIT", 3)),
            window=HOUR,
        )
    except ratelimit.RateLimited:
        logger.info("Confirmation resend for one address held back by its hourly limit.")
        return False
    with transaction.atomic():
        send_confirmation(user)
    return True


# --- per-client limits --------------------------------------------------------------


def _ip_limit(*, scope: str, ip: str, setting: str, default: int, message: str) -> None:
    ratelimit.rate_limit_hit(
        scope=scope,
        key=ip,
        limit=int(getattr(settings, setting, default)),
        window=HOUR,
        message=message,
    )


def check_signup_rate(*, ip: str) -> None:
    _ip_limit(
        scope=SCOPE_SIGNUP_IP,
        ip=ip,
        setting="SIGNUP_RATE_LIMIT",
        default=10,
        message="Too many sign-ups from your network in the last hour; try again later.",
    )


def check_resend_rate(*, ip: str) -> None:
    _ip_limit(
        scope=SCOPE_RESEND_IP,
        ip=ip,
        setting="CONFIRMATION_RESEND_RATE_LIMIT",
        default=5,
        message="Too many confirmation links asked for from your network; try again later.",
    )


def check_password_reset_rate(*, ip: str) -> None:
    _ip_limit(
        scope=SCOPE_RESET_IP,
        ip=ip,
        setting="PASSWORD_RESET_RATE_LIMIT",
        default=10,
        message="Too many password resets asked for from your network; try again later.",
    )


def password_reset_allowed_for(*, email: str) -> bool:
    """Count one reset e-mail to `email`; False (send nothing) past the hourly limit."""
    try:
        ratelimit.rate_limit_hit(
            scope=SCOPE_RESET_EMAIL,
            key=(email or "").strip().lower(),
            limit=int(getattr(settings, "PASSWORD_RESET_EMAIL_LIMIT", 3)),
            window=HOUR,
        )
    except ratelimit.RateLimited:
        return False
    return True
