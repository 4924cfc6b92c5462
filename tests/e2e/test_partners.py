"""Partners in the browser: a company applies, programme staff approve it, the
partner admin invites two people who accept by signing up, both get certified
and the track turns verified on the dashboard; the admin ends one membership
and the track shows "At risk" with its grace deadline.

Invitation and e-mail confirmation links are read from Django's locmem outbox
(`django.core.mail.outbox`): the live server runs in this process, so its mail
lands there. Certifying is
not what this test is about: credentials are made with the factory and the
technical verification recorded through partners.status.services, then the partner is
recomputed. Every page is checked with axe-core and shot.
Transactional tests flush the database, so `partner_section` replays the data
migrations (groups, track rules, the partner agreement) when their rows are gone.
"""

import re
from datetime import datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from lms.permissions import PROGRAMME_STAFF
from tests.e2e.conftest import DESKTOP
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

COMPANY = "Acme Payments Ltd"
TRACK = "technology"
NEWCOMERS = [
    ("grace@acme.example", "Grace", "Hopper"),
    ("alan@acme.example", "Alan", "Turing"),
]
NEW_PASSWORD = "Long-enough passphrase 42"

# The data migrations this test needs, in order: (module, function); all idempotent.
DATA_MIGRATIONS = [
    ("partners.migrations.0002_create_instructor_and_staff_groups", "create_roles"),
    ("partners.migrations.0003_track_status", "seed"),
    ("partners.migrations.0004_applications_and_invitations", "seed_agreement"),
]


@pytest.fixture
def partner_section(home_page):
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)


def _person(email, first, last, group=None):
    person = UserFactory(email=email, first_name=first, last_name=last)
    if group:
        person.groups.add(Group.objects.get(name=group))
    return person


@pytest.fixture
def people(partner_section):
    return {
        "applicant": _person("ada@acme.example", "Ada", "Applicant"),
        "staff": _person("sam@example.com", "Sam", "Staff", PROGRAMME_STAFF),
    }


@pytest.fixture
def browser_page(browser):
    """browser_page(viewport) -> a fresh page in its own (signed-out) browser context."""
    contexts = []

    def _page(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, locale="en-GB")
        contexts.append(context)
        return context.new_page()

    yield _page
    for context in contexts:
        context.close()


@pytest.fixture
def sign_in(browser_page, live_server):
    def _sign_in(person):
        page = browser_page()
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("E-mail").fill(person.email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    return _sign_in


def _view(page, shoot, check_a11y, name):
    check_a11y(page)
    shoot(page, name)


def _invitation_path(email):
    """The invitation link e-mailed to `email` (path only: SITE_URL is not the live server)."""
    bodies = [m.body for m in mail.outbox if email in m.to]
    assert bodies, f"no invitation e-mail to {email}: {[m.to for m in mail.outbox]}"
    match = re.search(r"https?://[^/\s]+(/partners/invitations/[^/\s]+/)", bodies[-1])
    assert match, bodies[-1]
    return match.group(1)


def _confirmation_path(email):
    """The e-mail confirmation link sent to `email` (path only)."""
    bodies = [m.body for m in mail.outbox if email in m.to and "/accounts/confirm/" in m.body]
    assert bodies, f"no confirmation e-mail to {email}: {[m.to for m in mail.outbox]}"
    return re.search(r"https?://[^/\s]+(/accounts/confirm/[^/\s]+/)", bodies[-1]).group(1)


def _day(value):
    """A date as the dashboard prints it ("j M Y")."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return f"{value.day} {value:%b %Y}"


def test_company_applies_is_approved_and_its_track_turns_verified_then_at_risk(
    live_server, people, sign_in, browser_page, shoot, check_a11y
):
    from partners.models import Membership, Partner, TrackStatusRecord
    from partners.status import services as status
    from tests.certificates.factories import CertificationFactory, CredentialFactory

    url = live_server.url

    # --- a company applies -----------------------------------------------------
    applicant = sign_in(people["applicant"])
    applicant.goto(f"{url}/partners/apply/")
    expect(applicant.get_by_role("heading", level=1)).to_have_text("Apply as a partner company")
    _view(applicant, shoot, check_a11y, "01-apply")
    applicant.get_by_label("Company name").fill(COMPANY)
    applicant.get_by_label("Website").fill("https://acme.example")
    applicant.get_by_label("Country").fill("DE")
    applicant.get_by_role("checkbox", name="Technology").check()
    applicant.get_by_label("I accept the partner agreement").check()
    applicant.get_by_label("The company is not a restricted business.").check()
    applicant.get_by_role("button", name="Send application").click()
    expect(applicant.get_by_text(f"the application of {COMPANY} was received")).to_be_visible()
    expect(applicant.get_by_role("heading", level=1)).to_have_text("People")
    # Not approved yet: no invite form, and the page says why.
    expect(applicant.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(applicant.get_by_text("You can invite people once programme staff")).to_be_visible()
    _view(applicant, shoot, check_a11y, "02-applied-people")

    partner = Partner.objects.get(name=COMPANY)
    assert partner.status == Partner.Status.APPLICANT
    slug = partner.slug

    # --- programme staff approve -------------------------------------------------
    staff = sign_in(people["staff"])
    staff.goto(f"{url}/partners/staff/applications/")
    _view(staff, shoot, check_a11y, "03-staff-applications")
    staff.get_by_role("link", name=COMPANY).click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(COMPANY)
    _view(staff, shoot, check_a11y, "04-staff-application")
    staff.get_by_role("button", name="Approve (provisional partner)").click()
    expect(staff.get_by_text(f"{COMPANY} is now a provisional partner.")).to_be_visible()
    expect(staff.get_by_text("No application is waiting.")).to_be_visible()
    _view(staff, shoot, check_a11y, "05-staff-approved")
    partner.refresh_from_db()
    assert partner.status == Partner.Status.PROVISIONAL
    assert any(people["applicant"].email in m.to for m in mail.outbox)

    # --- the partner admin invites two people --------------------------------------
    applicant.goto(f"{url}/partners/{slug}/people/")
    for email, _first, _last in NEWCOMERS:
        applicant.get_by_label("E-mail").fill(email)
        applicant.get_by_role("button", name="Send invitation").click()
        expect(applicant.get_by_text(f"Invitation sent to {email}.")).to_be_visible()
    pending = applicant.get_by_role("region", name="Pending invitations")
    for email, _first, _last in NEWCOMERS:
        expect(pending.get_by_text(email)).to_be_visible()
    _view(applicant, shoot, check_a11y, "06-invitations-sent")

    # --- both accept by signing up from the e-mailed link ----------------------------
    for index, (email, first, last) in enumerate(NEWCOMERS, start=1):
        newcomer = browser_page()
        newcomer.goto(url + _invitation_path(email))
        expect(newcomer.get_by_role("heading", level=1)).to_have_text(f"Join {COMPANY}")
        _view(newcomer, shoot, check_a11y, f"07-invitation-{index}")
        newcomer.get_by_label("First name").fill(first)
        newcomer.get_by_label("Last name").fill(last)
        newcomer.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
        newcomer.get_by_label("Repeat password").fill(NEW_PASSWORD)
        newcomer.get_by_role("button", name="Create account and join").click()
        expect(newcomer.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
        _view(newcomer, shoot, check_a11y, f"08-check-email-{index}")
        # The new account confirms its address from the e-mailed link, then signs in.
        newcomer.goto(url + _confirmation_path(email))
        newcomer.get_by_role("button", name="Confirm my address").click()
        expect(newcomer.get_by_role("status")).to_contain_text("Your e-mail address is confirmed")
        newcomer.get_by_label("E-mail").fill(email)
        newcomer.get_by_label("Password").fill(NEW_PASSWORD)
        newcomer.get_by_role("button", name="Sign in").click()
        expect(newcomer.get_by_role("button", name="Sign out")).to_be_visible()
        _view(newcomer, shoot, check_a11y, f"08-joined-{index}")

    members = Membership.objects.filter(partner=partner, ended__isnull=True)
    assert {m.person.email for m in members} == {
        people["applicant"].email,
        *(email for email, _f, _l in NEWCOMERS),
    }

    # --- both get certified; staff recorded a passed technical verification ---------
    developer = CertificationFactory(slug="developer", name="Developer")
    for email, _first, _last in NEWCOMERS:
        CredentialFactory(person=members.get(person__email=email).person, certification=developer)
    status.technical_verification_record(
        partner=partner,
        track=TRACK,
        status="passed",
        decided_on=timezone.localdate(),
        reviewer=people["staff"],
    )
    status.partner_status_recompute(partner=partner)

    applicant.goto(f"{url}/partners/{slug}/")
    track_card = applicant.locator(f"#track-{TRACK}")
    expect(track_card.get_by_role("heading")).to_contain_text("Verified")
    expect(applicant.get_by_test_id(f"certified-{TRACK}")).to_have_text("2")
    expect(applicant.get_by_test_id(f"grace-{TRACK}")).to_have_count(0)
    _view(applicant, shoot, check_a11y, "09-dashboard-verified")

    # --- one leaves: the admin ends the membership -----------------------------------
    leaver_email, leaver_first, leaver_last = NEWCOMERS[0]
    applicant.goto(f"{url}/partners/{slug}/people/")
    _view(applicant, shoot, check_a11y, "10-people-certified")
    leaver_row = applicant.get_by_role("row").filter(has_text=leaver_email)
    leaver_row.get_by_role("button", name="End membership").click()
    expect(
        applicant.get_by_text(f"is no longer a member of {COMPANY}", exact=False)
    ).to_be_visible()
    expect(applicant.get_by_role("row").filter(has_text=leaver_email)).to_have_count(0)
    expect(applicant.get_by_text("2 current members.")).to_be_visible()
    _view(applicant, shoot, check_a11y, "11-membership-ended")

    record = TrackStatusRecord.objects.get(partner=partner, track=TRACK)
    assert record.state == "at_risk"
    assert record.verified
    grace = timezone.localtime(record.at_risk_until).date()
    assert grace == timezone.localdate() + timedelta(days=60)

    applicant.get_by_role("link", name="Track status and benefits").click()
    track_card = applicant.locator(f"#track-{TRACK}")
    expect(track_card.get_by_role("heading")).to_contain_text("At risk")
    expect(applicant.get_by_test_id(f"certified-{TRACK}")).to_have_text("1")
    expect(applicant.get_by_test_id(f"grace-{TRACK}")).to_have_text(_day(record.at_risk_until))
    expect(track_card.get_by_text("Grace deadline")).to_be_visible()
    _view(applicant, shoot, check_a11y, "12-dashboard-at-risk")
