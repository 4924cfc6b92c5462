"""manage.py seed_demo: idempotent demo data for `make run`.

Creates what is missing and changes nothing that exists, so running it twice
leaves the data as it was. Refuses to run with production settings unless
--force is given.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from certificates.demo import seed_certifications, seed_demo_credential
from certificates.rules import add_months
from courses.demo import seed_courses, seed_events
from courses.models import CoursePage
from exams.accommodations.demo import seed_accommodations
from exams.demo import seed_exams, seed_projects
from exams.models import Exam
from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from partners.directory.services import partner_profile_update
from partners.lifecycle.services import partner_dates_initialise
from partners.membership.services import membership_start, partner_create
from partners.models import Membership, Partner, TechnicalVerification
from partners.status.services import partner_statuses_recompute, technical_verification_record

DEMO_PASSWORD = "academy-demo-2026"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    first_name: str
    last_name: str
    description: str
    group: str | None = None
    superuser: bool = False
    partner: str | None = None
    partner_role: str = "employee"


PARTNERS = [
    {
        "name": "Northwind Payments",
        "slug": "northwind",
        "website": "https://northwind.example",
        "country": "GB",
        "status": "active",
        "tracks": ["services", "technology"],
        "description": "Payment integrations and checkout for retailers across the UK.",
    },
    {
        "name": "Globex Commerce",
        "slug": "globex",
        "website": "https://globex.example",
        "country": "DE",
        "status": "provisional",
        "tracks": ["apps", "embedded_payments"],
        "description": "Marketplace apps and embedded payments for software platforms.",
    },
]

PEOPLE = [
    DemoPerson("admin@academy.example", "Alex", "Admin", "superuser", superuser=True),
    DemoPerson("staff@academy.example", "Priya", "Raman", "programme staff", PROGRAMME_STAFF),
    DemoPerson("instructor@academy.example", "Tomás", "Oliveira", "instructor", INSTRUCTORS),
    DemoPerson(
        "dana@northwind.example",
        "Dana",
        "Whitfield",
        "partner admin, Northwind",
        partner="northwind",
        partner_role="admin",
    ),
    DemoPerson(
        "ada@northwind.example", "Ada", "Lovelace", "employee, Northwind", partner="northwind"
    ),
    DemoPerson(
        "grace@northwind.example", "Grace", "Hopper", "employee, Northwind", partner="northwind"
    ),
    DemoPerson(
        "linus@northwind.example", "Linus", "Berg", "employee, Northwind", partner="northwind"
    ),
    DemoPerson(
        "sam@globex.example",
        "Sam",
        "Keller",
        "partner admin, Globex",
        partner="globex",
        partner_role="admin",
    ),
    DemoPerson("learner@example.com", "Lee", "Morgan", "independent learner"),
]


class Command(BaseCommand):
    help = "Load idempotent demo data (people, partners, memberships, courses, events, exams)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with production settings."
        )

    def handle(self, *args, force=False, **options):
        if settings.ENVIRONMENT == "production" and not force:
            raise CommandError(
                "Refusing to load demo data with production settings (use --force to insist)."
            )
        with transaction.atomic():
            created = self.seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready ({created} new records). Demo accounts, password "
                f"'{DEMO_PASSWORD}':"
            )
        )
        for person in PEOPLE:
            self.stdout.write(f"  {person.email:<30} {person.description}")

    def seed(self) -> int:
        created = 0
        partners = {}
        for spec in PARTNERS:
            partner = Partner.objects.filter(slug=spec["slug"]).first()
            if partner is None:
                fields = {k: v for k, v in spec.items() if k != "description"}
                partner = partner_create(**fields)
                partner = partner_profile_update(
                    partner=partner,
                    website=partner.website,
                    country=partner.country,
                    description=spec["description"],
                    listed=True,
                )
                created += 1
            partners[spec["slug"]] = partner

        User = get_user_model()
        for person in PEOPLE:
            user = User.objects.filter(email__iexact=person.email).first()
            if user is None:
                user = User.objects.create_user(
                    email=person.email,
                    password=DEMO_PASSWORD,
                    first_name=person.first_name,
                    last_name=person.last_name,
                    legal_name=f"{person.first_name} {person.last_name}",
                    is_staff=person.superuser,
                    is_superuser=person.superuser,
                    # Demo accounts sign in right away: their addresses are not real.
                    email_confirmed_at=timezone.now(),
                )
                created += 1
                if person.group:
                    user.groups.add(Group.objects.get(name=person.group))
            if person.partner and not Membership.objects.filter(person=user).exists():
                membership_start(
                    person=user, partner=partners[person.partner], role=person.partner_role
                )
                created += 1

        courses_before = CoursePage.objects.count()
        seed_courses()
        created += CoursePage.objects.count() - courses_before
        learners = [
            User.objects.get(email=email)
            for email in (
                "ada@northwind.example",
                "grace@northwind.example",
                "linus@northwind.example",
                "learner@example.com",
            )
        ]
        seed_events(
            instructor=User.objects.get(email="instructor@academy.example"), learners=learners
        )
        exams_before = Exam.objects.count()
        seed_exams()
        created += Exam.objects.count() - exams_before
        # The independent learner sits exams with extra time and rest breaks.
        seed_accommodations(
            person=User.objects.get(email="learner@example.com"),
            staff=User.objects.get(email="staff@academy.example"),
        )
        seed_projects(
            learners=[
                User.objects.get(email=e)
                for e in ("linus@northwind.example", "learner@example.com")
            ]
        )
        self.seed_credentials(User)
        self.seed_verification(User, partners["northwind"])
        # Statuses are recomputed after commit and daily; do it now so the demo shows them.
        partner_statuses_recompute()
        # The provisional deadline and the first re-review of the demo partners.
        partner_dates_initialise(now=timezone.now())
        return created

    def seed_verification(self, User, northwind):
        """Northwind passed the technology track's technical verification (once)."""
        if not TechnicalVerification.objects.filter(partner=northwind).exists():
            technical_verification_record(
                partner=northwind,
                track="technology",
                status="passed",
                decided_on=timezone.localdate() - timedelta(days=30),
                reviewer=User.objects.get(email="staff@academy.example"),
                notes="Reviewed a production Connect integration (demo).",
            )

    def seed_credentials(self, User):
        """Northwind has two certified people (one expiring within 30 days) and a revoked one."""
        developer, architect = sorted(seed_certifications(), key=lambda c: c.slug != "developer")
        now = timezone.now()
        expiring_soon = add_months(now, -developer.validity_months) + timedelta(days=20)
        for email, certification, issued_at, revoked_reason in [
            ("ada@northwind.example", developer, expiring_soon, None),
            ("grace@northwind.example", architect, now - timedelta(days=90), None),
            (
                "linus@northwind.example",
                developer,
                now - timedelta(days=200),
                "Exam content shared publicly; see case 2026-114.",
            ),
        ]:
            seed_demo_credential(
                person=User.objects.get(email=email),
                certification=certification,
                issued_at=issued_at,
                revoked_reason=revoked_reason,
            )
