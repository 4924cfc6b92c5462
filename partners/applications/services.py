"""Partner applications: a company applies, programme staff decide.

Contract:
- `application_submit(...)` creates, in one transaction, a Partner in status
  *applicant* with the chosen tracks, the acceptance of the **current**
  agreement version (who, which version, when), the attestations (not a
  restricted business; uses the platform-payments product when the embedded
  payments track is chosen), the `PartnerApplication`, and the applicant's
  *admin* membership. Refusals are DomainErrors with a stable code and
  change nothing.
- `application_approve(...)` moves the partner to *provisional* through
  `partners.lifecycle.services.partner_transition` (history, signal, e-mail)
  and stores `provisional_deadline` = decision + `PARTNER_PROVISIONAL_MONTHS`
  (default 6) on the application and the partner.
  Approving an approved application again changes nothing (idempotent);
  approving a rejected one is a 409 `application_decided`.
- `application_reject(...)` needs a reason (422 `reason_required`), ends the
  applicant's membership of the refused company (so they may apply again
  later; nothing is deleted). Rejecting a rejected one again changes nothing.
- The applicant is e-mailed after commit on approval and on rejection.
- Decisions use a conditional UPDATE on `status='pending'`, so two staff
  clicking at once decide once, on SQLite and PostgreSQL alike.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from certificates.rules import add_months
from lms.errors import Conflict, DomainError, NotFound
from lms.models import User
from lms.outbox import SEND_EMAIL, outbox_enqueue
from lms.timezones import in_zone_of

from ..agreements.services import agreement_current
from ..lifecycle import services as lifecycle
from ..membership import services
from ..models import (
    AgreementAcceptance,
    Membership,
    Partner,
    PartnerAgreement,
    PartnerApplication,
    PartnerTrack,
)

MAX_REASON_LENGTH = 2000


provisional_months = lifecycle.provisional_months


# --- reads used by the workflow -------------------------------------------------


def application_get(*, application_id: int) -> PartnerApplication:
    application = (
        PartnerApplication.objects.select_related(
            "partner", "applicant", "decided_by", "agreement_acceptance__agreement"
        )
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise NotFound("No such application.", code="application_not_found")
    return application


# --- guards -------------------------------------------------------------------


def check_agreement_accepted(*, agreement_version: str, now: datetime) -> PartnerAgreement:
    current = agreement_current(now=now)
    if current is None:
        raise Conflict(
            "No partner agreement is published yet; applications open once it is.",
            code="no_agreement",
        )
    if not agreement_version:
        raise DomainError(
            "Accept the partner agreement to apply.", code="agreement_required", status=422
        )
    if agreement_version != current.version:
        raise Conflict(
            f"You accepted version {agreement_version} of the partner agreement, but the "
            f"current version is {current.version}. Read and accept the current version.",
            code="agreement_outdated",
            current_version=current.version,
        )
    return current


def check_attestations(
    *, tracks: Iterable[str], restricted_business: bool, embedded_payments: bool
) -> None:
    if not restricted_business:
        raise DomainError(
            "Confirm that the company is not a restricted business.",
            code="restricted_business_attestation_required",
            status=422,
        )
    if PartnerTrack.Track.EMBEDDED_PAYMENTS in tracks and not embedded_payments:
        raise DomainError(
            "The embedded payments track requires confirming that the company uses "
            "the platform-payments product.",
            code="embedded_payments_attestation_required",
            status=422,
        )


def check_tracks_chosen(tracks: list[str]) -> None:
    if not tracks:
        raise DomainError("Choose at least one track.", code="tracks_required", status=422)
    services.check_tracks(tracks)


# --- workflows ----------------------------------------------------------------


@transaction.atomic
def application_submit(
    *,
    applicant: User,
    name: str,
    website: str = "",
    country: str = "",
    tracks: Iterable[str],
    agreement_version: str,
    restricted_business_attested: bool,
    embedded_payments_attested: bool = False,
    slug: str | None = None,
    now: datetime | None = None,
) -> PartnerApplication:
    now = now or timezone.now()
    tracks = list(dict.fromkeys(tracks))
    check_tracks_chosen(tracks)
    check_attestations(
        tracks=tracks,
        restricted_business=restricted_business_attested,
        embedded_payments=embedded_payments_attested,
    )
    agreement = check_agreement_accepted(agreement_version=agreement_version, now=now)
    # Friendly refusal before creating anything; membership_start re-checks under races.
    services.check_no_current_membership(person=applicant)

    partner = services.partner_create(
        name=name,
        slug=slug,
        website=website,
        country=country,
        status=Partner.Status.APPLICANT,
        tracks=tracks,
    )
    acceptance = AgreementAcceptance.objects.create(
        partner=partner, agreement=agreement, accepted_by=applicant, accepted_at=now
    )
    application = PartnerApplication.objects.create(
        partner=partner,
        applicant=applicant,
        tracks=tracks,
        agreement_acceptance=acceptance,
        restricted_business_attested_at=now,
        embedded_payments_attested_at=(
            now if PartnerTrack.Track.EMBEDDED_PAYMENTS in tracks else None
        ),
        submitted_at=now,
    )
    services.membership_start(
        person=applicant, partner=partner, role=Membership.Role.ADMIN, started=now
    )
    return application


@transaction.atomic
def application_approve(
    *, application: PartnerApplication, decided_by: User, now: datetime | None = None
) -> PartnerApplication:
    now = now or timezone.now()
    deadline = add_months(now, provisional_months())
    decided = PartnerApplication.objects.filter(
        pk=application.pk, status=PartnerApplication.Status.PENDING
    ).update(
        status=PartnerApplication.Status.APPROVED,
        decided_at=now,
        decided_by=decided_by,
        provisional_deadline=deadline,
    )
    application.refresh_from_db()
    if not decided:
        if application.status == PartnerApplication.Status.APPROVED:
            return application  # approving twice: the first decision stands
        raise Conflict(
            "This application was rejected; it cannot be approved now.",
            code="application_decided",
        )
    if application.partner.status == Partner.Status.APPLICANT:
        # Through the lifecycle: history, the status signal, the admins' e-mail
        # and the provisional deadline on the partner.
        lifecycle.partner_transition(
            partner=application.partner,
            to=Partner.Status.PROVISIONAL,
            by=decided_by,
            reason="Application approved.",
            now=now,
            deadline=deadline,
        )
    application.partner.refresh_from_db()
    _mail_applicant_on_commit(application, template="approved")
    return application


@transaction.atomic
def application_reject(
    *,
    application: PartnerApplication,
    decided_by: User,
    reason: str,
    now: datetime | None = None,
) -> PartnerApplication:
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "Give the applicant a reason for the rejection.", code="reason_required", status=422
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            f"Keep the reason under {MAX_REASON_LENGTH} characters.",
            code="reason_too_long",
            status=422,
        )
    decided = PartnerApplication.objects.filter(
        pk=application.pk, status=PartnerApplication.Status.PENDING
    ).update(
        status=PartnerApplication.Status.REJECTED,
        decided_at=now,
        decided_by=decided_by,
        rejection_reason=reason,
    )
    application.refresh_from_db()
    if not decided:
        if application.status == PartnerApplication.Status.REJECTED:
            return application
        raise Conflict(
            "This application was approved; it cannot be rejected now.",
            code="application_decided",
        )
    # The refused company has no members any more, so its applicant may apply again.
    for membership in Membership.objects.filter(
        partner_id=application.partner_id, ended__isnull=True
    ):
        services.membership_end(membership=membership, ended=now, reason="Application rejected")
    _mail_applicant_on_commit(application, template="rejected")
    return application


def _mail_applicant_on_commit(application: PartnerApplication, *, template: str) -> None:
    context = {
        "application": application,
        "partner": application.partner,
        "applicant": application.applicant,
        "site_url": settings.SITE_URL,
        "people_url": settings.SITE_URL
        + reverse("partners_portal:people", args=[application.partner.slug]),
    }
    subject = {
        "approved": f"{application.partner.name} is now a provisional partner",
        "rejected": f"Your partner application for {application.partner.name}",
    }[template]
    with in_zone_of(application.applicant):
        body = render_to_string(f"partners/portal/email/application_{template}.txt", context)
    outbox_enqueue(SEND_EMAIL, subject=subject, body=body, to=[application.applicant.email])
