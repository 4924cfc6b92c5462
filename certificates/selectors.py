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
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from courses.models import Enrolment
from courses.selectors import PathStep
from exams import selectors as exam_selectors
from exams.models import Attempt, AttemptStatus, Exam, Review, Submission, SubmissionStatus
from exams.projects import selectors as project_selectors
from lms import permissions
from lms.errors import DomainError, NotFound
from lms.models import User
from lms.pagination import PageParams, paginate
from lms.types import AnyUser

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


def credential_public_payload(
    credential: Credential, *, now: datetime | None = None
) -> dict[str, Any]:
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


def _holder_credentials(person: User) -> QuerySet[Credential]:
    return Credential.objects.filter(person=person).select_related(
        "certification__exam", "certification__renewal_exam"
    )


def credential_list_for_holder(
    *, person: User, now: datetime | None = None
) -> list[HolderCredential]:
    """The person's credentials, newest first."""
    return _holder_rows(list(_holder_credentials(person).order_by(*CREDENTIAL_ORDER)), now)


def credential_page_for_holder(
    *, person: User, page: PageParams, now: datetime | None = None
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


def credential_active_for(*, person: User, certification: Certification) -> Credential | None:
    return Credential.objects.filter(
        person=person, certification=certification, status=CredentialStatus.ACTIVE
    ).first()


_HELD_CACHE = "_certificates_held"


def _held_for(person: User) -> list[tuple[int, int, datetime, int]]:
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


def forget_held(person: User | None) -> None:
    """Drop the cached credentials (after issuing or revoking for this person object)."""
    if person is not None and hasattr(person, _HELD_CACHE):
        delattr(person, _HELD_CACHE)


def holds_current_certification_for_exam(
    *, person: AnyUser, exam: Exam, now: datetime | None = None
) -> bool:
    if not person.is_authenticated:
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


def previous_credential_end(*, person: User, certification: Certification) -> datetime | None:
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
    submission: Submission | None
    project_required: bool
    missing_courses: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return (
            self.attempt is not None
            and (self.submission is not None or not self.project_required)
            and not self.missing_courses
        )


def passed_attempt_for(*, person: User, exam_id: int, after: datetime | None) -> Attempt | None:
    attempts = Attempt.objects.filter(person=person, exam_id=exam_id, passed=True).exclude(
        status=AttemptStatus.IN_PROGRESS
    )
    if after is not None:
        attempts = attempts.filter(submitted_at__gt=after)
    return attempts.order_by("submitted_at", "pk").first()


def passed_submission_for(
    *, person: User, certification: Certification, after: datetime | None
) -> Submission | None:
    """The passed project submission for the certification's brief, or None."""
    if certification.project_brief_id is None or certification.project_brief is None:
        return None
    submission = project_selectors.passed_submission_for(
        person=person, brief=certification.project_brief
    )
    if submission is None or (
        after is not None and submission.decided_at is not None and submission.decided_at <= after
    ):
        return None
    return submission


def project_required(certification: Certification) -> bool:
    # Every certification needs a passed project (docs/product-rules.md); one without a
    # brief chosen yet issues nothing.
    return True


def missing_courses_for(*, person: User, certification: Certification) -> tuple[str, ...]:
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


def evidence_for(*, person: User, certification: Certification, after: datetime | None) -> Evidence:
    return Evidence(
        attempt=passed_attempt_for(person=person, exam_id=certification.exam_id, after=after),
        submission=passed_submission_for(person=person, certification=certification, after=after),
        project_required=project_required(certification),
        missing_courses=missing_courses_for(person=person, certification=certification),
    )


def credential_latest_for(*, person: User, certification: Certification) -> Credential | None:
    """The person's most recent credential of this certification (any status)."""
    return (
        Credential.objects.filter(person=person, certification=certification)
        .order_by("-issued_at", "-pk")
        .first()
    )


def credential_renewable_by(*, attempt: Attempt, certification: Certification) -> Credential | None:
    """The credential a passed attempt of the renewal exam renews: the holder's
    latest, not revoked, that had not expired when the attempt started."""
    if certification.renewal_exam_id_effective != attempt.exam_id:
        return None
    credential = credential_latest_for(person=attempt.person, certification=certification)
    if (
        credential is None
        or credential.status == CredentialStatus.REVOKED
        or credential.expires_at <= attempt.started_at
    ):
        return None
    return credential


def certifications_for_exam(exam_id: int) -> list[Certification]:
    """Certifications this exam counts for, as the certification or the renewal exam."""
    return list(Certification.objects.filter(Q(exam_id=exam_id) | Q(renewal_exam_id=exam_id)))


class CredentialRevoked(DomainError):
    status = 410
    code = "credential_revoked"


def credential_get_for_holder_view(
    *, user: AnyUser, public_id: str, action: str = "credential.download"
) -> Credential:
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


def _exam_step(
    *,
    user: AnyUser,
    cert: Certification,
    held: Credential | None,
    after: datetime | None,
    now: datetime,
    attempts: list[tuple[int, str, bool | None, datetime | None, datetime]],
) -> PathStep:
    exam = cert.exam
    title = exam.title if exam else f"{cert.name} exam"
    if exam is None or not exam.is_published:
        return PathStep("exam", title, "", "coming")
    start = reverse("exams:attempt_start", args=[exam.slug])
    if not isinstance(user, User):
        return PathStep("exam", title, start, "not_started", action="Start the exam")
    if held is not None:
        return PathStep("exam", title, reverse("exams:exam_list"), "certified", at=held.issued_at)
    finished = [row for row in attempts if row[1] != AttemptStatus.IN_PROGRESS]
    # Retakes count every finished attempt; "passed" only one after a lapsed credential.
    # A finished attempt always has its submitted_at (a database constraint).
    finished_at = {row[0]: cast(datetime, row[3]) for row in finished}
    counting = [row for row in finished if after is None or finished_at[row[0]] > after]
    open_attempt = next((row for row in attempts if row[1] == AttemptStatus.IN_PROGRESS), None)
    if open_attempt is not None:
        url = reverse("exams:attempt", args=[open_attempt[0]])
        return PathStep("exam", title, url, "in_progress", at=open_attempt[4], action="Resume")
    passed = [row for row in counting if row[2]]
    if passed:
        return PathStep("exam", title, reverse("exams:exam_list"), "passed", at=passed[-1][3])
    if counting:
        decision = exam_selectors.retake_decision_from(
            exam=exam,
            finished=list(finished_at.values()),
            now=now,
            certified=False,
            person=user,
        )
        return PathStep(
            "exam",
            title,
            start if decision.allowed else reverse("exams:exam_list"),
            "failed",
            available_at=None if decision.allowed else decision.available_at,
            at=counting[-1][3],
            note=decision.reason if not decision.allowed else "",
            action="Try again" if decision.allowed else "",
        )
    return PathStep("exam", title, start, "not_started", action="Start the exam")


def _project_step(
    *,
    user: AnyUser,
    cert: Certification,
    after: datetime | None,
    submissions: list[tuple[int, str, datetime, datetime | None]],
) -> PathStep:
    brief = cert.project_brief
    if brief is None or not brief.is_published:
        title = brief.title if brief else f"{cert.name} project"
        return PathStep("project", title, "", "coming")
    url = reverse("exams:project_detail", args=[brief.slug])
    latest = None
    if isinstance(user, User):
        if after is not None:
            # After a lapsed credential only what was decided (or sent) since counts.
            submissions = [
                row for row in submissions if (row[3] if row[3] is not None else row[2]) > after
            ]
        if any(row[1] == SubmissionStatus.PASSED for row in submissions):
            return PathStep("project", brief.title, url, "passed")
        latest = submissions[0] if submissions else None
    if latest is None:
        return PathStep("project", brief.title, url, "not_submitted", action="Submit your project")
    state = latest[1]
    note = ""
    if state in (SubmissionStatus.REVISE, SubmissionStatus.FAILED):
        comment = (
            Review.objects.filter(submission_id=latest[0])
            .order_by("-created_at", "-pk")
            .values_list("comment", flat=True)
            .first()
        )
        note = comment or ""
    action = "Revise and resubmit" if state == SubmissionStatus.REVISE else ""
    return PathStep("project", brief.title, url, state, at=latest[2], note=note, action=action)


def _certification_step(
    *, cert: Certification, latest: Credential | None, coming: bool, now: datetime
) -> PathStep:
    title = f"{cert.name} certificate"
    mine = reverse("certificates:mine")
    if latest is None:
        return PathStep("certification", title, "", "coming" if coming else "not_issued")
    status = rules.credential_status(
        revoked_at=latest.revoked_at, expires_at=latest.expires_at, now=now
    )
    if status == rules.ACTIVE and rules.in_renewal_window(
        now=now, expires_at=latest.expires_at, window_days=cert.renewal_window_days
    ):
        return PathStep(
            "certification",
            title,
            cert.renewal_start_path,
            "expiring",
            at=latest.expires_at,
            action="Renew",
        )
    if status == rules.EXPIRED and coming:
        return PathStep("certification", title, mine, "coming", at=latest.expires_at)
    return PathStep("certification", title, mine, status, at=latest.expires_at)


def path_steps_for(
    *, user: AnyUser, certification: str, now: datetime | None = None
) -> list[PathStep]:
    """The exam, project and certification steps of one learning path (see
    `path_steps_for_many`)."""
    return path_steps_for_many(user=user, certifications=[certification], now=now)[certification]


def path_steps_for_many(
    *, user: AnyUser, certifications: list[str], now: datetime | None = None
) -> dict[str, list[PathStep]]:
    """The exam, project and certification steps of learning paths, by
    certification slug, with the person's state (registered with courses'
    learning paths in ready()).

    Exam: not_started, in_progress (with the deadline), passed (with the
    date), failed (with when the next attempt opens), certified. Project:
    not_submitted, submitted, in_review, revise (with the grader's comments),
    passed, failed. Certification: not_issued, active, expiring (in the
    renewal window: "Renew"), expired, revoked. A certification whose exam or
    project is not published yet is "coming", and so is that step. At most
    four queries for any number of certifications, whatever the history
    (plus one per project waiting for a revision, for the grader's comment).
    """
    now = now or timezone.now()
    certs = {
        cert.slug: cert
        for cert in Certification.objects.select_related(
            "exam", "project_brief", "renewal_exam"
        ).filter(slug__in=certifications)
    }
    latest_by_cert: dict[int, Credential] = {}
    attempts_by_exam: dict[int, list[tuple[int, str, bool | None, datetime | None, datetime]]]
    attempts_by_exam = defaultdict(list)
    submissions_by_brief: dict[int, list[tuple[int, str, datetime, datetime | None]]]
    submissions_by_brief = defaultdict(list)
    if isinstance(user, User) and certs:
        for credential in Credential.objects.filter(
            person=user, certification__in=list(certs.values())
        ).order_by("-issued_at", "-pk"):
            latest_by_cert.setdefault(credential.certification_id, credential)
        exam_ids = [cert.exam_id for cert in certs.values() if cert.exam_id]
        if exam_ids:
            for exam_id, *row in (
                Attempt.objects.filter(person=user, exam_id__in=exam_ids)
                .order_by("started_at", "pk")
                .values_list("exam_id", "pk", "status", "passed", "submitted_at", "deadline")
            ):
                attempts_by_exam[exam_id].append(tuple(row))  # type: ignore[arg-type]
        brief_ids = [cert.project_brief_id for cert in certs.values() if cert.project_brief_id]
        if brief_ids:
            for brief_id, *row in (
                Submission.objects.filter(person=user, brief_id__in=brief_ids)
                .order_by("-created_at", "-pk")
                .values_list("brief_id", "pk", "status", "created_at", "decided_at")
            ):
                submissions_by_brief[brief_id].append(tuple(row))  # type: ignore[arg-type]
    steps: dict[str, list[PathStep]] = {}
    for slug in certifications:
        cert = certs.get(slug)
        if cert is None:
            steps[slug] = [
                PathStep("exam", "Certification exam", "", "coming"),
                PathStep("project", "Certification project", "", "coming"),
                PathStep("certification", "Certificate", "", "coming"),
            ]
            continue
        latest = latest_by_cert.get(cert.pk)
        held = after = None
        if latest is not None:
            if latest.revoked_at is None and latest.expires_at > now:
                held = latest
            else:
                # After expiry or revocation the full path applies again.
                after = latest.revoked_at or latest.expires_at
        exam_step = _exam_step(
            user=user,
            cert=cert,
            held=held,
            after=after,
            now=now,
            attempts=attempts_by_exam.get(cert.exam_id or 0, []),
        )
        project_step = _project_step(
            user=user,
            cert=cert,
            after=after,
            submissions=submissions_by_brief.get(cert.project_brief_id or 0, []),
        )
        coming = "coming" in (exam_step.state, project_step.state)
        steps[slug] = [
            exam_step,
            project_step,
            _certification_step(cert=cert, latest=latest, coming=coming, now=now),
        ]
    return steps
