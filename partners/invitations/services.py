"""Partner admins manage their people: invitations, roles, ending memberships.

Contract:
- `invitation_create(...)` returns `(invitation, token)`. The plain token is
  only in the e-mailed link (sent after commit); the database keeps its
  SHA-256. One open invitation per partner and address (409
  `duplicate_invitation`, backed by a partial unique constraint); an expired
  one is closed as superseded when the address is invited again. Inviting a
  person who is a current member of THIS partner is refused (409
  `already_member`: the inviter sees their own roster anyway); a membership
  elsewhere is not looked at, so inviting tells the inviter nothing about
  other companies (the invitee learns it when accepting).
- Only approved partners (provisional or active) invite: others get 403
  `partner_not_approved`, so an applicant cannot send e-mails naming a company
  staff never checked. A partner sends at most `INVITATION_DAILY_LIMIT`
  invitations per 24 hours (429 `too_many_requests` with `retry_after`).
- An invitation link is single-use and expires after `PARTNER_INVITATION_DAYS`
  (default 7). `invitation_accept(...)` refuses unknown tokens (404
  `invitation_not_found`), used / revoked / expired ones (410
  `invitation_used` / `invitation_revoked` / `invitation_expired`), accounts
  whose e-mail is not the invited one (403 `invitation_email_mismatch`) and
  people with a current membership (409 `already_member`); any refusal leaves
  the invitation open and changes nothing. Accepting stamps the invitation
  with a conditional UPDATE and starts the membership in the same
  transaction, so a link used twice at once yields one membership.
- `invitation_accept_with_signup(...)` answers the same whether or not the
  invited address has an account: with none, it creates an unconfirmed
  account (lms.services.user_register), accepts, and mails a confirmation
  link; with one, it changes nothing and mails the owner that someone tried to
  create an account with the invitation (sign in, then open the link again).
  Returns `(user, membership)` or `(None, None)`; the page says "check your
  e-mail" either way.
- `member_role_set(...)` / `member_end(...)`: a partner always keeps at least
  one current admin (409 `last_admin`). The check locks the partner row
  (SELECT ... FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions
  serialise writers) and re-counts the admins inside the transaction, so two
  admins demoting each other at once cannot leave none. Ending a membership
  never deletes anything: the person keeps their credentials.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from lms import confirmation
from lms import services as account_services
from lms.errors import Conflict, DomainError, NotFound
from lms.errors import PermissionDenied as DomainPermissionDenied
from lms.models import User
from lms.outbox import SEND_EMAIL, outbox_enqueue
from lms.ratelimit import rate_limit_hit
from lms.timezones import in_zone_of

from ..membership import services
from ..models import Invitation, Membership, Partner

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,128}")
APPROVED_STATUSES = (Partner.Status.PROVISIONAL, Partner.Status.ACTIVE)
INVITATION_SCOPE = "partner_invitation"


def invitation_days() -> int:
    return int(getattr(settings, "PARTNER_INVITATION_DAYS", 7))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.SITE_URL + reverse("partners_portal:invitation", args=[token])


# --- guards -------------------------------------------------------------------


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(
            f"{email!r} is not an e-mail address.", code="invalid_email", status=422
        ) from None
    return email


def check_not_a_member(*, email: str, partner: Partner) -> None:
    """Refuse an address that is already a current member of `partner` itself.

    Memberships of other partners are deliberately not looked at here.
    """
    if Membership.objects.filter(
        partner_id=partner.pk, person__email__iexact=email, ended__isnull=True
    ).exists():
        raise Conflict(f"{email} is already a member of {partner.name}.", code="already_member")


def partner_may_invite(partner: Partner) -> bool:
    return partner.status in APPROVED_STATUSES


def check_partner_may_invite(partner: Partner) -> None:
    if not partner_may_invite(partner):
        raise DomainPermissionDenied(
            f"{partner.name} can invite people once programme staff have approved it "
            "(it is a provisional or active partner).",
            code="partner_not_approved",
        )


def check_invitation_rate(partner: Partner, *, now: datetime) -> None:
    limit = int(getattr(settings, "INVITATION_DAILY_LIMIT", 50))
    rate_limit_hit(
        scope=INVITATION_SCOPE,
        key=str(partner.pk),
        limit=limit,
        window=timedelta(days=1),
        message=f"{partner.name} sent {limit} invitations in the last 24 hours, the most "
        "allowed; try again later.",
        now=now,
    )


def check_invitation_open(invitation: Invitation, *, now: datetime) -> None:
    if invitation.accepted_at is not None:
        raise DomainError(
            "This invitation link was already used. Ask your partner admin for a new one "
            "if you still need to join.",
            code="invitation_used",
            status=410,
        )
    if invitation.revoked_at is not None:
        raise DomainError(
            "This invitation was withdrawn. Ask your partner admin for a new one.",
            code="invitation_revoked",
            status=410,
        )
    if invitation.expires_at <= now:
        raise DomainError(
            f"This invitation expired on {invitation.expires_at:%d %B %Y}. "
            "Ask your partner admin for a new one.",
            code="invitation_expired",
            status=410,
        )


def check_email_matches(invitation: Invitation, person: User) -> None:
    if person.email.lower() != invitation.email.lower():
        raise DomainPermissionDenied(
            f"This invitation was sent to {invitation.email}; sign in with that address "
            "to accept it.",
            code="invitation_email_mismatch",
        )


def check_keeps_an_admin(*, partner: Partner, losing: Membership) -> None:
    """Refuse when `losing` is the partner's only current admin.

    Call inside the transaction that makes the change: the partner row is
    locked first, then the admins are counted afresh.
    """
    _lock_partner(partner)
    others = (
        Membership.objects.filter(
            partner_id=partner.pk, role=Membership.Role.ADMIN, ended__isnull=True
        )
        .exclude(pk=losing.pk)
        .count()
    )
    if others == 0:
        raise Conflict(
            f"{partner.name} must keep at least one partner admin. Make someone else an "
            "admin first.",
            code="last_admin",
        )


def _lock_partner(partner: Partner) -> None:
    # Serialises admin changes per partner on PostgreSQL (a no-op on SQLite,
    # whose IMMEDIATE transactions already take the write lock at BEGIN).
    list(Partner.objects.select_for_update().filter(pk=partner.pk).values_list("pk", flat=True))


# --- invitations --------------------------------------------------------------


def invitation_get_by_token(token: str) -> Invitation:
    """The invitation for `token` (any state), or 404 `invitation_not_found`."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise NotFound("This invitation link is not valid.", code="invitation_not_found")
    invitation = (
        Invitation.objects.select_related("partner", "created_by")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid.", code="invitation_not_found")
    return invitation


@transaction.atomic
def invitation_create(
    *,
    partner: Partner,
    email: str,
    role: str = Membership.Role.EMPLOYEE,
    created_by: User,
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    now = now or timezone.now()
    check_partner_may_invite(partner)
    email = clean_email(email)
    services.check_role(role)
    check_not_a_member(email=email, partner=partner)
    open_ = Invitation.objects.filter(
        partner=partner, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first()
    if open_ is not None:
        if open_.expires_at > now:
            raise Conflict(
                f"{email} already has a pending invitation (until "
                f"{open_.expires_at:%d %B %Y}). Withdraw it to send a new one.",
                code="duplicate_invitation",
            )
        Invitation.objects.filter(pk=open_.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason="expired; superseded by a new invitation"
        )
    # Counted inside this transaction: a refused invitation is not counted.
    check_invitation_rate(partner, now=now)
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                partner=partner,
                email=email,
                role=role,
                token_hash=token_hash(token),
                created_by=created_by,
                created_at=now,
                expires_at=now + timedelta(days=invitation_days()),
            )
    except IntegrityError:  # a concurrent request invited the same address
        raise Conflict(
            f"{email} already has a pending invitation.", code="duplicate_invitation"
        ) from None
    _mail_invitation_on_commit(invitation, token)
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, now: datetime | None = None) -> Invitation:
    """Withdraw an open invitation. Withdrawing twice changes nothing; a used one is 409."""
    now = now or timezone.now()
    Invitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now, revoked_reason="withdrawn")
    invitation.refresh_from_db()
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted.", code="invitation_used")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, person: User, now: datetime | None = None) -> Membership:
    now = now or timezone.now()
    invitation = invitation_get_by_token(token)
    check_invitation_open(invitation, now=now)
    check_email_matches(invitation, person)
    services.check_no_current_membership(person=person)
    claimed = Invitation.objects.filter(
        pk=invitation.pk,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).update(accepted_at=now, accepted_by=person)
    if not claimed:  # used or withdrawn between our read and now
        invitation.refresh_from_db()
        check_invitation_open(invitation, now=now)
        raise Conflict("This invitation can no longer be used.", code="invitation_used")
    membership = services.membership_start(
        person=person, partner=invitation.partner, role=invitation.role, started=now
    )
    Invitation.objects.filter(pk=invitation.pk).update(membership=membership)
    return membership


@transaction.atomic
def invitation_accept_with_signup(
    *,
    token: str,
    password: str,
    first_name: str,
    last_name: str,
    legal_name: str = "",
    now: datetime | None = None,
) -> tuple[User, Membership] | tuple[None, None]:
    """Create the account for the invited address and accept: (user, membership).

    (None, None) when the address has an account: its owner is told by e-mail.
    """
    now = now or timezone.now()
    invitation = invitation_get_by_token(token)
    check_invitation_open(invitation, now=now)
    existing = get_user_model().objects.filter(email__iexact=invitation.email).first()
    if existing is not None:
        make_password(password)  # about as long as creating the account takes
        _mail_signup_attempt_on_commit(invitation, existing, token)
        return None, None
    user = account_services.user_register(
        email=invitation.email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        legal_name=legal_name,
    )
    membership = invitation_accept(token=token, person=user, now=now)
    confirmation.send_confirmation(user)
    return user, membership


# --- members ------------------------------------------------------------------


def member_get(*, partner: Partner, member_id: int) -> Membership:
    """A current membership of `partner` by id, or 404 `member_not_found`."""
    membership = (
        Membership.objects.select_related("person")
        .filter(pk=member_id, partner_id=partner.pk, ended__isnull=True)
        .first()
    )
    if membership is None:
        raise NotFound("No such current member of this partner.", code="member_not_found")
    return membership


@transaction.atomic
def member_role_set(*, partner: Partner, membership: Membership, role: str) -> Membership:
    services.check_role(role)
    _lock_partner(partner)
    # Re-read under the lock: the caller's copy may be stale.
    membership = member_get(partner=partner, member_id=membership.pk)
    if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        check_keeps_an_admin(partner=partner, losing=membership)
    return services.membership_set_role(membership=membership, role=role)


@transaction.atomic
def member_end(
    *, partner: Partner, membership: Membership, reason: str = "", now: datetime | None = None
) -> Membership:
    _lock_partner(partner)
    membership = member_get(partner=partner, member_id=membership.pk)
    if membership.role == Membership.Role.ADMIN:
        check_keeps_an_admin(partner=partner, losing=membership)
    return services.membership_end(membership=membership, ended=now, reason=reason)


def _mail_invitation_on_commit(invitation: Invitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "partner": invitation.partner,
        "inviter": invitation.created_by,
        "url": invitation_url(token),
        "days": invitation_days(),
    }
    subject = f"Join {invitation.partner.name} on Partner Academy"
    body = render_to_string("partners/portal/email/invitation.txt", context)
    outbox_enqueue(SEND_EMAIL, subject=subject, body=body, to=[invitation.email])


def _mail_signup_attempt_on_commit(invitation: Invitation, owner: User, token: str) -> None:
    context = {
        "invitation": invitation,
        "partner": invitation.partner,
        "owner": owner,
        "url": invitation_url(token),
        "login_url": settings.SITE_URL + reverse("login"),
        "reset_url": settings.SITE_URL + reverse("password_reset"),
    }
    subject = f"Your invitation to join {invitation.partner.name} on Partner Academy"
    with in_zone_of(owner):
        body = render_to_string("partners/portal/email/invitation_signup_attempt.txt", context)
    outbox_enqueue(SEND_EMAIL, subject=subject, body=body, to=[owner.email])
