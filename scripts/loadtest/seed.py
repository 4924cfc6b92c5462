"""The load test's people and exam, on a migrated database with the demo data.

`python -m scripts.loadtest.seed --people N --out plan.json` (Django settings
from the environment) creates, in one run-specific batch:
- a partner with one partner admin per ten people, its members being the
  candidates and learners;
- candidates: confirmed accounts with a passed project, so that passing the
  load-test exam (12 single-answer questions) issues a credential whose PDF a
  worker renders;
- learners: enrolled in the largest demo course, each holding a credential
  with a stored PDF (they download it during the run; see
  `_store_learner_pdfs`).
It writes the plan the locust users read: who is who, the password, the exam,
the correct choice ids (candidates choose to pass or not), the lesson URLs.
"""

import argparse
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import django

PASSWORD = "loadtest-" + "password-2026"
QUESTIONS = 12


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--candidates", type=int, required=True)
    parser.add_argument("--learners", type=int, required=True)
    parser.add_argument("--admins", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scripts.loadtest.settings")
    django.setup()
    plan = seed(candidates=args.candidates, learners=args.learners, admins=args.admins)
    Path(args.out).write_text(json.dumps(plan))


def seed(*, candidates: int, learners: int, admins: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from certificates import rules as certificate_rules
    from certificates.models import Certification, Credential, CredentialEvent, EventKind
    from courses.models import CoursePage, Enrolment, LessonPage
    from exams import services as exam_services
    from exams.models import (
        Choice,
        Exam,
        ProjectBrief,
        QuestionBank,
        QuestionKind,
        Submission,
        SubmissionStatus,
        Topic,
    )
    from partners.membership.services import partner_create
    from partners.models import Membership

    run = secrets.token_hex(3)
    now = timezone.now()
    User = get_user_model()
    with transaction.atomic():
        bank = QuestionBank.objects.create(slug=f"load-{run}", title=f"Load test bank {run}")
        topic = Topic.objects.create(bank=bank, name="Payments", position=0)
        for q in range(QUESTIONS):
            exam_services.question_create(
                topic=topic,
                kind=QuestionKind.SINGLE,
                stem=f"Load test question {q}: which option is right?",
                choices=[
                    exam_services.ChoiceSpec(f"Option {i} of question {q}", i == 0)
                    for i in range(4)
                ],
                explanation="The first one.",
            )
        exam = Exam.objects.create(
            slug=f"load-{run}", title=f"Load test exam {run}", time_limit_minutes=120
        )
        exam_services.blueprint_set(exam=exam, counts=[(topic, QUESTIONS)])
        exam = exam_services.exam_publish(exam=exam)
        brief = ProjectBrief.objects.create(
            slug=f"load-{run}",
            title=f"Load test project {run}",
            summary="Load test.",
            instructions="Load test.",
            pass_threshold=1,
            is_published=True,
        )
        certification = Certification.objects.create(
            slug=f"load-{run}",
            name=f"Certified Load Tester {run}",
            exam=exam,
            project_brief=brief,
            validity_months=certificate_rules.VALIDITY_MONTHS,
            renewal_window_days=certificate_rules.RENEWAL_WINDOW_DAYS,
        )
        partner = partner_create(name=f"Load Test Payments {run}", slug=f"load-{run}")

        password = make_password(PASSWORD)

        def people(kind: str, count: int):
            return User.objects.bulk_create(
                User(
                    email=f"{kind}{n}.{run}@load.example",
                    password=password,
                    first_name=kind.title(),
                    last_name=str(n),
                    legal_name=f"{kind.title()} {n}",
                    email_confirmed_at=now,
                )
                for n in range(count)
            )

        candidate_users = people("candidate", candidates)
        learner_users = people("learner", learners)
        admin_users = people("admin", admins)
        Membership.objects.bulk_create(
            [
                Membership(person=user, partner=partner, role=Membership.Role.EMPLOYEE)
                for user in candidate_users + learner_users
            ]
            + [
                Membership(person=user, partner=partner, role=Membership.Role.ADMIN)
                for user in admin_users
            ]
        )
        Submission.objects.bulk_create(
            Submission(
                person=user,
                brief=brief,
                status=SubmissionStatus.PASSED,
                created_at=now - timedelta(days=2),
                decided_at=now - timedelta(days=1),
                score=1,
            )
            for user in candidate_users + learner_users
        )
        course = max(
            CoursePage.objects.live(), key=lambda c: LessonPage.objects.child_of(c).count()
        )
        lessons = [lesson.url for lesson in LessonPage.objects.child_of(course).live()]
        Enrolment.objects.bulk_create(
            Enrolment(person=user, course=course, enrolled_at=now, last_activity_at=now)
            for user in learner_users
        )
        credentials = Credential.objects.bulk_create(
            Credential(
                person=user,
                certification=certification,
                holder_name=user.legal_name,
                issued_at=now - timedelta(days=30),
                expires_at=certificate_rules.expiry_for(
                    issued_at=now - timedelta(days=30),
                    validity_months=certification.validity_months,
                ),
            )
            for user in learner_users
        )
        CredentialEvent.objects.bulk_create(
            CredentialEvent(credential=c, kind=EventKind.ISSUED, at=c.issued_at)
            for c in credentials
        )
    _store_learner_pdfs(credentials)

    correct = list(
        Choice.objects.filter(version__question__topic=topic, is_correct=True).values_list(
            "id", flat=True
        )
    )
    return {
        "run": run,
        "password": PASSWORD,
        "exam": exam.slug,
        "certification": certification.slug,
        "partner": partner.slug,
        "questions": QUESTIONS,
        "correct_choice_ids": correct,
        "lessons": lessons,
        "course": course.url,
        "candidates": [u.email for u in candidate_users],
        "learners": [
            {"email": u.email, "credential": c.public_id}
            for u, c in zip(learner_users, credentials, strict=True)
        ],
        "admins": [u.email for u in admin_users],
    }


def _store_learner_pdfs(credentials) -> None:
    """The learners' certificates: the first is rendered, the others are stored
    copies of its bytes. Rendering each (a second of CPU apiece here) would
    spend minutes of the run's budget before it starts; the certificates
    issued during the run are rendered by the workers, each for real."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from certificates import services as certificate_services
    from certificates.models import Credential

    if not credentials:
        return
    first = credentials[0]
    certificate_services.credential_pdf_render_and_store(credential_id=first.pk)
    first.refresh_from_db()
    with first.pdf.open("rb") as handle:
        data = handle.read()
    for credential in credentials[1:]:
        field = credential.pdf
        name = field.storage.save(
            field.field.generate_filename(credential, "certificate.pdf"), ContentFile(data)
        )
        Credential.objects.filter(pk=credential.pk).update(pdf=name, pdf_rendered_at=timezone.now())


if __name__ == "__main__":
    main()
