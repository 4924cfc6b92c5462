"""Certification in the browser: a learner who passed the exam submits the project,
an instructor claims and grades it, the credential is issued and its PDF rendered
(django-q2 runs tasks inline in tests), the learner finds it under "My
certifications", downloads the PDF and opens the verification page (Active);
programme staff revoke it in the admin and the verification page says Revoked,
when and why.

Every page is checked with axe-core and shot; the downloaded certificate is also
turned into a PNG next to the screenshots when poppler's `pdftoppm` is installed.
Transactional tests flush the database, so `roles` replays the data migrations
that create the groups and their permissions.
"""

import io
import re
import shutil
import subprocess
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from playwright.sync_api import expect
from pypdf import PdfReader

from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from tests.e2e.conftest import (
    AXE_PATH,
    MOBILE,
    SCREENSHOT_DIR,
    _format_violations,
    no_sideways_scroll,
)
from tests.lms.factories import UserFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

HOLDER = "Ada Lovelace-Byron"
BRIEF_TITLE = "Checkout integration project"
REPO = "https://git.example.com/ada/checkout-integration"
REASON = "Exam misconduct confirmed by the programme board."
PROJECT_FILE = {
    "name": "design-notes.pdf",
    "mimeType": "application/pdf",
    "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
}

DATA_MIGRATIONS = [
    ("partners.migrations.0002_create_instructor_and_staff_groups", "create_roles"),
    ("certificates.migrations.0004_certificate_admin_permissions", "forwards"),
]


@pytest.fixture
def roles(home_page):
    from wagtail.models import Collection

    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    for module, function in DATA_MIGRATIONS:
        getattr(import_module(module), function)(apps, None)


def _person(email, first, last, group=None, **extra):
    person = UserFactory(email=email, first_name=first, last_name=last, **extra)
    if group:
        person.groups.add(Group.objects.get(name=group))
    return person


@pytest.fixture
def people(roles):
    return {
        "learner": _person("ada@example.com", "Ada", "Byron", legal_name=HOLDER),
        "instructor": _person("ines@example.com", "Ines", "Instructor", INSTRUCTORS),
        "staff": _person("sam@example.com", "Sam", "Staff", PROGRAMME_STAFF),
    }


@pytest.fixture
def certification(people):
    """Developer: an exam the learner has passed and a two-criterion project (max 6, pass 5)."""
    from tests.certificates.factories import CertificationFactory, passed_attempt
    from tests.exams.factories import ExamFactory
    from tests.exams.project_factories import make_brief

    brief = make_brief(
        criteria=2,
        levels=(0, 1, 2, 3),
        slug="checkout-integration",
        title=BRIEF_TITLE,
        pass_threshold=5,
        second_grader_margin=0,
        allowed_file_types=["pdf", "txt", "md"],
    )
    certification = CertificationFactory(
        slug="developer", name="Developer", exam=ExamFactory(), project_brief=brief
    )
    passed_attempt(person=people["learner"], exam=certification.exam)
    return certification


def _view(page, shoot, check_a11y, name):
    page.evaluate("window.scrollTo(0, 0)")  # a sticky header would cover content in the shot
    shoot(page, name)
    check_a11y(page)
    no_sideways_scroll(page)


def _check_admin_a11y(page):
    """axe-core on our admin view (inside Wagtail's chrome): no serious or critical."""
    page.add_script_tag(path=str(AXE_PATH))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in result["violations"] if v.get("impact") in {"serious", "critical"}]
    assert not bad, f"{page.url}\n{_format_violations(bad)}"


def _pdf_to_png(pdf_bytes, name):
    """The certificate as a PNG next to the screenshots (poppler-utils), for a look."""
    if not shutil.which("pdftoppm"):
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    source = SCREENSHOT_DIR / f"{name}.pdf"
    source.write_bytes(pdf_bytes)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", str(source), str(SCREENSHOT_DIR / name)],
        check=True,
    )
    source.unlink()


def test_project_graded_credential_issued_downloaded_verified_then_revoked(
    live_server, people, certification, sign_in, shoot, check_a11y, browser, tmp_path
):
    from certificates.models import Credential
    from exams.models import Submission, SubmissionStatus

    url = live_server.url
    brief = certification.project_brief

    # --- learner: submit the project (a file and a repository link) ------------------
    learner = sign_in(people["learner"])
    learner.goto(f"{url}/exams/projects/")
    expect(learner.get_by_role("link", name=BRIEF_TITLE)).to_be_visible()
    _view(learner, shoot, check_a11y, "cert-01-projects")
    learner.get_by_role("link", name=BRIEF_TITLE).click()
    expect(learner.get_by_role("heading", name="Submit your project")).to_be_visible()
    learner.get_by_label("Files").set_input_files(PROJECT_FILE)
    learner.get_by_label("Repository link").fill(REPO)
    learner.get_by_label("Notes for the graders").fill(
        "Webhooks are verified with the signing secret."
    )
    _view(learner, shoot, check_a11y, "cert-02-project-form")
    learner.get_by_role("button", name="Submit").click()
    expect(learner.get_by_text("Your project is submitted")).to_be_visible()
    submission = Submission.objects.get(person=people["learner"], brief=brief)
    card = learner.locator(f"#submission-{submission.pk}")
    expect(card.locator("[data-status]")).to_have_attribute("data-status", "submitted")
    expect(card.get_by_role("link", name="design-notes.pdf")).to_be_visible()
    expect(card.get_by_role("link", name=REPO)).to_be_visible()
    expect(learner.get_by_role("heading", name="Submit your project")).to_have_count(0)
    _view(learner, shoot, check_a11y, "cert-03-project-submitted")
    assert not Credential.objects.exists()

    # --- instructor: claim it from the queue and grade it on the rubric --------------
    instructor = sign_in(people["instructor"])
    instructor.goto(f"{url}/exams/projects/review/")
    row = instructor.get_by_role("row", name=re.compile(BRIEF_TITLE))
    expect(row).to_contain_text(HOLDER)
    _view(instructor, shoot, check_a11y, "cert-04-review-queue")
    row.get_by_role("button", name=re.compile("^Claim")).click()
    expect(instructor.get_by_role("heading", name="Grade against the rubric")).to_be_visible()
    expect(instructor.get_by_role("link", name="design-notes.pdf")).to_be_visible()
    for position, criterion in enumerate(brief.criteria.order_by("position")):
        group = instructor.get_by_role("group", name=re.compile(criterion.title))
        group.get_by_role("radio", name=re.compile(r"^Level 3 ")).check()
        group.get_by_role("textbox").fill(f"Criterion {position}: thorough and well tested.")
    instructor.get_by_label("Overall comment").fill("Clean integration; idempotent webhooks.")
    _view(instructor, shoot, check_a11y, "cert-05-grading")
    instructor.get_by_role("button", name="Save review").click()
    expect(instructor.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(instructor.get_by_text("Nothing is waiting for review.")).to_be_visible()
    _view(instructor, shoot, check_a11y, "cert-06-queue-after-grading")

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PASSED
    # The pass issued the credential; the render task ran inline (sync django-q2).
    credential = Credential.objects.get(person=people["learner"], certification=certification)
    assert credential.holder_name == HOLDER
    assert credential.pdf.name and credential.pdf_rendered_at is not None
    rendered_at = credential.pdf_rendered_at

    # --- learner: the feedback, "My certifications" and the PDF ---------------------
    learner.goto(f"{url}/exams/projects/{brief.slug}/")
    expect(card.locator("[data-status]")).to_have_attribute("data-status", "passed")
    expect(card).to_contain_text("Clean integration; idempotent webhooks.")
    _view(learner, shoot, check_a11y, "cert-07-project-passed")

    learner.goto(f"{url}/certificates/")
    section = learner.get_by_role("region", name=re.compile("^Developer"))
    expect(section.get_by_text("Active", exact=True)).to_be_visible()
    expect(section).to_contain_text(HOLDER)
    _view(learner, shoot, check_a11y, "cert-08-my-certifications")

    with learner.expect_download() as download_info:
        section.get_by_role("link", name="Download certificate (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(f"{credential.public_id}.pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pdf_bytes = saved.read_bytes()
    assert pdf_bytes.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert len(reader.pages) == 1
    text = " ".join(page.extract_text() for page in reader.pages)
    assert HOLDER in text
    assert "Developer" in text
    assert credential.public_id in text.replace("\n", "")
    credential.refresh_from_db()
    assert credential.pdf_rendered_at == rendered_at  # served from storage, not rendered again
    _pdf_to_png(pdf_bytes, "cert-09-certificate")

    # --- the public verification page: Active ----------------------------------------
    section.get_by_role("link", name="Verification page").click()
    expect(learner).to_have_url(re.compile(rf"/verify/{credential.public_id}$"))
    status = learner.get_by_role("heading", name=re.compile("This credential is valid"))
    expect(status).to_contain_text("Active")
    expect(learner.locator('[data-field="holder_name"]')).to_have_text(HOLDER)
    _view(learner, shoot, check_a11y, "cert-10-verify-active")

    # Anyone, on a phone, without signing in.
    stranger_context = browser.new_context(viewport=MOBILE, is_mobile=True, has_touch=True)
    stranger = stranger_context.new_page()
    stranger.goto(f"{url}/verify/{credential.public_id}")
    expect(
        stranger.get_by_role("heading", name=re.compile("This credential is valid"))
    ).to_be_visible()
    _view(stranger, shoot, check_a11y, "cert-11-verify-active-mobile")

    # --- programme staff: revoke it in the admin, with a reason ----------------------
    staff = sign_in(people["staff"])
    staff.goto(f"{url}/admin/certificates/credentials/revoke/{credential.pk}/")
    expect(staff.get_by_text(HOLDER)).to_be_visible()
    _check_admin_a11y(staff)
    shoot(staff, "cert-12-admin-revoke")
    staff.get_by_role("button", name="Revoke").click()  # no reason: refused, nothing changes
    expect(staff.get_by_text(re.compile("reason", re.I)).first).to_be_visible()
    credential.refresh_from_db()
    assert credential.revoked_at is None
    staff.get_by_label("Reason").fill(REASON)
    staff.get_by_role("button", name="Revoke").click()
    expect(staff.get_by_text(f"The credential of {HOLDER} is revoked.")).to_be_visible()
    shoot(staff, "cert-13-admin-revoked")
    credential.refresh_from_db()
    assert credential.revoked_at is not None and credential.revocation_reason == REASON

    # --- the verification page now says Revoked, when and why ------------------------
    stranger.reload()
    status = stranger.get_by_role("heading", name=re.compile("This credential was revoked"))
    expect(status).to_contain_text("Revoked")
    expect(stranger.locator('[data-field="revocation_reason"]')).to_have_text(REASON)
    expect(stranger.locator('[data-field="revoked_at"]')).not_to_be_empty()
    _view(stranger, shoot, check_a11y, "cert-14-verify-revoked-mobile")
    stranger_context.close()

    learner.goto(f"{url}/certificates/")
    section = learner.get_by_role("region", name=re.compile("^Developer"))
    expect(section.get_by_text("Revoked", exact=True)).to_be_visible()
    expect(section).to_contain_text(REASON)
    expect(section.get_by_role("link", name="Download certificate (PDF)")).to_have_count(0)
    _view(learner, shoot, check_a11y, "cert-15-my-certifications-revoked")
    # The PDF is no longer offered, not even by its address.
    response = learner.request.get(f"{url}/certificates/{credential.public_id}/pdf")
    assert response.status != 200
