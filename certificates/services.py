"""Certificate workflows: issue, renew, revoke, expire, remind, PDF.

Contract:
- `credential_issue_if_eligible(person=, certification=, now=)` ->
  `(credential | None, issued: bool)`. Issues the credential the moment every
  requirement is met (passed exam, passed project when the certification has
  a brief, prerequisite courses), in whatever order they were met. Exactly
  once: the partial unique constraint `certificates_credential_one_active`
  decides between racing callers (an IntegrityError means another caller won;
  its credential is returned with `issued=False`). Returns `(None, False)`
  when not eligible, `(active, False)` when one is already held. A lapsed
  active credential is marked expired first, and evidence from before the
  end of a previous credential does not count (after expiry the full path
  applies again). The PDF render is recorded in the same transaction
  (lms.outbox) and queued after commit; `credential_changed(change="issued")`
  is sent after commit. A person whose e-mail
  address is not confirmed is issued nothing (`(None, False)`): a
  certificate names a reachable, proven address. Confirming the address
  (`lms.signals.email_confirmed`) runs the check again for every
  certification, so what was earned meanwhile is issued then.
- `credential_renew(credential=, attempt=, now=)`: a passed attempt of the
  renewal exam inside the window extends validity by `validity_months` from
  the current expiry, on the same credential, with a "renewed" history row;
  one renewal per attempt (constraint), idempotent. 409 `renewal_not_open`,
  422 `renewal_attempt_invalid`.
- `credential_revoke(credential=, by=, reason=)`: 422 `reason_required`,
  409 `already_revoked`. The record stays; its status, time, reason and
  actor are kept; history row; signal.
- `credentials_expire(now=)` -> count. Marks lapsed active credentials
  expired (conditional UPDATE per credential: safe to run twice or in parallel).
- `expiry_reminders_send(now=)` -> count. Sends the holder the 90/30/7-day
  reminder that is due; the `ExpiryReminder` row (unique per credential, kind
  and expiry) is inserted before the mail goes out in the same transaction,
  so each reminder is sent at most once, even if the job runs twice or
  catches up after downtime. Partner-admin copies: `expiry_reminder_sent`
  signal (the partners app sends them; this app may not import it).
- `credential_pdf_open(credential=)` -> an open file of the stored PDF,
  rendering (and storing) it first only when no stored file exists.
- `credential_pdf_render_and_store(credential_id=)` -> bool: the task body;
  skips when a stored file exists (a second render never happens).
"""

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from courses.models import Enrolment
from exams.models import Attempt, Exam, Submission
from lms.errors import Conflict, DomainError
from lms.models import User
from lms.outbox import outbox_enqueue
from lms.timezones import in_zone_of

from . import rules, selectors, signals
from .models import (
    Certification,
    Credential,
    CredentialEvent,
    CredentialStatus,
    EventKind,
    ExpiryReminder,
)

logger = logging.getLogger(__name__)

RENDER_TASK = "certificates.tasks.render_certificate"


class ReasonRequired(DomainError):
    status = 422
    code = "reason_required"


class AlreadyRevoked(Conflict):
    code = "already_revoked"


class RenewalNotOpen(Conflict):
    code = "renewal_not_open"


class RenewalAttemptInvalid(DomainError):
    status = 422
    code = "renewal_attempt_invalid"


MAX_REASON_LENGTH = 2000


# --- after-commit side effects ------------------------------------------------


def _queue_render(credential_id: int) -> None:
    """Recorded with the change (lms.outbox); a worker renders it after commit."""
    outbox_enqueue(RENDER_TASK, credential_id)


def _send_changed(credential_id: int, change: str) -> None:
    credential = Credential.objects.select_related("certification", "person").get(pk=credential_id)
    signals.credential_changed.send(sender=Credential, credential=credential, change=change)


def _recorded(credential: Credential, change: str, at: datetime, **details: object) -> None:
    """Inside the transaction: receivers record what must commit with the change."""
    signals.credential_recorded.send(
        sender=Credential, credential=credential, change=change, at=at, details=details
    )


def _after_commit(credential_id: int, change: str, *, render: bool) -> None:
    if render:
        _queue_render(credential_id)
    transaction.on_commit(lambda: _send_changed(credential_id, change))


# --- issue ----------------------------------------------------------------------


def _expire_if_lapsed(*, person: User, certification: Certification, now: datetime) -> None:
    for credential_id in Credential.objects.filter(
        person=person,
        certification=certification,
        status=CredentialStatus.ACTIVE,
        expires_at__lte=now,
    ).values_list("pk", flat=True):
        _expire_one(credential_id=credential_id, now=now)


@transaction.atomic
def credential_issue_if_eligible(
    *, person: User, certification: Certification, now: datetime | None = None
) -> tuple[Credential | None, bool]:
    now = now or timezone.now()
    if not getattr(person, "email_confirmed_at", None):
        return None, False
    _expire_if_lapsed(person=person, certification=certification, now=now)
    held = selectors.credential_active_for(person=person, certification=certification)
    if held is not None:
        return held, False
    after = selectors.previous_credential_end(person=person, certification=certification)
    evidence = selectors.evidence_for(person=person, certification=certification, after=after)
    if not evidence.complete:
        return None, False
    fields = {
        "person": person,
        "certification": certification,
        "holder_name": (person.legal_name or "").strip() or person.display_name,
        "issued_at": now,
        "expires_at": rules.expiry_for(
            issued_at=now, validity_months=certification.validity_months
        ),
        "exam_attempt": evidence.attempt,
    }
    if evidence.submission is not None:
        fields["submission"] = evidence.submission
    try:
        with transaction.atomic():  # a savepoint: the outer transaction survives a lost race
            credential = Credential.objects.create(**fields)
    except IntegrityError:
        winner = selectors.credential_active_for(person=person, certification=certification)
        if winner is None:  # not the constraint we expected: let it surface
            raise
        return winner, False
    CredentialEvent.objects.create(
        credential=credential,
        kind=EventKind.ISSUED,
        at=now,
        attempt=evidence.attempt,
        details={
            "attempt": evidence.attempt.pk if evidence.attempt else None,
            "submission": evidence.submission.pk if evidence.submission is not None else None,
            "expires_at": credential.expires_at.isoformat(),
        },
    )
    _recorded(credential, signals.ISSUED, now)
    _after_commit(credential.pk, signals.ISSUED, render=True)
    selectors.forget_held(person)
    return credential, True


# --- renew ----------------------------------------------------------------------


@transaction.atomic
def credential_renew(
    *, credential: Credential, attempt: Attempt, now: datetime | None = None
) -> Credential:
    now = now or timezone.now()
    credential = Credential.objects.select_related("certification").get(pk=credential.pk)
    certification = credential.certification
    if (
        attempt.person_id != credential.person_id
        or attempt.exam_id != certification.renewal_exam_id_effective
        or not attempt.passed
    ):
        raise RenewalAttemptInvalid(
            "Only a passed attempt of this certification's renewal exam by its holder renews it."
        )
    if CredentialEvent.objects.filter(
        credential=credential, kind=EventKind.RENEWED, attempt=attempt
    ).exists():
        return credential  # this attempt already renewed it
    # Decided when the attempt started: an attempt started inside the window
    # renews even when it ends after the expiry (the credential may have been
    # marked expired meanwhile).
    if credential.status == CredentialStatus.REVOKED or not rules.in_renewal_window(
        now=attempt.started_at,
        expires_at=credential.expires_at,
        window_days=certification.renewal_window_days,
    ):
        raise RenewalNotOpen("This credential cannot be renewed now.")
    old_expiry = credential.expires_at
    new_expiry = rules.renewed_expiry(
        expires_at=old_expiry, validity_months=certification.validity_months
    )
    # Conditional: two renewals racing extend once from the same expiry.
    changed = Credential.objects.filter(
        pk=credential.pk,
        status__in=[CredentialStatus.ACTIVE, CredentialStatus.EXPIRED],
        expires_at=old_expiry,
    ).update(status=CredentialStatus.ACTIVE, expires_at=new_expiry, pdf="", pdf_rendered_at=None)
    if not changed:
        raise RenewalNotOpen("This credential changed meanwhile; try again.")
    try:
        with transaction.atomic():
            CredentialEvent.objects.create(
                credential=credential,
                kind=EventKind.RENEWED,
                at=now,
                attempt=attempt,
                details={
                    "previous_expires_at": old_expiry.isoformat(),
                    "expires_at": new_expiry.isoformat(),
                },
            )
    except IntegrityError:
        # The same attempt renewed it in a parallel call: undo ours.
        transaction.set_rollback(True)
        return Credential.objects.get(pk=credential.pk)
    # The stored PDF shows the old expiry: it is replaced (rendered after commit).
    if credential.pdf:
        old_name = cast(str, credential.pdf.name)  # set: the field is not empty
        storage = credential.pdf.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    credential.refresh_from_db()
    _recorded(credential, signals.RENEWED, now, previous_expires_at=old_expiry)
    _after_commit(credential.pk, signals.RENEWED, render=True)
    return credential


def renewal_refusals(*, person: User, exams: list[Exam], now: datetime) -> dict[int, DomainError]:
    """exams' start-refusal provider: an exam that only renews (some
    certification's renewal exam and no certification's full exam) is open
    only to a holder inside the renewal window of a credential it renews: the
    latest of that certification, not revoked. 409 `renewal_not_open` for the
    others. 1 query for any list, + 1 when it holds a renewal-only exam."""
    ids = {exam.pk for exam in exams}
    certifications = list(
        Certification.objects.filter(Q(exam_id__in=ids) | Q(renewal_exam_id__in=ids))
    )
    full = {c.exam_id for c in certifications}
    renews: dict[int, list[Certification]] = defaultdict(list)
    for certification in certifications:
        exam_id = certification.renewal_exam_id
        if exam_id in ids and exam_id not in full:
            renews[exam_id].append(certification)
    if not renews:
        return {}
    latest: dict[int, Credential] = {}
    for credential in Credential.objects.filter(
        person=person, certification__in=[c for group in renews.values() for c in group]
    ).order_by("certification_id", "-issued_at", "-pk"):
        latest.setdefault(credential.certification_id, credential)

    def opens(certification: Certification) -> bool:
        credential = latest.get(certification.pk)
        return (
            credential is not None
            and credential.status != CredentialStatus.REVOKED
            and rules.in_renewal_window(
                now=now,
                expires_at=credential.expires_at,
                window_days=certification.renewal_window_days,
            )
        )

    return {
        exam_id: RenewalNotOpen(
            "The renewal exam is open to holders in the last "
            f"{group[0].renewal_window_days} days before their certificate expires; "
            "after it expires, the full path applies again."
        )
        for exam_id, group in renews.items()
        if not any(opens(certification) for certification in group)
    }


def on_attempt_passed(*, attempt: Attempt) -> None:
    """Receiver body: renew what this attempt renews, issue what it completes."""
    for certification in selectors.certifications_for_exam(attempt.exam_id):
        held = selectors.credential_renewable_by(attempt=attempt, certification=certification)
        if held is not None:
            try:
                credential_renew(credential=held, attempt=attempt)
            except RenewalNotOpen:
                logger.info("Attempt %s passed outside the renewal window of %s", attempt.pk, held)
            continue
        if certification.exam_id == attempt.exam_id:
            credential_issue_if_eligible(person=attempt.person, certification=certification)


def on_submission_passed(*, submission: Submission) -> None:
    for certification in Certification.objects.filter(project_brief_id=submission.brief_id):
        credential_issue_if_eligible(person=submission.person, certification=certification)


def on_email_confirmed(*, user: User) -> None:
    """Issue what the person earned before confirming their address."""
    for certification in Certification.objects.all():
        credential_issue_if_eligible(person=user, certification=certification)


def on_course_completed(*, enrolment: Enrolment) -> None:
    """A prerequisite course may be the last requirement met."""
    for certification in Certification.objects.filter(prerequisite_courses=enrolment.course_id):
        credential_issue_if_eligible(person=enrolment.person, certification=certification)


# --- revoke -----------------------------------------------------------------------


def check_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired("Give a reason for the revocation.")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            f"The reason is longer than {MAX_REASON_LENGTH} characters.",
            code="reason_too_long",
            status=422,
        )
    return reason


@transaction.atomic
def credential_revoke(
    *, credential: Credential, by: User | None, reason: str, now: datetime | None = None
) -> Credential:
    reason = check_reason(reason)
    now = now or timezone.now()
    changed = (
        Credential.objects.filter(pk=credential.pk, revoked_at__isnull=True)
        .exclude(status=CredentialStatus.REVOKED)
        .update(
            status=CredentialStatus.REVOKED,
            revoked_at=now,
            revocation_reason=reason,
            revoked_by=by,
        )
    )
    if not changed:
        raise AlreadyRevoked("This credential is already revoked.")
    CredentialEvent.objects.create(
        credential=credential, kind=EventKind.REVOKED, at=now, actor=by, details={"reason": reason}
    )
    _after_commit(credential.pk, signals.REVOKED, render=False)
    selectors.forget_held(credential.person)
    credential.refresh_from_db()
    _recorded(credential, signals.REVOKED, now, reason=reason)
    return credential


# --- expiry and reminders -------------------------------------------------------------


def _expire_one(*, credential_id: int, now: datetime) -> bool:
    with transaction.atomic():
        changed = Credential.objects.filter(
            pk=credential_id, status=CredentialStatus.ACTIVE, expires_at__lte=now
        ).update(status=CredentialStatus.EXPIRED)
        if not changed:
            return False
        credential = Credential.objects.select_related("certification", "person").get(
            pk=credential_id
        )
        CredentialEvent.objects.create(
            credential_id=credential_id,
            kind=EventKind.EXPIRED,
            at=now,
            details={"expires_at": credential.expires_at.isoformat()},
        )
        _recorded(credential, signals.EXPIRED, now)
        _after_commit(credential_id, signals.EXPIRED, render=False)
    return True


def credentials_expire(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Credential.objects.filter(
        status=CredentialStatus.ACTIVE, expires_at__lte=now
    ).values_list("pk", flat=True)
    return sum(_expire_one(credential_id=pk, now=now) for pk in list(due))


def _send_reminder(*, credential: Credential, days: int) -> None:
    context = {
        "credential": credential,
        "days": days,
        "verification_url": selectors.verification_url(credential.public_id),
        "issuer": selectors.issuer_name(),
        "renew_url": f"{settings.SITE_URL}{credential.certification.renewal_start_path}",
    }
    subject = f"Your {credential.certification.name} certification expires in {days} days"
    with in_zone_of(credential.person):
        body = render_to_string("certificates/email/expiry_reminder.txt", context)
    send_mail(subject, body, None, [credential.person.email])


def _remind_one(*, credential_id: int, now: datetime) -> bool:
    with transaction.atomic():
        credential = (
            Credential.objects.select_related("certification", "person")
            .filter(pk=credential_id, status=CredentialStatus.ACTIVE)
            .first()
        )
        if credential is None:
            return False
        days = rules.reminder_due(expires_at=credential.expires_at, now=now)
        if days is None:
            return False
        try:
            with transaction.atomic():
                ExpiryReminder.objects.create(
                    credential=credential, kind=days, expires_at=credential.expires_at, sent_at=now
                )
        except IntegrityError:
            return False  # already sent (or being sent by a parallel run)
        # A larger kind that was missed (downtime) is recorded as covered by
        # this one, so it is never sent late after a more urgent one.
        for larger in rules.REMINDER_KINDS:
            if larger > days:
                ExpiryReminder.objects.get_or_create(
                    credential=credential,
                    kind=larger,
                    expires_at=credential.expires_at,
                    defaults={"sent_at": now},
                )
        CredentialEvent.objects.create(
            credential=credential, kind=EventKind.REMINDER, at=now, details={"days": days}
        )
        # Mailing inside the transaction: if it fails, the row is rolled back
        # and the next run tries again.
        _recorded(credential, signals.EXPIRING, now, days=days)
        _send_reminder(credential=credential, days=days)
        # Inside the transaction: receivers record their work (the partner
        # admins' copies, lms.outbox) with this reminder, once.
        signals.expiry_reminder_sent.send(sender=Credential, credential=credential, days=days)
    return True


def expiry_reminders_send(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    horizon = now + timedelta(days=max(rules.REMINDER_KINDS))
    candidates = Credential.objects.filter(
        status=CredentialStatus.ACTIVE, expires_at__gt=now, expires_at__lte=horizon
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(candidates):
        try:
            sent += _remind_one(credential_id=pk, now=now)
        except Exception:  # one bad address must not stop the others
            logger.exception("Expiry reminder for credential %s failed", pk)
    return sent


# --- PDF ----------------------------------------------------------------------------


def _stored_pdf_exists(credential: Credential) -> bool:
    name = credential.pdf.name  # empty or None when there is no file (bool(pdf) is False)
    return bool(name) and credential.pdf.storage.exists(cast(str, name))


def credential_pdf_render_and_store(*, credential_id: int) -> bool:
    """Render and store the PDF unless a stored file exists. True when it rendered."""
    from . import pdf

    credential = Credential.objects.select_related("certification").get(pk=credential_id)
    if _stored_pdf_exists(credential):
        return False
    data = pdf.render_certificate_pdf(credential)
    field = credential.pdf
    name = field.storage.save(
        field.field.generate_filename(credential, "certificate.pdf"), ContentFile(data)
    )
    # Conditional: if another worker stored one meanwhile, keep theirs.
    won = Credential.objects.filter(pk=credential_id, pdf=credential.pdf.name or "").update(
        pdf=name, pdf_rendered_at=timezone.now()
    )
    if not won:
        field.storage.delete(name)
        return False
    if credential.pdf.name:  # a record pointing at a missing file
        logger.warning(
            "Certificate PDF for credential %s was missing; rendered again", credential_id
        )
    return True


def credential_pdf_open(*, credential: Credential) -> "File[Any]":
    """The stored PDF as an open binary file (rendered first only when missing)."""
    if not _stored_pdf_exists(credential):
        credential_pdf_render_and_store(credential_id=credential.pk)
        credential.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    return credential.pdf.storage.open(cast(str, credential.pdf.name), "rb")  # stored above
