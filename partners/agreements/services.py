"""Partner agreement versions: programme staff publish them, applicants accept
the one in force (`agreement_current`; `partners.applications.services`
records the acceptance).

Contract:
- `agreement_publish(...)` creates a version. Versions take effect in the
  order they are published: a version's `effective_from` may not be earlier
  than any other version's (422 `agreement_effective_too_early`), so once its
  date has come the newest version is the one the apply form shows and the
  only one `application_submit` accepts. The label is letters, digits, dots,
  dashes or underscores (400 `invalid_version`) and unique (409
  `version_taken`); a version needs its text or a link to it (422
  `agreement_content_required`).
- A version somebody accepted is the record of what they agreed to:
  `check_agreement_editable` refuses to change or delete it (409
  `agreement_accepted`). `agreement_update` and `agreement_delete` are for
  versions nobody has accepted yet (a typo, a date moved); they re-check under
  the write, so an acceptance arriving meanwhile still wins.
- `agreement_state` names where a version stands at `now`: in force,
  scheduled or superseded (for display).
"""

import re
from datetime import datetime
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone

from lms.errors import Conflict, DomainError
from lms.timezones import format_moment

from ..models import AgreementAcceptance, PartnerAgreement

VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")
VERSION_MAX_LENGTH = cast(
    int, PartnerAgreement._meta.get_field("version").max_length
)  # a CharField

IN_FORCE = "In force"
SCHEDULED = "Scheduled"
SUPERSEDED = "Superseded"


# --- reads -------------------------------------------------------------------


def agreement_current(*, now: datetime | None = None) -> PartnerAgreement | None:
    """The agreement version in force at `now` (latest `effective_from` not in the future)."""
    now = now or timezone.now()
    return (
        PartnerAgreement.objects.filter(effective_from__lte=now)
        .order_by("-effective_from", "-pk")
        .first()
    )


def agreement_acceptance_count(*, agreement: PartnerAgreement) -> int:
    return AgreementAcceptance.objects.filter(agreement=agreement).count()


def agreement_state(
    agreement: PartnerAgreement, *, current: PartnerAgreement | None, now: datetime
) -> str:
    if current is not None and agreement.pk == current.pk:
        return IN_FORCE
    if agreement.effective_from > now:
        return SCHEDULED
    return SUPERSEDED


# --- guards ------------------------------------------------------------------


def check_agreement_editable(*, agreement: PartnerAgreement) -> None:
    accepted = agreement_acceptance_count(agreement=agreement)
    if accepted:
        partners = "1 partner" if accepted == 1 else f"{accepted} partners"
        raise Conflict(
            f"Version {agreement.version} was accepted by {partners}. It is kept as the "
            "record of what they agreed to, so it cannot be changed or deleted; publish a "
            "new version instead.",
            code="agreement_accepted",
        )


def check_version_label(version: str, *, exclude_pk: int | None = None) -> None:
    if not VERSION_PATTERN.fullmatch(version) or len(version) > VERSION_MAX_LENGTH:
        raise DomainError(
            "Use letters, digits, dots, dashes or underscores for the version, "
            f"at most {VERSION_MAX_LENGTH} characters (for example 2.0).",
            code="invalid_version",
        )
    if PartnerAgreement.objects.filter(version=version).exclude(pk=exclude_pk).exists():  # type: ignore[misc]  # pk=None is IS NULL to Django; the stubs refuse it
        raise Conflict(f"Version {version} exists already.", code="version_taken")


def check_agreement_content(*, text: str, url: str) -> None:
    if not text.strip() and not url.strip():
        raise DomainError(
            "Give the agreement's text or a link to it.",
            code="agreement_content_required",
            status=422,
        )


def check_effective_order(effective_from: datetime, *, exclude_pk: int | None = None) -> None:
    latest = (
        PartnerAgreement.objects.exclude(pk=exclude_pk).order_by("-effective_from", "-pk").first()  # type: ignore[misc]  # pk=None is IS NULL to Django; the stubs refuse it
    )
    if latest is not None and effective_from < latest.effective_from:
        when = format_moment(latest.effective_from)
        raise DomainError(
            f"A new version takes effect after the versions before it: version "
            f"{latest.version} is in force from {when}, so choose that moment or later.",
            code="agreement_effective_too_early",
            status=422,
        )


# --- workflows ---------------------------------------------------------------


@transaction.atomic
def agreement_publish(
    *,
    version: str,
    title: str,
    text: str = "",
    url: str = "",
    effective_from: datetime | None = None,
    now: datetime | None = None,
) -> PartnerAgreement:
    effective_from = effective_from or now or timezone.now()
    version = version.strip()
    check_version_label(version)
    check_agreement_content(text=text, url=url)
    check_effective_order(effective_from)
    try:
        with transaction.atomic():
            return PartnerAgreement.objects.create(
                version=version,
                title=title.strip(),
                text=text.strip(),
                url=url.strip(),
                effective_from=effective_from,
            )
    except IntegrityError as error:  # the same label published at the same moment
        raise Conflict(f"Version {version} exists already.", code="version_taken") from error


@transaction.atomic
def agreement_update(
    *,
    agreement: PartnerAgreement,
    version: str,
    title: str,
    text: str = "",
    url: str = "",
    effective_from: datetime,
) -> PartnerAgreement:
    stored = PartnerAgreement.objects.get(pk=agreement.pk)
    check_agreement_editable(agreement=stored)
    version = version.strip()
    if version != stored.version:
        check_version_label(version, exclude_pk=stored.pk)
    check_agreement_content(text=text, url=url)
    if effective_from != stored.effective_from:
        check_effective_order(effective_from, exclude_pk=stored.pk)
    try:
        with transaction.atomic():
            updated = (
                PartnerAgreement.objects.filter(pk=stored.pk)
                .exclude(Exists(AgreementAcceptance.objects.filter(agreement=OuterRef("pk"))))
                .update(
                    version=version,
                    title=title.strip(),
                    text=text.strip(),
                    url=url.strip(),
                    effective_from=effective_from,
                )
            )
    except IntegrityError as error:
        raise Conflict(f"Version {version} exists already.", code="version_taken") from error
    if not updated:
        check_agreement_editable(agreement=stored)  # accepted meanwhile: say so
    stored.refresh_from_db()
    return stored


@transaction.atomic
def agreement_delete(*, agreement: PartnerAgreement) -> None:
    check_agreement_editable(agreement=agreement)
    try:
        with transaction.atomic():
            agreement.delete()
    except ProtectedError:  # accepted between the check and the delete
        check_agreement_editable(agreement=agreement)
        raise
