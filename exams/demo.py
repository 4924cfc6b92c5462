"""Demo exams for `seed_demo`: `seed_exams()`.

Idempotent: the bank, topics and exams are found by slug/name, a question is
created only when its topic has no question with the same text, and an exam's
blueprint is set only while it has none. Questions go through
exams.services like an author's would, and both exams are published through
`exam_publish`. Each topic holds at least three times what a blueprint draws,
so learners taking the demo twice mostly see new questions.
"""

from django.db import transaction

from . import services
from .models import Exam, QuestionBank, Topic
from .services import ChoiceSpec

BANK_SLUG = "payments-integration"

# (stem, options, indexes of the right options, explanation); two or more right = multiple.
Q = tuple[str, tuple[str, ...], tuple[int, ...], str]

PAYMENT_FLOWS: list[Q] = [
    (
        "A customer pays by card and the bank asks for 3D Secure authentication. "
        "Which status does the payment intent have while it waits for the customer?",
        ("requires_action", "processing", "requires_capture", "canceled"),
        (0,),
        "The intent needs the customer to complete an action (authentication) before it can go on.",
    ),
    (
        "You want to authorise a card at checkout and charge it only when the goods ship. "
        "What do you set up?",
        (
            "Manual capture: authorise now, capture later within the authorisation window",
            "Automatic capture followed by a refund if the order is cancelled",
            "A subscription with a trial period",
            "A payout to the customer when the goods ship",
        ),
        (0,),
        "Separate authorisation and capture holds the funds without moving them until you capture.",
    ),
    (
        "Where should the amount of a payment be decided?",
        (
            "On your server, from the order stored there",
            "In the browser, from the cart shown to the customer",
            "In the mobile app, so it works offline",
            "In the webhook handler after the payment succeeded",
        ),
        (0,),
        "The client can be tampered with; the server computes the amount from trusted data.",
    ),
    (
        "Which two statements about the client secret of a payment intent are true?",
        (
            "It lets the front end confirm that one payment intent",
            "It must not be logged, stored in URLs or shared with other customers",
            "It can be used as an API key to create refunds",
            "It stays valid as a login token for the customer",
        ),
        (0, 1),
        "The client secret is scoped to one intent; keep it private, but it is no API key.",
    ),
    (
        "A payment intent is in status `processing`. What should your integration do?",
        (
            "Wait for the webhook that reports success or failure before fulfilling",
            "Fulfil the order immediately",
            "Create a second payment intent to be safe",
            "Cancel it and ask the customer to pay again",
        ),
        (0,),
        "Some payment methods settle asynchronously; the final outcome arrives as an event.",
    ),
    (
        "Which payment methods typically confirm asynchronously (the result arrives later)?",
        (
            "Bank debits such as SEPA Direct Debit",
            "Bank transfers",
            "Card payments without authentication",
            "Cash in the shop",
        ),
        (0, 1),
        "Debits and transfers take days to settle; cards usually answer at once.",
    ),
    (
        "A customer's card was declined with `insufficient_funds`. What is the best next step?",
        (
            "Show a clear message and let the customer try another payment method",
            "Retry the same card every minute until it succeeds",
            "Mark the order as paid and collect later",
            "Refund the customer",
        ),
        (0,),
        "Declines are final for that attempt; offer the customer another way to pay.",
    ),
    (
        "What does a refund of a captured card payment do?",
        (
            "Returns all or part of the captured amount to the customer's card",
            "Cancels the authorisation before capture",
            "Opens a dispute with the card network",
            "Deletes the payment from your records",
        ),
        (0,),
        "A refund moves money back; the original payment stays on record with its refunds.",
    ),
    (
        "You save a card for later off-session payments. What must you do when saving it?",
        (
            "Set it up for future use with the customer present, so authentication can happen",
            "Store the card number in your database",
            "Ask the customer to email the card details",
            "Nothing: any card can be charged off-session",
        ),
        (0,),
        "Setting up the payment method on-session gets the mandate/authentication needed later.",
    ),
    (
        "Which two help reduce fraud in a card checkout?",
        (
            "Collecting the postal code and CVC",
            "Using the provider's risk signals and 3D Secure where needed",
            "Disabling all error messages",
            "Allowing unlimited card retries per session",
        ),
        (0, 1),
        "Verification data and risk-based authentication block many fraudulent payments.",
    ),
    (
        "A customer disputes a payment with their bank. What happens to the funds first?",
        (
            "The disputed amount (and a fee) is withdrawn from your balance",
            "Nothing until the dispute is decided",
            "The customer's bank sends you the amount twice",
            "The payment is refunded automatically by you",
        ),
        (0,),
        "The amount is held back while you submit evidence; you may win it back.",
    ),
    (
        "Which evidence helps most when responding to a dispute for a physical product?",
        (
            "Proof of delivery with tracking to the customer's address",
            "A screenshot of your website's home page",
            "Your company's annual report",
            "The customer's card number",
        ),
        (0,),
        "Evidence must address the dispute reason; delivery proof answers 'product not received'.",
    ),
]

WEBHOOKS: list[Q] = [
    (
        "Your webhook endpoint receives the same event twice. How should it behave?",
        (
            "Process it once: record the event id and skip events already handled",
            "Process it twice; duplicates never happen in production",
            "Return an error so the sender stops retrying",
            "Delete the event from the provider",
        ),
        (0,),
        "Delivery is at least once; idempotent handlers make duplicates harmless.",
    ),
    (
        "How do you know a webhook request really comes from the payment provider?",
        (
            "Verify its signature header with the endpoint's signing secret",
            "Check that the request comes from a browser",
            "Trust it if the JSON looks valid",
            "Compare the User-Agent header",
        ),
        (0,),
        "Signature verification over the raw body proves origin and integrity.",
    ),
    (
        "Which two are good practice for a webhook endpoint?",
        (
            "Return 2xx quickly and do slow work in a background job",
            "Verify the signature against the raw request body",
            "Require the sender to log in with a password",
            "Process events strictly in the order they arrive and fail on gaps",
        ),
        (0, 1),
        "Fast acknowledgement avoids timeouts and retries; events can arrive out of order.",
    ),
    (
        "Events can arrive out of order. What is a robust way to handle that?",
        (
            "Fetch the current state of the object from the API when an event arrives",
            "Reject any event older than the last one you saw",
            "Sort events by arrival time and replay them",
            "Ignore events that are not the latest",
        ),
        (0,),
        "Treat the event as a signal and read the authoritative current state.",
    ),
    (
        "What is an idempotency key on an API request for?",
        (
            "Retrying the same request safely without creating a second object",
            "Authenticating the request",
            "Encrypting the request body",
            "Choosing the API version",
        ),
        (0,),
        "The provider returns the first result again for a repeated key.",
    ),
    (
        "Your server timed out while creating a payment. What do you do?",
        (
            "Retry with the same idempotency key",
            "Retry with a new idempotency key",
            "Assume it failed and show an error",
            "Assume it succeeded and ship the order",
        ),
        (0,),
        "The same key makes the retry return the original outcome instead of charging twice.",
    ),
    (
        "Which HTTP answer makes the provider retry a webhook delivery?",
        ("A 5xx error or a timeout", "200 OK", "204 No Content", "202 Accepted"),
        (0,),
        "Any 2xx acknowledges the event; errors and timeouts trigger retries with back-off.",
    ),
    (
        "Which two should you do before going live with webhooks?",
        (
            "Subscribe only to the event types you handle",
            "Keep the signing secret out of source control and rotate it if leaked",
            "Use the test-mode signing secret in production",
            "Disable signature checks to save time",
        ),
        (0, 1),
        "Fewer events means less load; secrets belong in configuration, never in code.",
    ),
    (
        "A webhook handler fulfils orders on `payment succeeded`. Which bug is most dangerous?",
        (
            "Fulfilling twice when the event is delivered twice",
            "Logging the event id",
            "Returning 200 quickly",
            "Reading the order from the database",
        ),
        (0,),
        "Without idempotency a duplicate delivery ships the order twice.",
    ),
]

PLATFORMS: list[Q] = [
    (
        "A marketplace takes a commission on each sale and pays the rest to the seller. "
        "Which setup fits?",
        (
            "Connected accounts for sellers, with an application fee on each payment",
            "One account for everyone and manual bank transfers",
            "Each seller shares their API keys with the platform",
            "Refund the seller's share to the buyer",
        ),
        (0,),
        "The platform charges, keeps its fee and the rest goes to the seller's connected account.",
    ),
    (
        "Who is usually responsible for verifying the identity of sellers on a platform?",
        (
            "The platform, collecting the information the provider requires (KYC)",
            "Nobody: payouts need no verification",
            "The buyers",
            "The card networks",
        ),
        (0,),
        "Regulation requires know-your-customer checks before sellers can receive payouts.",
    ),
    (
        "What is a payout?",
        (
            "Moving funds from an account's balance to its bank account",
            "A payment from a customer",
            "A refund to a customer",
            "A dispute fee",
        ),
        (0,),
        "Payouts settle the available balance to the account holder's bank.",
    ),
    (
        "Which two affect when a connected account's funds become available for payout?",
        (
            "The payout schedule set for the account",
            "The settlement delay of the payment method",
            "The buyer's time zone",
            "The colour of the checkout button",
        ),
        (0, 1),
        "Funds settle after the method's delay and are paid out on the account's schedule.",
    ),
    (
        "A platform wants the seller's name on the customer's card statement. What matters?",
        (
            "Which account the charge is made on (who is the merchant of record)",
            "The currency of the platform's bank account",
            "The number of sellers on the platform",
            "The API version",
        ),
        (0,),
        "The merchant of record determines the statement descriptor and who handles disputes.",
    ),
    (
        "A buyer disputes a marketplace purchase charged on the platform. "
        "Who bears the loss first?",
        (
            "The platform, which may recover it from the seller per its terms",
            "The card network",
            "The buyer's bank",
            "Nobody",
        ),
        (0,),
        "When the platform is the merchant of record the dispute debits the platform's balance.",
    ),
    (
        "What is the safest way to onboard many sellers quickly?",
        (
            "Use the provider's hosted onboarding flow for connected accounts",
            "Collect ID documents by email",
            "Skip verification until the first payout fails",
            "Let sellers share one account",
        ),
        (0,),
        "Hosted onboarding collects and updates the required information securely.",
    ),
    (
        "Which two are reasons to split one payment between several sellers?",
        (
            "A basket with items from different sellers",
            "A platform fee plus a delivery partner's share",
            "To avoid paying processing fees",
            "To hide the amount from the customer",
        ),
        (0, 1),
        "Separate charges and transfers let one payment fund several connected accounts.",
    ),
    (
        "A connected account's verification requirements change after onboarding. What do you do?",
        (
            "Listen for account update events and ask the seller for the missing information",
            "Ignore it: verification happens once",
            "Close the account",
            "Pay the seller in cash",
        ),
        (0,),
        "Requirements can change; unresolved ones may pause payouts.",
    ),
    (
        "Why do platforms reverse transfers when refunding a marketplace payment?",
        (
            "To take the seller's share back so the platform is not out of pocket",
            "Because the card network requires two refunds",
            "To cancel the platform's account",
            "To change the payout schedule",
        ),
        (0,),
        "The refund comes from the platform; reversing the transfer recovers the seller's part.",
    ),
    (
        "Which information may the platform show the buyer about the seller?",
        (
            "What the seller agreed to publish, such as a business name and support contact",
            "The seller's bank account number",
            "The seller's identity documents",
            "The seller's API keys",
        ),
        (0,),
        "Only public business details; verification data stays private.",
    ),
    (
        "Which two are true about application fees on a platform?",
        (
            "They move from the seller's payment to the platform's balance",
            "They can be refunded along with the payment",
            "They are paid by the card network",
            "They bypass all reporting",
        ),
        (0, 1),
        "Application fees are part of the payment's money movement and can be refunded.",
    ),
]

ARCHITECTURE: list[Q] = [
    (
        "Where should the secret API key live?",
        (
            "On the server, in configuration or a secrets manager",
            "In the mobile app",
            "In the front-end JavaScript bundle",
            "In the public repository, for convenience",
        ),
        (0,),
        "Secret keys grant full account access; only the publishable key goes to clients.",
    ),
    (
        "Which card data may your own servers store to stay out of most PCI scope?",
        (
            "Provider tokens or ids for payment methods, never raw card numbers",
            "The full card number and CVC",
            "The card number without the CVC",
            "The CVC only",
        ),
        (0,),
        "Tokenised payment methods keep raw card data off your systems.",
    ),
    (
        "Which two make an integration resilient to provider API outages?",
        (
            "Retries with back-off and idempotency keys",
            "Queueing work that can be done later, such as sending receipts",
            "Retrying instantly in a tight loop",
            "Storing the customer's card number for later",
        ),
        (0, 1),
        "Back-off and idempotency avoid duplicate charges; queues absorb temporary failures.",
    ),
    (
        "You upgrade to a new API version. What is the safe approach?",
        (
            "Test the new version in test mode, then pin it explicitly in production",
            "Let each request use whatever version is newest",
            "Upgrade production first and watch the errors",
            "Never upgrade",
        ),
        (0,),
        "Pinning makes responses predictable; upgrade deliberately after testing.",
    ),
    (
        "How should an integration reconcile its orders with the provider's records?",
        (
            "Match payments by stored ids and check reports or balance transactions regularly",
            "Compare customer names",
            "Count orders and payments once a year",
            "Trust the front end's confirmation page",
        ),
        (0,),
        "Storing provider ids on your records makes automatic reconciliation possible.",
    ),
    (
        "Which two are good uses of metadata on payment objects?",
        (
            "Storing your order id to link the payment back to your system",
            "Storing a short internal reference for support",
            "Storing the card number",
            "Storing the customer's password",
        ),
        (0, 1),
        "Metadata links records; never put sensitive data in it.",
    ),
    (
        "A restricted API key is most useful for...",
        (
            "Giving a service only the permissions it needs",
            "Letting customers log in",
            "Encrypting webhook payloads",
            "Avoiding rate limits",
        ),
        (0,),
        "Least privilege limits the damage if that key leaks.",
    ),
    (
        "Your integration hits rate limits during a batch job. What should you do?",
        (
            "Throttle the job and retry rate-limited requests with back-off",
            "Run the batch on more servers at once",
            "Create a new account for the batch",
            "Ignore the errors",
        ),
        (0,),
        "Rate limits protect the service; spreading requests over time is the fix.",
    ),
    (
        "What does test mode guarantee?",
        (
            "No real money moves and test data is separate from live data",
            "Everything behaves exactly like the bank in production",
            "Webhooks are not sent",
            "API keys are not needed",
        ),
        (0,),
        "Test mode mirrors the API with test data; some real-world timing differs.",
    ),
]

TOPICS = [
    ("Payment flows", "Accept, authorise, capture, refund and dispute payments.", PAYMENT_FLOWS),
    ("Webhooks and idempotency", "Receive events safely; retry without duplicates.", WEBHOOKS),
    ("Platforms and marketplaces", "Connected accounts, fees, transfers and payouts.", PLATFORMS),
    (
        "Integration architecture",
        "Keys, security, resilience, versions and reconciliation.",
        ARCHITECTURE,
    ),
]

EXAMS = [
    (
        "developer-certification",
        "Developer certification exam",
        "Build payment integrations: payment flows, webhooks and a sound architecture.",
        [("Payment flows", 4), ("Webhooks and idempotency", 3), ("Integration architecture", 3)],
    ),
    (
        "architect-certification",
        "Architect certification exam",
        "Design payment solutions: platforms and marketplaces, architecture and events.",
        [
            ("Platforms and marketplaces", 4),
            ("Integration architecture", 3),
            ("Webhooks and idempotency", 3),
        ],
    ),
    (
        "developer-renewal",
        "Developer renewal exam",
        "For current holders in their renewal window: a shorter check on what changed.",
        [("Payment flows", 2), ("Webhooks and idempotency", 2), ("Integration architecture", 2)],
    ),
    (
        "architect-renewal",
        "Architect renewal exam",
        "For current holders in their renewal window: a shorter check on what changed.",
        [
            ("Platforms and marketplaces", 2),
            ("Integration architecture", 2),
            ("Webhooks and idempotency", 2),
        ],
    ),
]


@transaction.atomic
def seed_exams() -> list[Exam]:
    bank, _ = QuestionBank.objects.get_or_create(
        slug=BANK_SLUG,
        defaults={
            "title": "Payments integration",
            "description": "Questions for the developer and architect certification exams.",
        },
    )
    topics: dict[str, Topic] = {}
    for position, (name, objective, questions) in enumerate(TOPICS):
        topic, _ = Topic.objects.get_or_create(
            bank=bank, name=name, defaults={"objective": objective, "position": position}
        )
        topics[name] = topic
        existing = set(
            topic.questions.filter(current_version__isnull=False).values_list(
                "current_version__stem", flat=True
            )
        )
        for stem, options, right, explanation in questions:
            if stem in existing:
                continue
            services.question_create(
                topic=topic,
                kind="multiple" if len(right) > 1 else "single",
                stem=stem,
                choices=[ChoiceSpec(text, i in right) for i, text in enumerate(options)],
                explanation=explanation,
            )
    exams = []
    for slug, title, description, blueprint in EXAMS:
        exam, _ = Exam.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "description": description,
                # A renewal exam is the shorter check for current holders.
                "time_limit_minutes": 12 if slug.endswith("-renewal") else 20,
            },
        )
        if not exam.blueprint.exists():
            services.blueprint_set(
                exam=exam, counts=[(topics[name], count) for name, count in blueprint]
            )
        if not exam.is_published:
            services.exam_publish(exam=exam)
        exams.append(exam)
    return exams


# --- projects -------------------------------------------------------------------------
# `seed_projects(learners=[...])`: two published briefs with rubrics, and one
# submission per learner and brief waiting in the review queue. Idempotent:
# briefs are found by slug, a rubric is written only while the brief has no
# criteria, and a learner who already has any submission of a brief gets none.

DEVELOPER_PROJECT_SLUG = "developer-project-payment-flow"
ARCHITECT_PROJECT_SLUG = "architect-project-marketplace"

# (title, description, [(level title, level description, points), ...])
R = tuple[str, str, list[tuple[str, str, int]]]

DEVELOPER_RUBRIC: list[R] = [
    (
        "Payment flow works end to end",
        "Checkout creates a payment on the server, confirms it, and shows the result.",
        [
            ("Missing", "The flow does not run.", 0),
            ("Partial", "Happy path only; failures and 3D Secure are not handled.", 2),
            ("Complete", "Success, decline and authentication are all handled.", 4),
        ],
    ),
    (
        "Webhooks and idempotency",
        "Order state follows webhooks; retries never double-charge or double-ship.",
        [
            ("Missing", "No webhook handling.", 0),
            ("Partial", "Webhooks handled but not verified or not idempotent.", 1),
            ("Complete", "Signatures verified, events deduplicated, idempotency keys used.", 3),
        ],
    ),
    (
        "Security",
        "Secrets stay on the server; amounts come from the server; no card data stored.",
        [
            ("Unsafe", "A secret key or card data reaches the client or the logs.", 0),
            ("Safe", "Keys, amounts and card data are handled correctly.", 2),
        ],
    ),
    (
        "Code quality and tests",
        "Readable code with automated tests for the payment paths.",
        [
            ("None", "No tests.", 0),
            ("Some", "Tests for the happy path.", 1),
            ("Thorough", "Tests cover declines, webhooks and retries.", 2),
        ],
    ),
]

ARCHITECT_RUBRIC: list[R] = [
    (
        "Money movement",
        "Split payments, seller onboarding, payouts and fees are modelled correctly.",
        [
            ("Missing", "Funds flow is unclear.", 0),
            ("Partial", "Main flow described; refunds, disputes or fees are missing.", 2),
            ("Complete", "Charges, transfers, refunds, disputes and fees are all covered.", 4),
        ],
    ),
    (
        "Compliance and risk",
        "KYC of sellers, PCI scope, fraud controls, data residency.",
        [
            ("Missing", "Not addressed.", 0),
            ("Partial", "Some controls named without how they work.", 1),
            ("Complete", "Controls, responsibilities and evidence described.", 3),
        ],
    ),
    (
        "Resilience and operations",
        "Failure modes, reconciliation, monitoring and incident handling.",
        [
            ("Missing", "Not addressed.", 0),
            ("Partial", "Some failure modes considered.", 1),
            ("Complete", "Reconciliation and recovery are designed in.", 3),
        ],
    ),
]

PROJECTS = [
    (
        DEVELOPER_PROJECT_SLUG,
        "Developer project: build a payment flow",
        "Build a small shop's checkout with server-side payments, webhooks and tests.",
        "Build a web checkout for a small shop:\n\n"
        "1. The server creates the payment for the order's amount and returns the client "
        "secret to the page.\n"
        "2. The page confirms the payment, including 3D Secure authentication.\n"
        "3. A webhook endpoint verifies signatures and marks orders paid exactly once.\n"
        "4. Include automated tests and a README explaining how to run it.\n\n"
        "Hand in a repository link and/or a zip of the code, plus a short PDF or Markdown "
        "write-up of your design decisions.",
        8,
        DEVELOPER_RUBRIC,
        False,
    ),
    (
        ARCHITECT_PROJECT_SLUG,
        "Architect project: design a marketplace",
        "Design the payments architecture of a two-sided marketplace.",
        "Design the payments architecture for a marketplace where buyers pay several "
        "sellers in one checkout and the platform keeps a fee.\n\n"
        "Describe onboarding and verification of sellers, the flow of funds (charges, "
        "transfers, payouts, refunds, disputes), compliance responsibilities, and how the "
        "system recovers from failures and reconciles money daily.\n\n"
        "Hand in a PDF (at most 15 pages) with diagrams.",
        7,
        ARCHITECT_RUBRIC,
        True,
    ),
]

DEMO_WRITEUP = (
    "# Design notes\n\nThe server computes the amount from the stored order; "
    "webhooks are verified and deduplicated by event id.\n"
)


@transaction.atomic
def seed_projects(*, learners=()) -> list:
    """Returns the briefs [developer, architect]; learners' submissions wait for review."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .models import ProjectBrief, RubricCriterion, RubricLevel, Submission
    from .projects import services as project_services

    briefs = []
    for slug, title, summary, instructions, threshold, rubric, blind in PROJECTS:
        brief, _ = ProjectBrief.objects.get_or_create(
            slug=slug,
            defaults={
                "title": title,
                "summary": summary,
                "instructions": instructions,
                "pass_threshold": threshold,
                "allowed_file_types": ["pdf", "zip", "md", "txt", "png", "jpg"],
                "max_upload_bytes": 20 * 1024 * 1024,
                "blind_grading": blind,
                "second_grader_margin": 1,
                "is_published": True,
            },
        )
        if not brief.criteria.exists():
            for position, (c_title, c_description, levels) in enumerate(rubric):
                criterion = RubricCriterion.objects.create(
                    brief=brief, title=c_title, description=c_description, position=position
                )
                RubricLevel.objects.bulk_create(
                    RubricLevel(
                        criterion=criterion,
                        title=l_title,
                        description=l_description,
                        points=points,
                        position=p,
                    )
                    for p, (l_title, l_description, points) in enumerate(levels)
                )
        briefs.append(brief)
    for n, person in enumerate(learners):
        for brief in briefs:
            if Submission.objects.filter(person=person, brief=brief).exists():
                continue
            project_services.submission_create(
                person=person,
                brief=brief,
                files=[
                    SimpleUploadedFile(
                        "design-notes.md", DEMO_WRITEUP.encode(), content_type="text/markdown"
                    )
                ],
                repository_url=f"https://git.example.com/demo-{n + 1}/{brief.slug}",
                notes="Demo submission.",
            )
    return briefs
