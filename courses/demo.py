"""Demo content for `seed_demo`: `seed_courses()` and `seed_events(...)`.

Idempotent: courses and lessons are found by slug and only missing ones are
created, each published with a revision (so the admin shows history). Needs
the course catalogue page (created by courses/0002). Events are found by title;
registrations go through courses.services like a learner's would.
"""

from datetime import timedelta

from django.utils import timezone
from wagtail.models import Page

from . import services
from .models import (
    CourseIndexPage,
    CoursePage,
    Event,
    LearningPath,
    LearningPathCourse,
    LessonPage,
)


def _p(*paragraphs: str) -> list[dict]:
    return [{"type": "paragraph", "value": f"<p>{text}</p>"} for text in paragraphs]


def _h(text: str) -> list[dict]:
    return [{"type": "heading", "value": {"text": text, "level": "h2"}}]


def _tip(text: str, kind: str = "tip", title: str = "") -> list[dict]:
    return [{"type": "callout", "value": {"kind": kind, "title": title, "text": f"<p>{text}</p>"}}]


def _code(language: str, code: str, caption: str = "") -> list[dict]:
    return [{"type": "code", "value": {"language": language, "code": code, "caption": caption}}]


def _check(question: str, options: list[tuple[str, bool, str]], explanation: str) -> list[dict]:
    return [
        {
            "type": "self_check",
            "value": {
                "question": question,
                "options": [
                    {"text": text, "correct": correct, "feedback": feedback}
                    for text, correct, feedback in options
                ],
                "explanation": explanation,
            },
        }
    ]


def _lesson(title: str, slug: str, summary: str, minutes: int, body: list[dict]) -> dict:
    return {
        "title": title,
        "slug": slug,
        "summary": summary,
        "estimated_minutes": minutes,
        "body": body,
    }


COURSES = [
    {
        "title": "Business Foundations",
        "slug": "business-foundations",
        "kind": "sales",
        "level": "beginner",
        "certification": "none",
        "estimated_duration_minutes": 75,
        "summary": (
            "The programme, the platform and the customers it serves: what every partner "
            "needs before the first joint deal. Required for one person per partner."
        ),
        "outcomes": (
            "Describe the partner programme, its tracks and benefits\n"
            "Explain the platform's value to online and in-person businesses\n"
            "Qualify an opportunity and register a deal for co-selling support"
        ),
        "lessons": [
            _lesson(
                "The partner programme in ten minutes",
                "the-partner-programme",
                "Tracks, verification and the benefits that come with them.",
                10,
                _p(
                    "The programme has four tracks: apps, embedded payments, services and "
                    "technology. Each partner picks the tracks that match its business.",
                    "Partners become verified on a track once they pass its technical "
                    "verification and have at least two certified individuals.",
                )
                + _tip(
                    "At least one person in your company must complete this course: it is "
                    "one of the partner requirements reviewed every year.",
                    kind="note",
                )
                + _check(
                    "How many certified individuals does a verified track need?",
                    [
                        ("One", False, "One is the minimum for this course, not for a track."),
                        ("Two", True, "Right: two distinct current members."),
                        ("Five", False, "Fewer than that."),
                    ],
                    "A track is verified with a passed technical verification and at least "
                    "two certified individuals who are current members.",
                ),
            ),
            _lesson(
                "Who buys payments, and why",
                "who-buys-payments",
                "Buyer personas, pains and the questions that open a conversation.",
                20,
                _h("Three buyers")
                + _p(
                    "The finance lead wants predictable fees and fast payouts; the product "
                    "lead wants conversion and new payment methods; the engineering lead "
                    "wants a clean API and reliable webhooks.",
                )
                + _tip("Ask what happens today when a payment fails. The answer shows the pain."),
            ),
            _lesson(
                "Qualifying and registering a deal",
                "qualifying-and-registering-a-deal",
                "From a first call to a registered opportunity with co-selling support.",
                25,
                _p(
                    "Qualify on need, volume, timeline and decision process. Register the "
                    "deal in the partner portal to request co-selling support.",
                )
                + _check(
                    "When should you register a deal?",
                    [
                        ("After the contract is signed", False, "Too late for co-selling help."),
                        ("Once the opportunity is qualified", True, "Yes."),
                    ],
                    "Registering a qualified opportunity early lets the account team help.",
                ),
            ),
        ],
    },
    {
        "title": "Fast Start: Selling online payments",
        "slug": "fast-start-selling-online-payments",
        "kind": "sales",
        "level": "beginner",
        "certification": "none",
        "estimated_duration_minutes": 40,
        "summary": "A short series for account executives new to online payments.",
        "outcomes": "Pitch online payments in two minutes\nHandle the three most common objections",
        "lessons": [
            _lesson(
                "The two-minute pitch",
                "the-two-minute-pitch",
                "Conversion, coverage and control, in that order.",
                15,
                _p(
                    "Start with conversion: local payment methods and optimised checkout "
                    "win sales. Then coverage (countries, currencies), then control "
                    "(reporting, reconciliation)."
                ),
            ),
            _lesson(
                "Handling objections",
                "handling-objections",
                "Price, switching cost and 'we already have a provider'.",
                25,
                _p(
                    "Answer price with total cost: authorisation rates and fraud losses "
                    "matter more than the headline fee."
                )
                + _tip("Never argue with a provider the customer likes; offer a second one."),
            ),
        ],
    },
    {
        "title": "Fast Start: Platforms and marketplaces",
        "slug": "fast-start-platforms-and-marketplaces",
        "kind": "sales",
        "level": "intermediate",
        "certification": "none",
        "estimated_duration_minutes": 35,
        "summary": "Selling embedded payments to software platforms and marketplaces.",
        "outcomes": (
            "Recognise a platform opportunity\nExplain revenue share from embedded payments"
        ),
        "lessons": [
            _lesson(
                "Spotting a platform opportunity",
                "spotting-a-platform-opportunity",
                "Software that its customers use to get paid.",
                15,
                _p(
                    "A platform whose users invoice, book or sell through it can earn "
                    "revenue by embedding payments instead of sending users elsewhere."
                ),
            ),
            _lesson(
                "Revenue share, explained",
                "revenue-share-explained",
                "How the platform earns on every payment.",
                20,
                _p("The platform sets its pricing on top of ours and keeps the difference."),
            ),
        ],
    },
    {
        "title": "Payments fundamentals",
        "slug": "payments-fundamentals",
        "kind": "technical",
        "level": "beginner",
        "certification": "developer",
        "estimated_duration_minutes": 120,
        "summary": (
            "How a card payment travels from checkout to payout, and the API objects that "
            "model it. The starting point of the developer path."
        ),
        "outcomes": (
            "Explain authorisation, capture, settlement and payout\n"
            "Create and confirm a payment with the API\n"
            "Handle declines and retries safely"
        ),
        "lessons": [
            _lesson(
                "The life of a payment",
                "the-life-of-a-payment",
                "Authorisation, capture, settlement, payout.",
                20,
                _h("Four steps")
                + _p(
                    "The issuer authorises the amount, the merchant captures it, the "
                    "networks settle funds between banks, and the platform pays out the "
                    "merchant's balance."
                )
                + _check(
                    "Which step moves money to the merchant's bank account?",
                    [
                        ("Authorisation", False, "That only reserves funds."),
                        (
                            "Capture",
                            False,
                            "Capture asks for the funds; it does not move them yet.",
                        ),
                        ("Payout", True, "Yes."),
                    ],
                    "Payouts transfer the available balance to the merchant's bank account.",
                ),
            ),
            _lesson(
                "Your first payment with the API",
                "your-first-payment",
                "Create a payment intent and confirm it.",
                30,
                _p("Every request is authenticated with a secret key, kept on your server.")
                + _code(
                    "bash",
                    "curl https://api.example.com/v1/payment_intents \\\n"
                    "  -u sk_test_123: \\\n"
                    "  -H 'Idempotency-Key: 5f1c0b8e' \\\n"
                    "  -d amount=2000 -d currency=eur",
                    "Create a payment of 20.00 EUR",
                )
                + _tip(
                    "Never put a secret key in a mobile app or a browser.",
                    kind="warning",
                    title="Keep keys secret",
                ),
            ),
            _lesson(
                "Declines, retries and idempotency",
                "declines-retries-and-idempotency",
                "Retry without charging twice.",
                25,
                _p(
                    "Network errors happen. Send an idempotency key with every POST so a "
                    "retry returns the first result instead of creating a second payment."
                )
                + _check(
                    "A request timed out. What is safe?",
                    [
                        ("Retry with a new idempotency key", False, "That may charge twice."),
                        ("Retry with the same idempotency key", True, "Yes."),
                        ("Never retry", False, "The payment may have failed."),
                    ],
                    "The same key makes the retry return the original outcome.",
                ),
            ),
            _lesson(
                "Refunds and disputes",
                "refunds-and-disputes",
                "Giving money back, and what happens when a cardholder disputes.",
                20,
                _p(
                    "Refunds return all or part of a captured payment. A dispute is opened "
                    "by the cardholder's bank; respond with evidence before the deadline."
                ),
            ),
        ],
    },
    {
        "title": "Payment flows and webhooks",
        "slug": "payment-flows-and-webhooks",
        "kind": "technical",
        "level": "intermediate",
        "certification": "developer",
        "estimated_duration_minutes": 150,
        "summary": (
            "Asynchronous payment methods, 3-D Secure and the webhooks that tell your "
            "system what happened."
        ),
        "outcomes": (
            "Model payment state transitions\n"
            "Verify webhook signatures\n"
            "Process events exactly once"
        ),
        "lessons": [
            _lesson(
                "Synchronous and asynchronous methods",
                "synchronous-and-asynchronous-methods",
                "Cards answer now; bank transfers answer later.",
                20,
                _p(
                    "Some methods confirm in seconds, others in days. Your integration must "
                    "treat 'processing' as a real state."
                ),
            ),
            _lesson(
                "Receiving webhooks",
                "receiving-webhooks",
                "Verify the signature, answer fast, work later.",
                30,
                _code(
                    "python",
                    "def webhook(request):\n"
                    "    event = verify_signature(request.body, request.headers['Signature'])\n"
                    "    enqueue(event.id)\n"
                    "    return HttpResponse(status=200)",
                    "Acknowledge quickly; process in a background job",
                )
                + _tip("Events may arrive twice and out of order: store event ids you handled."),
            ),
            _lesson(
                "Exactly-once processing",
                "exactly-once-processing",
                "Unique constraints beat clever code.",
                25,
                _p(
                    "Record each event id under a unique constraint before acting on it; a "
                    "duplicate delivery then fails the insert and does nothing."
                )
                + _check(
                    "Where should 'handle each event once' be enforced?",
                    [
                        ("In an in-memory set", False, "Lost on restart, not shared."),
                        ("In a database unique constraint", True, "Yes."),
                    ],
                    "Only the database sees every worker's writes.",
                ),
            ),
        ],
    },
    {
        "title": "Platforms and marketplaces",
        "slug": "platforms-and-marketplaces",
        "kind": "technical",
        "level": "intermediate",
        "certification": "architect",
        "estimated_duration_minutes": 140,
        "summary": (
            "Connected accounts, onboarding and verification, and splitting funds between "
            "a platform and its sellers."
        ),
        "outcomes": (
            "Choose a connected account type\n"
            "Design onboarding and verification\n"
            "Split funds with transfers and application fees"
        ),
        "lessons": [
            _lesson(
                "Connected accounts",
                "connected-accounts",
                "Who owns the relationship with the seller.",
                25,
                _p(
                    "Connected accounts represent your sellers. The account type decides "
                    "who handles onboarding, support and liability for losses."
                ),
            ),
            _lesson(
                "Onboarding and verification",
                "onboarding-and-verification",
                "Know-your-customer requirements without losing sellers.",
                30,
                _p("Collect only what is required now; ask for more as volume grows.")
                + _tip("Hosted onboarding keeps you current with changing requirements."),
            ),
            _lesson(
                "Splitting funds",
                "splitting-funds",
                "Destination charges, transfers and application fees.",
                30,
                _code(
                    "json",
                    '{\n  "amount": 10000,\n  "currency": "eur",\n'
                    '  "application_fee_amount": 1200,\n'
                    '  "transfer_data": {"destination": "acct_123"}\n}',
                    "A payment that sends 88.00 EUR to the seller",
                ),
            ),
        ],
    },
    {
        "title": "Integration architecture",
        "slug": "integration-architecture",
        "kind": "technical",
        "level": "advanced",
        "certification": "architect",
        "estimated_duration_minutes": 180,
        "summary": (
            "Designing payment integrations that survive outages, scale with volume and pass "
            "a security review."
        ),
        "outcomes": (
            "Draw a reference architecture for a payment integration\n"
            "Plan for failure: timeouts, retries, reconciliation\n"
            "Keep card data out of scope"
        ),
        "lessons": [
            _lesson(
                "Reference architecture",
                "reference-architecture",
                "Checkout, payment service, event processor, ledger.",
                30,
                _p(
                    "Keep one service that talks to the payment API, a queue for webhook "
                    "events, and a ledger that is the source of truth for balances."
                ),
            ),
            _lesson(
                "Designing for failure",
                "designing-for-failure",
                "Timeouts, retries with backoff, and daily reconciliation.",
                35,
                _p(
                    "Assume every call can time out. Retry idempotently with backoff and "
                    "reconcile against settlement reports every day."
                )
                + _check(
                    "What catches a payment your system missed?",
                    [
                        ("Reconciliation", True, "Yes."),
                        ("More logging", False, "Logs do not compare against the bank."),
                    ],
                    "Reconciliation compares your records with the provider's reports.",
                ),
            ),
            _lesson(
                "Security and compliance scope",
                "security-and-compliance-scope",
                "Tokenisation keeps card numbers off your servers.",
                30,
                _p(
                    "Use hosted fields or the hosted checkout so card numbers never touch "
                    "your servers; your compliance scope shrinks accordingly."
                ),
            ),
        ],
    },
]


def _publish_child(parent: Page, page: Page) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def seed_courses() -> list[CoursePage]:
    """Create the demo courses and lessons that are missing; return all demo courses."""
    catalogue = CourseIndexPage.objects.order_by("path").first()
    if catalogue is None:
        raise RuntimeError("No course catalogue page: run the migrations first.")
    courses = []
    for spec in COURSES:
        spec = dict(spec)
        lessons = spec.pop("lessons")
        course = CoursePage.objects.child_of(catalogue).filter(slug=spec["slug"]).first()
        if course is None:
            course = _publish_child(catalogue, CoursePage(**spec))
        existing = set(LessonPage.objects.child_of(course).values_list("slug", flat=True))
        for lesson in lessons:
            if lesson["slug"] not in existing:
                _publish_child(course, LessonPage(**lesson))
        courses.append(course)
    seed_paths({course.slug: course for course in courses})
    return courses


PATHS = [
    {
        "slug": "developer",
        "title": "Developer path",
        "certification": "developer",
        "sort_order": 10,
        "courses": ["payments-fundamentals", "payment-flows-and-webhooks"],
    },
    {
        "slug": "architect",
        "title": "Architect path",
        "certification": "architect",
        "sort_order": 20,
        "courses": ["platforms-and-marketplaces", "integration-architecture"],
    },
    {
        "slug": "sales-foundations",
        "title": "Business Foundations and Fast Start",
        "intro": (
            "The sales series every partner starts with: Business Foundations, then "
            "the Fast Start courses. Completing them counts toward your company's "
            "partner requirements."
        ),
        "certification": "none",
        "sort_order": 30,
        "courses": [
            "business-foundations",
            "fast-start-selling-online-payments",
            "fast-start-platforms-and-marketplaces",
        ],
    },
]


def seed_paths(courses_by_slug: dict[str, CoursePage]) -> list[LearningPath]:
    """Author the demo learning paths; a path that already has courses (the
    data migration's, or an instructor's) is left as it is."""
    paths = []
    for spec in PATHS:
        spec = dict(spec)
        slugs = spec.pop("courses")
        path, _ = LearningPath.objects.get_or_create(slug=spec["slug"], defaults=spec)
        if not path.path_courses.exists():
            LearningPathCourse.objects.bulk_create(
                LearningPathCourse(path=path, course=courses_by_slug[slug], sort_order=index)
                for index, slug in enumerate(slugs)
                if slug in courses_by_slug
            )
        paths.append(path)
    return paths


EVENTS = [
    {
        "title": "Live workshop: webhooks that never miss an event",
        "description": (
            "Build a webhook receiver that verifies signatures, answers fast and "
            "processes each event exactly once. Bring a laptop with the CLI installed."
        ),
        "course_slug": "payment-flows-and-webhooks",
        "days_ahead": 7,
        "time_zone": "Europe/Dublin",
        "capacity": 25,
        "seats_for_learners": 1,
    },
    {
        "title": "Office hours: marketplace architecture review",
        "description": (
            "Bring your platform design; an architect reviews account types, onboarding "
            "and fund flows with you. Small group, so seats are limited."
        ),
        "course_slug": "platforms-and-marketplaces",
        "days_ahead": 10,
        "time_zone": "America/New_York",
        "capacity": 2,
        "seats_for_learners": 3,  # more people than seats: the session is full, one waits
    },
]


def seed_events(*, instructor, learners) -> list[Event]:
    """Two upcoming sessions taught by `instructor`; the second is full (its
    seats go to the first `learners`, the next one is waitlisted)."""
    learners = list(learners)
    events = []
    for spec in EVENTS:
        event = Event.objects.filter(title=spec["title"]).first()
        if event is None:
            starts_at = (timezone.now() + timedelta(days=spec["days_ahead"])).replace(
                hour=15, minute=0, second=0, microsecond=0
            )
            event = Event.objects.create(
                title=spec["title"],
                description=spec["description"],
                course=CoursePage.objects.filter(slug=spec["course_slug"]).first(),
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=90),
                time_zone=spec["time_zone"],
                join_url="https://meet.example.com/partner-academy",
                instructor=instructor,
                capacity=spec["capacity"],
            )
        for person in learners[: spec["seats_for_learners"]]:
            services.event_register(person=person, event_id=event.pk)
        events.append(event)
    return events
