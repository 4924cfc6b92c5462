"""Demo certifications (and a helper for demo credentials) for `manage.py seed_demo`.

Idempotent: certifications are found by slug. `seed_certifications()` ties
Developer and Architect to the demo exams and project briefs of exams.demo;
call it after `seed_exams()` and `seed_projects()` (a brief that does not
exist yet is linked on a later run).

`seed_demo_credential(...)` records a credential with a chosen issue date
(and optionally revokes it) for demo people, bypassing the evidence check
on purpose: demo data needs certified people "issued 23 months ago", which
the real path (issue at the moment requirements are met) cannot produce.
It never runs in production (seed_demo refuses to).
"""

from datetime import datetime

from django.db import transaction

from exams.demo import ARCHITECT_PROJECT_SLUG, DEVELOPER_PROJECT_SLUG
from exams.models import Exam, ProjectBrief

from . import rules, services
from .models import Certification, Credential, CredentialEvent, CredentialStatus, EventKind

DEVELOPER_SLUG = "developer"
ARCHITECT_SLUG = "architect"

CERTIFICATIONS = [
    (
        DEVELOPER_SLUG,
        "Certified Payments Developer",
        "Builds payment integrations: payment flows, webhooks and a sound integration "
        "architecture, proven in an exam and a graded project.",
        "developer-certification",
        DEVELOPER_PROJECT_SLUG,
    ),
    (
        ARCHITECT_SLUG,
        "Certified Payments Architect",
        "Designs payment solutions for platforms and marketplaces, proven in an exam "
        "and a graded architecture project.",
        "architect-certification",
        ARCHITECT_PROJECT_SLUG,
    ),
]


@transaction.atomic
def seed_certifications() -> list[Certification]:
    certifications = []
    for slug, name, description, exam_slug, brief_slug in CERTIFICATIONS:
        exam = Exam.objects.get(slug=exam_slug)
        renewal_exam = Exam.objects.filter(slug=f"{slug}-renewal").first()
        brief = ProjectBrief.objects.filter(slug=brief_slug).first()
        certification, _ = Certification.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "exam": exam,
                "project_brief": brief,
                "validity_months": rules.VALIDITY_MONTHS,
                "renewal_window_days": rules.RENEWAL_WINDOW_DAYS,
                "renewal_exam": renewal_exam,
            },
        )
        if certification.renewal_exam_id is None and renewal_exam is not None:
            certification.renewal_exam = renewal_exam
            certification.save(update_fields=["renewal_exam"])
        if certification.project_brief_id is None and brief is not None:
            certification.project_brief = brief
            certification.save(update_fields=["project_brief"])
        certifications.append(certification)
    return certifications


@transaction.atomic
def seed_demo_credential(
    *,
    person,
    certification: Certification,
    issued_at: datetime,
    revoked_reason: str | None = None,
) -> Credential:
    """A demo credential issued at `issued_at` (found again on a second run)."""
    credential = (
        Credential.objects.filter(person=person, certification=certification)
        .order_by("-issued_at")
        .first()
    )
    if credential is None:
        credential = Credential.objects.create(
            person=person,
            certification=certification,
            holder_name=person.legal_name or person.display_name,
            issued_at=issued_at,
            expires_at=rules.expiry_for(
                issued_at=issued_at, validity_months=certification.validity_months
            ),
        )
        CredentialEvent.objects.create(
            credential=credential, kind=EventKind.ISSUED, at=issued_at, details={"demo": True}
        )
    if revoked_reason and credential.status != CredentialStatus.REVOKED:
        credential = services.credential_revoke(
            credential=credential, by=None, reason=revoked_reason
        )
    return credential
