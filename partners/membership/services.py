"""Partner and membership workflows.

Contract:
- Every function takes keyword arguments only, runs in one transaction and
  either does all of its work or none of it.
- Refusals are `lms.errors.DomainError`s with a stable `code`; nothing is
  changed when one is raised.
- A person has at most one current membership. `check_no_current_membership`
  is the friendly check; the database constraint
  `partners_membership_one_current_per_person` is the guarantee under
  concurrency, and `membership_start` turns its violation into the same error.
- Memberships are never deleted: `membership_end` stamps `ended`.
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from lms.errors import Conflict, DomainError
from lms.models import User

from .. import rules, signals
from ..models import Membership, Partner, PartnerTrack

# --- guards -----------------------------------------------------------------


def check_no_current_membership(*, person: User, exclude_pk: int | None = None) -> None:
    """Refuse when `person` already belongs to a partner (409 `already_member`)."""
    current = (
        Membership.objects.select_related("partner")
        .filter(person_id=person.pk, ended__isnull=True)
        .exclude(pk=exclude_pk)  # type: ignore[misc]  # pk=None is IS NULL to Django; the stubs refuse it
        .first()
    )
    if current is not None:
        raise _already_member(person, current)


def _already_member(person: User, current: Membership | None) -> Conflict:
    if current is None:  # the other membership was already gone when we looked
        message = f"{person} is already a current member of another partner."
        return Conflict(message, code="already_member")
    return Conflict(
        f"{person} is already a current member of {current.partner.name}. "
        "End that membership before starting a new one.",
        code="already_member",
        partner=current.partner.slug,
    )


def check_role(role: str) -> None:
    if role not in Membership.Role.values:
        raise DomainError(
            f"Unknown role {role!r}; use one of: {', '.join(Membership.Role.values)}.",
            code="invalid_role",
        )


def check_country(country: str) -> None:
    if country and not rules.is_country_code(country):
        raise DomainError(
            f"{country!r} is not a two-letter ISO 3166-1 country code (for example DE or US).",
            code="invalid_country",
        )


def check_slug_not_reserved(slug: str) -> None:
    if rules.is_reserved_slug(slug):
        raise DomainError(
            f"{slug!r} is a word the partner pages use; choose another slug.",
            code="slug_reserved",
        )


def check_tracks(tracks: Iterable[str]) -> None:
    unknown = sorted(set(tracks) - set(PartnerTrack.Track.values))
    if unknown:
        raise DomainError(
            f"Unknown track(s): {', '.join(unknown)}; use: {', '.join(PartnerTrack.Track.values)}.",
            code="invalid_track",
        )


# --- partners ---------------------------------------------------------------


@transaction.atomic
def partner_create(
    *,
    name: str,
    slug: str | None = None,
    website: str = "",
    country: str = "",
    status: str = Partner.Status.APPLICANT,
    tracks: Iterable[str] = (),
) -> Partner:
    name = (name or "").strip()
    if not name:
        raise DomainError("A partner needs a name.", code="invalid_name")
    slug = slugify(slug or name)[:80]
    if not slug:
        raise DomainError("Choose a slug made of letters, digits or dashes.", code="invalid_slug")
    check_slug_not_reserved(slug)
    website = (website or "").strip()
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            raise DomainError(
                f"{website!r} is not a web address (http or https).", code="invalid_website"
            ) from None
    country = rules.normalise_country_code(country)
    check_country(country)
    if status not in Partner.Status.values:
        raise DomainError(f"Unknown partner status {status!r}.", code="invalid_status")
    tracks = list(dict.fromkeys(tracks))
    check_tracks(tracks)
    if Partner.objects.filter(slug=slug).exists():
        raise Conflict(f"A partner with the slug {slug!r} already exists.", code="slug_taken")

    try:
        with transaction.atomic():
            partner = Partner.objects.create(
                name=name, slug=slug, website=website, country=country, status=status
            )
    except IntegrityError:  # created at the same moment by someone else
        raise Conflict(
            f"A partner with the slug {slug!r} already exists.", code="slug_taken"
        ) from None
    PartnerTrack.objects.bulk_create(PartnerTrack(partner=partner, track=t) for t in tracks)
    return partner


@transaction.atomic
def partner_tracks_set(*, partner: Partner, tracks: Iterable[str]) -> set[str]:
    """Make the partner's tracks exactly `tracks`; returns them.

    Tracks kept keep their `joined_at`.
    """
    wanted = set(tracks)
    check_tracks(wanted)
    have = set(PartnerTrack.objects.filter(partner=partner).values_list("track", flat=True))
    PartnerTrack.objects.filter(partner=partner, track__in=have - wanted).delete()
    PartnerTrack.objects.bulk_create(
        [PartnerTrack(partner=partner, track=t) for t in sorted(wanted - have)],
        ignore_conflicts=True,  # a concurrent add of the same track is fine
    )
    if wanted != have:
        transaction.on_commit(
            lambda: signals.partner_tracks_changed.send(sender=Partner, partner=partner)
        )
    return wanted


# --- memberships ------------------------------------------------------------


@transaction.atomic
def membership_start(
    *,
    person: User,
    partner: Partner,
    role: str = Membership.Role.EMPLOYEE,
    started: datetime | None = None,
) -> Membership:
    """Make `person` a current member of `partner`.

    Refused with `already_member` (409) when the person belongs to a partner
    already, including when a concurrent request got there first.
    """
    check_role(role)
    check_no_current_membership(person=person)
    try:
        # A savepoint, so a lost race leaves the caller's transaction usable.
        with transaction.atomic():
            membership = Membership.objects.create(
                person=person,
                partner=partner,
                role=role,
                started=started or timezone.now(),
            )
    except IntegrityError:
        current = (
            Membership.objects.select_related("partner")
            .filter(person_id=person.pk, ended__isnull=True)
            .first()
        )
        if current is None:
            raise  # not the one-current-membership rule: a real bug, let it surface
        raise _already_member(person, current) from None
    signals.membership_recorded.send(
        sender=Membership, membership=membership, change=signals.STARTED, at=membership.started
    )
    return membership


@transaction.atomic
def membership_end(
    *, membership: Membership, ended: datetime | None = None, reason: str = ""
) -> Membership:
    """End a current membership (keeps the row). Ending an ended one changes nothing."""
    ended = ended or timezone.now()
    if ended < membership.started:
        raise DomainError("A membership cannot end before it started.", code="ended_before_started")
    if ended > timezone.now():
        # "Current" is `ended is null`; a future end date would make it look over already.
        raise DomainError("A membership cannot end in the future.", code="ended_in_future")
    reason = (reason or "").strip()[:200]
    # Conditional update: of two concurrent calls only one stamps the row.
    stamped = Membership.objects.filter(pk=membership.pk, ended__isnull=True).update(
        ended=ended, ended_reason=reason
    )
    membership.refresh_from_db(fields=["ended", "ended_reason"])
    if stamped:  # the partner's track status is recomputed from it (partners.signals)
        signals.membership_recorded.send(
            sender=Membership, membership=membership, change=signals.ENDED, at=ended
        )
        transaction.on_commit(
            lambda: signals.membership_changed.send(
                sender=Membership, membership=membership, change=signals.ENDED
            )
        )
    return membership


@transaction.atomic
def membership_set_role(*, membership: Membership, role: str) -> Membership:
    """Change the role of a current membership."""
    check_role(role)
    updated = Membership.objects.filter(pk=membership.pk, ended__isnull=True).update(role=role)
    if not updated:
        raise Conflict(
            "This membership has ended; its role is history and cannot change.",
            code="membership_ended",
        )
    membership.role = role
    return membership
