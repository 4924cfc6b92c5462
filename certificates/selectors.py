"""Reads for certificate pages, the API and other apps.

Contract:
- `credential_get_public(public_id=)` -> Credential with its certification;
  unknown *and malformed* ids raise NotFound(`credential_not_found`) the same
  way, before or without touching the database, so the answer never hints
  whether something similar exists. 1 query.
- `credential_public_payload(credential, now=)` -> the public verification
  document (exactly the fields of `GET /api/v1/credentials/{id}`): nothing
  private (no e-mail, no evidence, no internal ids).
- `credential_list_for_holder(person=)` -> the person's credentials, newest
  first, 1 query whatever their number.
- `holds_current_certification_for_exam(person=, exam=)` is exams'
  certified check (registered in the app's ready()): True when the person holds a current
  credential this exam leads to, except inside the renewal window of the
  exam that renews it (so holders may sit the renewal exam then). One query
  per person object whatever the number of exams asked about (cached on it;
  `forget_held(person)` drops it).
- `evidence_for(person=, certification=, after=)` -> the evidence that makes
  a person eligible now (or which part is missing). Evidence older than
  `after` (the end of a previous credential) does not count: after expiry or
  revocation the full path applies again.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone

from courses.models import Enrolment
from courses.selectors import PathStep
from exams.models import Attempt, AttemptStatus, Submission, SubmissionStatus
from exams.projects import selectors as project_selectors
from lms import permissions
from lms.errors import DomainError, NotFound
from lms.pagination import PageParams, paginate

from . import rules
from .models import Certification, Credential, CredentialStatus

# token_urlsafe alphabet; ids we issue are 24 characters (older or future
# ones may be longer, never shorter than 22 = 128 bits).
PUBLIC_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

DEFAULT_ISSUER = "Partner Academy"


class CredentialNotFound(NotFound):
    code = "credential_not_found"


def issuer_name() -> str:
    return getattr(settings, "CERTIFICATES_ISSUER_NAME", DEFAULT_ISSUER)


def verification_url(public_id: str) -> str:
    return f"{settings.SITE_URL}{reverse('certificates:verify', args=[public_id])}"


def credential_get_public(*, public_id: str) -> Credential:
    if not isinstance(public_id, str) or not PUBLIC_ID_RE.fullmatch(public_id):
        raise CredentialNotFound("No such credential.")
    credential = (
        Credential.objects.select_related("certification").filter(public_id=public_id).first()
    )
    if credential is None:
        raise CredentialNotFound("No such credential.")
    return credential


def status_of(credential: Credential, *, now: datetime | None = None) -> str:
    return rules.credential_status(
        revoked_at=credential.revoked_at,
        expires_at=credential.expires_at,
        now=now or timezone.now(),
    )


def credential_public_payload(credential: Credential, *, now: datetime | None = None) -> dict:
    return {
        "id": credential.public_id,
        "holder_name": credential.holder_name,
        "certification": credential.certification.name,
        "issuer": issuer_name(),
        "issued_at": credential.issued_at,
        "expires_at": credential.expires_at,
        "status": status_of(credential, now=now),
        "revoked_at": credential.revoked_at,
        "revocation_reason": credential.revocation_reason or None,
    }


@dataclass(frozen=True)
class HolderCredential:
    credential: Credential
    status: str
    verification_url: str
    add_to_profile_url: str
    renewal_opens_at: datetime
    can_renew_now: bool


CREDENTIAL_ORDER = ("-issued_at", "-id")


def _holder_credentials(person):
    return Credential.objects.filter(person=person).select_related("certification")


def credential_list_for_holder(*, person, now: datetime | None = None) -> list[HolderCredential]:
    """The person's credentials, newest first."""
    return _holder_rows(list(_holder_credentials(person).order_by(*CREDENTIAL_ORDER)), now)


def credential_page_for_holder(
    *, person, page: PageParams, now: datetime | None = None
) -> tuple[list[HolderCredential], bool]:
    """One page of `credential_list_for_holder`; the cursor is a credential's
    public id (its `id` in the API), and whether more follow."""
    credentials, has_more = paginate(
        _holder_credentials(person), page, order=CREDENTIAL_ORDER, cursor_field="public_id"
    )
    return _holder_rows(credentials, now), has_more


def _holder_rows(credentials: list[Credential], now: datetime | None) -> list[HolderCredential]:
    now = now or timezone.now()
    issuer = issuer_name()
    rows = []
    for credential in credentials:
        url = verification_url(credential.public_id)
        certification = credential.certification
        status = status_of(credential, now=now)
        rows.append(
            HolderCredential(
                credential=credential,
                status=status,
                verification_url=url,
                add_to_profile_url=rules.add_to_profile_url(
                    name=certification.name,
                    issuer=issuer,
                    issued_at=credential.issued_at,
                    expires_at=credential.expires_at,
                    url=url,
                    credential_id=credential.public_id,
                ),
                renewal_opens_at=rules.renewal_window_opens(
                    expires_at=credential.expires_at,
                    window_days=certification.renewal_window_days,
                ),
                can_renew_now=status == rules.ACTIVE
                and rules.in_renewal_window(
                    now=now,
                    expires_at=credential.expires_at,
                    window_days=certification.renewal_window_days,
                ),
            )
        )
    return rows


def credential_active_for(*, person, certification: Certification) -> Credential | None:
    return Credential.objects.filter(
        person=person, certification=certification, status=CredentialStatus.ACTIVE
    ).first()


_HELD_CACHE = "_certificates_held"


def _held_for(person) -> list[tuple[int, int, int, datetime, int]]:
    """(exam, renewal exam, its effective id, expiry, window) of the person's active
    credentials, read once per person object (like lms.permissions' role cache):
    the exams list asks about every exam and must not cost a query per exam."""
    cached = getattr(person, _HELD_CACHE, None)
    if cached is None:
        cached = [
            (
                exam_id,
                renewal_exam_id or exam_id,
                expires_at,
                window_days,
            )
            for exam_id, renewal_exam_id, expires_at, window_days in Credential.objects.filter(
                person=person, status=CredentialStatus.ACTIVE
            ).values_list(
                "certification__exam_id",
                "certification__renewal_exam_id",
                "expires_at",
                "certification__renewal_window_days",
            )
        ]
        setattr(person, _HELD_CACHE, cached)
    return cached


def forget_held(person) -> None:
    """Drop the cached credentials (after issuing or revoking for this person object)."""
    if person is not None and hasattr(person, _HELD_CACHE):
        delattr(person, _HELD_CACHE)


def holds_current_certification_for_exam(*, person, exam, now: datetime | None = None) -> bool:
    if not getattr(person, "is_authenticated", False):
        return False
    now = now or timezone.now()
    for exam_id, renewal_exam_id, expires_at, window_days in _held_for(person):
        if exam.pk not in (exam_id, renewal_exam_id) or expires_at <= now:
            continue
        if renewal_exam_id == exam.pk and rules.in_renewal_window(
            now=now, expires_at=expires_at, window_days=window_days
        ):
            continue  # the holder may sit the renewal exam now
        return True
    return False


def previous_credential_end(*, person, certification: Certification) -> datetime | None:
    """When the person's last non-active credential ended (expiry or revocation)."""
    ends = Credential.objects.filter(person=person, certification=certification).exclude(
        status=CredentialStatus.ACTIVE
    )
    latest = ends.aggregate(expired=Max("expires_at"), revoked=Max("revoked_at"))
    candidates = [moment for moment in latest.values() if moment is not None]
    return max(candidates) if candidates else None


@dataclass(frozen=True)
class Evidence:
    attempt: Attempt | None
    submission: object | None
    project_required: bool
    missing_courses: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return (
            self.attempt is not None
            and (self.submission is not None or not self.project_required)
            and not self.missing_courses
        )


def passed_attempt_for(*, person, exam_id: int, after: datetime | None) -> Attempt | None:
    attempts = Attempt.objects.filter(person=person, exam_id=exam_id, passed=True).exclude(
        status=AttemptStatus.IN_PROGRESS
    )
    if after is not None:
        attempts = attempts.filter(submitted_at__gt=after)
    return attempts.order_by("submitted_at", "pk").first()


def passed_submission_for(*, person, certification: Certification, after: datetime | None):
    """The passed project submission for the certification's brief, or None."""
    if certification.project_brief_id is None:
        return None
    submission = project_selectors.passed_submission_for(
        person=person, brief=certification.project_brief
    )
    if submission is None or (after is not None and submission.decided_at <= after):
        return None
    return submission


def project_required(certification: Certification) -> bool:
    # Every certification needs a passed project (docs/product-rules.md); one without a
    # brief chosen yet issues nothing.
    return True


def missing_courses_for(*, person, certification: Certification) -> tuple[str, ...]:
    required = list(certification.prerequisite_courses.values_list("pk", "title"))
    if not required:
        return ()
    done = set(
        Enrolment.objects.filter(
            person=person,
            course_id__in=[pk for pk, _ in required],
            completed_at__isnull=False,
        ).values_list("course_id", flat=True)
    )
    return tuple(title for pk, title in required if pk not in done)


def evidence_for(*, person, certification: Certification, after: datetime | None) -> Evidence:
    return Evidence(
        attempt=passed_attempt_for(person=person, exam_id=certification.exam_id, after=after),
        submission=passed_submission_for(person=person, certification=certification, after=after),
        project_required=project_required(certification),
        missing_courses=missing_courses_for(person=person, certification=certification),
    )


def certifications_for_exam(exam_id: int) -> list[Certification]:
    """Certifications this exam counts for, as the certification or the renewal exam."""
    return list(Certification.objects.filter(Q(exam_id=exam_id) | Q(renewal_exam_id=exam_id)))


class CredentialRevoked(DomainError):
    status = 410
    code = "credential_revoked"


def credential_get_for_holder_view(*, user, public_id: str, action: str = "credential.download"):
    """A credential the user may download or export (holder, their partner
    admin, programme staff); everyone else gets the same 404 as an unknown id."""
    credential = credential_get_public(public_id=public_id)
    try:
        permissions.check_can(user, action, credential)
    except NotFound:
        raise CredentialNotFound("No such credential.") from None
    return credential


def check_pdf_offered(credential: Credential) -> None:
    """A revoked credential's certificate is no longer offered as valid."""
    if credential.revoked_at is not None:
        raise CredentialRevoked("This credential was revoked; its certificate is no longer valid.")


# --- learning paths -------------------------------------------------------------


def path_steps_for(*, user, certification: str) -> list[PathStep]:
    """The exam, project and credential steps of a learning path, with the
    person's state (registered with courses' learning paths in ready()).

    A step staff have not set up yet (no such certification, or no brief
    chosen) is "not_offered". Four queries, whatever the history.
    """
    cert = (
        Certification.objects.select_related("exam", "project_brief")
        .filter(slug=certification)
        .first()
    )
    if cert is None:
        return [
            PathStep("exam", "Certification exam", "", "not_offered"),
            PathStep("project", "Certification project", "", "not_offered"),
        ]
    signed_in = getattr(user, "is_authenticated", False)
    exam_state = "not_started"
    if signed_in:
        counts = Attempt.objects.filter(person=user, exam_id=cert.exam_id).aggregate(
            taken=Count("pk"),
            passed=Count("pk", filter=Q(passed=True) & ~Q(status=AttemptStatus.IN_PROGRESS)),
        )
        if counts["passed"]:
            exam_state = "completed"
        elif counts["taken"]:
            exam_state = "in_progress"
    steps = [PathStep("exam", cert.exam.title, reverse("exams:exam_list"), exam_state)]
    brief = cert.project_brief
    if brief is None:
        steps.append(PathStep("project", f"{cert.name} project", "", "not_offered"))
    else:
        project_state = "not_started"
        if signed_in:
            states = set(
                Submission.objects.filter(person=user, brief=brief).values_list("status", flat=True)
            )
            if SubmissionStatus.PASSED in states:
                project_state = "completed"
            elif states:
                project_state = "in_progress"
        url = reverse("exams:project_detail", args=[brief.slug]) if brief.is_published else ""
        steps.append(PathStep("project", brief.title, url, project_state))
    held = credential_active_for(person=user, certification=cert) if signed_in else None
    steps.append(
        PathStep(
            "credential",
            f"{cert.name} certificate",
            reverse("certificates:mine") if held else "",
            "completed" if held else "not_started",
        )
    )
    return steps
