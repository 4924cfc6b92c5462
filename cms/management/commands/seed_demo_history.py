"""manage.py seed_demo_history: two years of backdated demo activity for the analytics page.

Run after `seed_demo`. Adds eight more partner companies (every status), 80
learners at them and at Northwind, and for each learner a plausible history
over the last 24 months: enrolments in a certification path's courses,
completions, exam attempts (some failed, then retaken), project results,
credentials (some expiring within months) and the partners' track status
history. The records are written directly with their past dates (the services
stamp "now"), seeded with a fixed number so every run builds the same data.
Idempotent: does nothing when the history is already there. Refuses to run
with production settings unless --force is given.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from certificates.models import Certification, Credential
from certificates.rules import add_months
from courses.models import CoursePage, Enrolment
from exams.models import Attempt, AttemptStatus, Submission, SubmissionStatus
from partners.models import (
    Membership,
    Partner,
    PartnerTrack,
    TrackStatusChange,
    TrackStatusRecord,
)

SEED = 20261206
DOMAIN = "history.example"
# (name, slug, status, track, the track's states after "not verified", in order)
PARTNERS = [
    ("Acme Payments", "acme", "active", "technology", ["verified"]),
    ("Initech Software", "initech", "active", "apps", ["verified", "at_risk"]),
    ("Umbrella Retail", "umbrella", "active", "services", ["verified", "at_risk", "verified"]),
    ("Hooli Pay", "hooli", "active", "technology", ["verified", "at_risk"]),
    ("Stark Commerce", "stark", "provisional", "embedded_payments", []),
    ("Tyrell Apps", "tyrell", "provisional", "apps", []),
    ("Wayne Logistics", "wayne", "applicant", "services", []),
    ("Cyberdyne Systems", "cyberdyne", "suspended", "technology", ["verified", "not_verified"]),
]
LEARNERS = 80


def rng_seed(person_id: int, at) -> int:
    """A fixed draw seed per attempt (the demo attempts have no questions drawn)."""
    return person_id * 1_000_003 + int(at.timestamp()) % 1_000_003


class Command(BaseCommand):
    help = "Add two years of backdated demo activity (run after seed_demo)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with production settings."
        )

    def handle(self, *args, force=False, **options):
        if settings.ENVIRONMENT == "production" and not force:
            raise CommandError(
                "Refusing to load demo data with production settings (use --force to insist)."
            )
        if get_user_model().objects.filter(email__endswith=f"@{DOMAIN}").exists():
            self.stdout.write("Demo history already there; nothing to do.")
            return
        certifications = list(Certification.objects.order_by("slug"))
        if not certifications:
            raise CommandError("Run manage.py seed_demo first.")
        with transaction.atomic():
            made = self.seed(certifications)
        # After the commit above, whose memberships and credentials made the
        # status receivers compute today's track statuses: the demo replaces
        # them with a past history (the daily recompute records what differs).
        with transaction.atomic():
            self.seed_track_histories()
        self.stdout.write(self.style.SUCCESS(f"Demo history ready ({made} learners)."))

    def seed_track_histories(self) -> None:
        rng = random.Random(SEED + 1)  # noqa: S311 (demo data, reproducible on purpose)
        now = timezone.now()
        for _, slug, _, track, states in PARTNERS:
            self.track_history(rng, Partner.objects.get(slug=slug), track, states, now)

    def seed(self, certifications) -> int:
        rng = random.Random(SEED)  # noqa: S311 (demo data, reproducible on purpose)
        now = timezone.now()
        User = get_user_model()
        partners = [Partner.objects.get(slug="northwind")]
        for name, slug, status, track, _ in PARTNERS:
            partner = Partner.objects.create(
                name=name, slug=slug, website=f"https://{slug}.example", country="US", status=status
            )
            PartnerTrack.objects.create(partner=partner, track=track)
            partners.append(partner)
        paths = {
            c.slug: list(
                CoursePage.objects.live()
                .filter(kind="technical", certification=c.slug)
                .order_by("path")
            )
            for c in certifications
        }
        for n in range(LEARNERS):
            person = User.objects.create_user(
                email=f"learner{n:02d}@{DOMAIN}",
                password=None,
                first_name=f"Learner {n:02d}",
                last_name="Demo",
                legal_name=f"Learner {n:02d} Demo",
            )
            partner = partners[n % len(partners)]
            Membership.objects.create(
                person=person, partner=partner, started=now - timedelta(days=800)
            )
            certification = certifications[n % len(certifications)]
            self.learner_history(rng, person, certification, paths[certification.slug], now)
        return LEARNERS

    def learner_history(self, rng, person, certification, courses, now):
        start = now - timedelta(days=rng.randint(5, 730))
        if not courses:
            return
        done_at = start
        completed_all = True
        for i, course in enumerate(courses):
            enrolled = start + timedelta(days=i * rng.randint(0, 5))
            finished = enrolled + timedelta(days=rng.randint(4, 35))
            completed = rng.random() < 0.8 and finished < now
            completed_all &= completed
            done_at = max(done_at, finished)
            Enrolment.objects.create(
                person=person,
                course=course,
                enrolled_at=enrolled,
                completed_at=finished if completed else None,
                last_activity_at=finished if completed else enrolled,
            )
        if not completed_all or rng.random() > 0.85:
            return
        at = done_at + timedelta(days=rng.randint(2, 20))
        passed_at = None
        for chance in (0.6, 0.75, 0.8):
            if at >= now:
                return
            passed = rng.random() < chance
            self.attempt(person, certification, at, passed)
            if passed:
                passed_at = at
                break
            at += timedelta(days=rng.randint(2, 40))
        if passed_at is None:
            return
        decided = passed_at + timedelta(days=rng.randint(5, 30))
        if decided >= now or certification.project_brief_id is None:
            return
        project_passed = rng.random() < 0.85
        Submission.objects.create(
            person=person,
            brief_id=certification.project_brief_id,
            status=SubmissionStatus.PASSED if project_passed else SubmissionStatus.FAILED,
            created_at=decided - timedelta(days=3),
            decided_at=decided,
            score=Decimal(14) if project_passed else Decimal(4),
        )
        if project_passed:
            Credential.objects.create(
                person=person,
                certification=certification,
                holder_name=person.legal_name,
                issued_at=decided,
                expires_at=add_months(decided, certification.validity_months),
            )

    def attempt(self, person, certification, at, passed):
        Attempt.objects.create(
            person=person,
            exam_id=certification.exam_id,
            status=AttemptStatus.SUBMITTED,
            seed=rng_seed(person.pk, at),
            started_at=at - timedelta(minutes=50),
            deadline=at + timedelta(minutes=10),
            submitted_at=at,
            pass_mark_percent=Decimal(80),
            score_correct=17 if passed else 12,
            score_total=20,
            score_percent=Decimal(85) if passed else Decimal(60),
            passed=passed,
        )

    def track_history(self, rng, partner, track, states, now):
        """From "not verified" through `states`, spread over the last two years."""
        at = now - timedelta(days=rng.randint(500, 720))
        chain = ["", "not_verified", *states]
        steps = list(zip(chain, chain[1:], strict=False))
        TrackStatusChange.objects.filter(partner=partner).delete()
        TrackStatusRecord.objects.filter(partner=partner).delete()
        last = None
        for from_state, to_state in steps:
            TrackStatusChange.objects.create(
                partner=partner,
                track=track,
                from_state=from_state,
                to_state=to_state,
                reason="demo",
                explanation="Demo history.",
                at=at,
            )
            last = (to_state, at)
            at = min(at + timedelta(days=rng.randint(60, 200)), at + (now - at) / 2)
            if to_state == "verified" and states[-1] == "at_risk":
                at = max(at, now - timedelta(days=rng.randint(5, 50)))
        state, changed = last
        TrackStatusRecord.objects.create(
            partner=partner,
            track=track,
            state=state,
            verified=state in ("verified", "at_risk"),
            certified_individuals=1 if state == "at_risk" else (2 if state == "verified" else 0),
            required=2,
            at_risk_until=changed + timedelta(days=60) if state == "at_risk" else None,
            reason="demo",
            explanation="Demo history.",
            computed_at=now,
            changed_at=changed,
        )
