"""Replace Wagtail's default "Welcome" page with the Partner Academy home page.

The pattern is Wagtail's own project template (home/migrations/0002_create_homepage.py):
delete the default page, create the home page directly under the tree root,
point the default Site at it. Written against the historical models, so the tree
path is computed by hand (treebeard's add_child is not available here) and it
works on SQLite and PostgreSQL, on a fresh database or one where the default
page was already edited away.

The content (`home_page_content()`) is plain data drawn from the programme
description; editors change it in Wagtail.
"""

import json
import uuid

from django.db import migrations

STEPLEN = 4
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

ALL = [
    "partner",
    "verified_apps",
    "verified_embedded_payments",
    "verified_services",
    "verified_technology",
]
VERIFIED = ALL[1:]


def _id():
    return str(uuid.uuid4())


def _block(kind, value):
    return {"type": kind, "value": value, "id": _id()}


def _items(values):
    return [{"type": "item", "value": value, "id": _id()} for value in values]


def _row(benefit, category, statuses, select_only=False):
    return {
        "benefit": benefit,
        "category": category,
        "statuses": list(statuses),
        "select_only": select_only,
    }


def _card(title, summary, link_url="", link_text=""):
    return {
        "title": title,
        "summary": summary,
        "link_page": None,
        "link_url": link_url,
        "link_text": link_text,
    }


BENEFIT_ROWS = [
    # Build: develop solutions and services on the platform.
    _row("Technical training and certification", "build", ALL),
    _row("Roundtables with product management", "build", VERIFIED, select_only=True),
    _row(
        "Project delivery kits: solution blueprints and templates",
        "build",
        ["partner", "verified_embedded_payments", "verified_services", "verified_technology"],
    ),
    _row(
        "Investment funding for repeatable business cases",
        "build",
        ["verified_services", "verified_technology"],
        select_only=True,
    ),
    _row("Apps developer repository and community channel", "build", ["verified_apps"]),
    _row("Apps product roadmap preview", "build", ["verified_apps"], select_only=True),
    # Market: campaigns, assets and co-marketing.
    _row("Marketing content, campaign assets, how-to guides and templates", "market", ALL),
    _row("Verified Partner badge and co-branding guidelines", "market", VERIFIED),
    _row("Social media highlights", "market", VERIFIED),
    _row("Joint customer case studies (by invitation)", "market", VERIFIED, select_only=True),
    _row(
        "Market development funds (MDF)",
        "market",
        ["verified_apps", "verified_services", "verified_technology"],
        select_only=True,
    ),
    _row("Marketing advisory workshops and funds", "market", ["verified_embedded_payments"]),
    _row("Listing in the partner directory", "market", VERIFIED),
    _row("App Marketplace listing", "market", ["verified_apps"]),
    _row(
        "App Marketplace and Dashboard promotion",
        "market",
        ["verified_apps"],
        select_only=True,
    ),
    _row("App marketing events", "market", ["verified_apps"]),
    # Sell: co-selling and incentives.
    _row("Deal registration to request co-selling support", "sell", ALL),
    _row("Sales enablement and payments education", "sell", ALL),
    _row(
        "Account mapping for joint account planning",
        "sell",
        ["verified_services", "verified_technology"],
        select_only=True,
    ),
    _row(
        "Referral incentive",
        "sell",
        ["verified_apps", "verified_services", "verified_technology"],
    ),
    _row("Platform revenue share", "sell", ["verified_embedded_payments"]),
    # Engage: support, management and recognition.
    _row("Partner portal and partner support", "engage", ALL),
    _row("Dedicated partner development manager", "engage", VERIFIED, select_only=True),
    _row("Partner awards", "engage", VERIFIED),
    _row("Sponsorship and speaking opportunities at events", "engage", VERIFIED, select_only=True),
    _row(
        "Programme participation in partner-hosted online events",
        "engage",
        VERIFIED,
        select_only=True,
    ),
]


def home_page_content():
    """Field values for the home page (plain data; StreamField body as JSON text)."""
    body = [
        _block(
            "track_cards",
            {
                "heading": "Four tracks, one programme",
                "anchor": "tracks",
                "intro": (
                    "Choose one or more tracks that match your business goals. "
                    "Becoming verified on a track opens up extra benefits and opportunities."
                ),
                "cards": _items(
                    [
                        _card(
                            "Apps",
                            "For partners who build apps and integrations that extend the "
                            "platform, and list them on the App Marketplace. Apps start at the "
                            "build milestone after passing app review and reach growth with "
                            "over 2,000 installs or over 100 million USD in payment volume.",
                            "#benefits",
                            "Apps benefits",
                        ),
                        _card(
                            "Embedded payments",
                            "For platforms that embed payments and financial services such as "
                            "invoicing and lending in their own product. Verified partners can "
                            "share revenue and receive marketing advisory funds.",
                            "#benefits",
                            "Embedded payments benefits",
                        ),
                        _card(
                            "Services",
                            "For systems integrators, development agencies, payments advisors and "
                            "digital agencies who advise, implement and deploy. Get technical "
                            "training, sales and marketing resources to grow your practice.",
                            "#benefits",
                            "Services benefits",
                        ),
                        _card(
                            "Technology",
                            "For cloud providers, ISVs, hardware makers, payment method providers "
                            "and SaaS companies whose products work seamlessly with the platform, "
                            "with technical training, sales support and marketing resources.",
                            "#benefits",
                            "Technology benefits",
                        ),
                    ]
                ),
            },
        ),
        _block(
            "steps",
            {
                "heading": "How certification works",
                "anchor": "certification",
                "intro": (
                    "Two technical certifications, architect and developer, show that you can "
                    "design and build on the platform. Each one has the same path."
                ),
                "steps": _items(
                    [
                        {
                            "title": "Learn",
                            "text": "Follow the self-paced learning path, join instructor-led "
                            "online events and workshops, and practise with online tools.",
                        },
                        {
                            "title": "Pass the exam",
                            "text": "A timed multiple-choice exam drawn from every exam objective. "
                            "You see your score and a per-topic breakdown straight away.",
                        },
                        {
                            "title": "Deliver a project",
                            "text": "Build a real project and submit it. Instructors grade it "
                            "against a published rubric, with comments.",
                        },
                        {
                            "title": "Get certified",
                            "text": "Your certificate is issued the moment both are passed, valid "
                            "for 24 months, with a public page anyone can use to verify it.",
                        },
                    ]
                ),
                "note": (
                    "<p><b>Sales training, too.</b> Optional courses teach sales teams the "
                    "fundamentals of online payments: how the products address business needs, "
                    "how to go to market, and how the payments industry works. Start with "
                    "<i>Business Foundations</i> and the <i>Fast Start</i> series.</p>"
                ),
            },
        ),
        _block(
            "checklist",
            {
                "heading": "From partner to verified partner",
                "anchor": "requirements",
                "intro": (
                    "Verification shows clients that your team has a high level of proficiency. "
                    "It unlocks the Verified Partner badge, co-selling, co-marketing and more "
                    "visibility in the partner directory."
                ),
                "columns": _items(
                    [
                        {
                            "title": "Join the programme",
                            "items": _items(
                                [
                                    "Complete the partner application and choose your tracks.",
                                    "Accept the Partner Programme agreement.",
                                    "Confirm your business is not on the restricted "
                                    "businesses list.",
                                    "Within six months, have at least one person complete the "
                                    "Business Foundations sales course.",
                                ]
                            ),
                        },
                        {
                            "title": "Become verified on a track",
                            "items": _items(
                                [
                                    "Pass the track's technical verification.",
                                    "Maintain a minimum of two certified individuals: current "
                                    "employees holding an active architect or developer "
                                    "certification.",
                                    "Keep both up to date: requirements are reviewed every "
                                    "twelve months.",
                                ]
                            ),
                        },
                    ]
                ),
            },
        ),
        _block(
            "benefits_table",
            {
                "heading": "Benefits overview",
                "anchor": "benefits",
                "intro": (
                    "Every partner gets training, sales enablement, marketing resources and "
                    "partner support. Verification unlocks co-selling, referral incentives and "
                    "a listing in the partner directory."
                ),
                "caption": "Programme benefits by partner status",
                "rows": _items(BENEFIT_ROWS),
                "footnote": (
                    "Available to select verified partners and to apps partners who have "
                    "reached the growth milestone."
                ),
            },
        ),
        _block(
            "call_to_action",
            {
                "heading": "Start your certification path today",
                "text": (
                    "Create a free account to enrol in courses, sit exams and keep your "
                    "certificates in one place."
                ),
                "signed_in_text": (
                    "Pick up where you left off, and check the name that will be printed on "
                    "your certificates."
                ),
            },
        ),
    ]
    return {
        "title": "Home",
        "seo_title": "Partner Academy: training and certification for the Partner Programme",
        "search_description": (
            "Learn the platform, earn architect and developer certifications and help your "
            "company become a verified partner."
        ),
        "hero_title": "Build, certify and grow with the Partner Programme",
        "intro": (
            "<p>Partner Academy is where partner teams learn the platform, earn architect and "
            "developer certifications, and track their company's path to verified partner "
            "status on the apps, embedded payments, services and technology tracks.</p>"
        ),
        "body": json.dumps(body),
    }


def _path_segment(number):
    digits = ""
    while True:
        number, rest = divmod(number, len(ALPHABET))
        digits = ALPHABET[rest] + digits
        if number == 0:
            break
    return digits.rjust(STEPLEN, "0")


def _path_number(segment):
    return int(segment, len(ALPHABET))


def create_home_page(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    Locale = apps.get_model("wagtailcore", "Locale")
    HomePage = apps.get_model("cms", "HomePage")

    if HomePage.objects.exists():
        return

    root = Page.objects.filter(depth=1).order_by("path").first()
    if root is None:
        return  # no page tree at all: nothing to attach to (Wagtail creates one)

    # Delete Wagtail's default "Welcome" page (a plain Page); its Site goes with it.
    page_type = ContentType.objects.filter(app_label="wagtailcore", model="page").first()
    if page_type is not None:
        Page.objects.filter(content_type=page_type, depth=2, slug="home").delete()

    siblings = Page.objects.filter(depth=2, path__startswith=root.path)
    last = siblings.order_by("-path").values_list("path", flat=True).first()
    next_number = _path_number(last[-STEPLEN:]) + 1 if last else 1
    slug = "home" if not siblings.filter(slug="home").exists() else "academy-home"

    home_type, _ = ContentType.objects.get_or_create(app_label="cms", model="homepage")
    content = home_page_content()
    locale_id = root.locale_id or Locale.objects.order_by("pk").values_list("pk", flat=True).first()
    home = HomePage.objects.create(
        **content,
        draft_title=content["title"],
        slug=slug,
        content_type=home_type,
        path=root.path + _path_segment(next_number),
        depth=2,
        numchild=0,
        url_path=f"/{slug}/",
        live=True,
        has_unpublished_changes=False,
        locale_id=locale_id,
    )
    root.numchild = Page.objects.filter(depth=2, path__startswith=root.path).count()
    root.save(update_fields=["numchild"])

    # Point the default site at the new page (create one if the default went with the page).
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            site_name="Partner Academy",
            root_page=home,
            is_default_site=True,
        )
    else:
        site.root_page = home
        site.site_name = site.site_name or "Partner Academy"
        site.save(update_fields=["root_page", "site_name"])


def remove_home_page(apps, schema_editor):
    # Reversing leaves the tree without a home page; Wagtail's admin can add one.
    HomePage = apps.get_model("cms", "HomePage")
    Page = apps.get_model("wagtailcore", "Page")
    for home in HomePage.objects.all():
        Page.objects.filter(path__startswith=home.path).delete()
    for root in Page.objects.filter(depth=1):
        root.numchild = Page.objects.filter(depth=2, path__startswith=root.path).count()
        root.save(update_fields=["numchild"])


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0001_home_and_standard_pages"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [
        migrations.RunPython(create_home_page, remove_home_page),
    ]
