"""Partner downloads: certificates zip (task, page, API) and the roll-up report."""

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from pypdf import PdfReader

from partners.downloads import services as downloads
from partners.models import BundleStatus, CertificateBundle
from tests.certificates.factories import CertificationFactory, CredentialFactory
from tests.lms.factories import MODEL_BACKEND, UserFactory

from .factories import MembershipFactory, PartnerFactory, PartnerTrackFactory

pytestmark = pytest.mark.django_db

ZIP_URL = "/api/v1/partners/{}/certificates.zip"


def login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def credential_with_pdf(**kwargs):
    """A credential whose PDF is already stored (no WeasyPrint render in these tests)."""
    credential = CredentialFactory(**kwargs)
    credential.pdf.save("c.pdf", ContentFile(b"%PDF-1.7 " + credential.public_id.encode()))
    return credential


@pytest.fixture
def developer():
    return CertificationFactory(slug="developer", name="Developer")


@pytest.fixture
def architect():
    return CertificationFactory(slug="architect", name="Architect")


@pytest.fixture
def company(developer, architect):
    """Northwind: an admin, two certified members, and records that must not be zipped."""
    partner = PartnerFactory(name="Northwind Traders", slug="northwind")
    PartnerTrackFactory(partner=partner, track="technology")
    admin = MembershipFactory(
        partner=partner, role="admin", person=UserFactory(legal_name="Alice Admin")
    ).person
    ada = MembershipFactory(partner=partner, person=UserFactory(legal_name="Ada Lovelace")).person
    bob = MembershipFactory(partner=partner, person=UserFactory(legal_name="Bob O'Neil")).person
    now = timezone.now()
    keep = [
        credential_with_pdf(person=ada, certification=developer),
        credential_with_pdf(person=ada, certification=architect),
        credential_with_pdf(person=bob, certification=developer),
    ]
    # Revoked, expired (by the clock), and a departed member's active one: excluded.
    credential_with_pdf(
        person=bob,
        certification=architect,
        status="revoked",
        revoked_at=now - timedelta(days=1),
    )
    old = now - timedelta(days=800)
    credential_with_pdf(
        person=admin, certification=developer, issued_at=old, expires_at=now - timedelta(days=5)
    )
    gone = MembershipFactory(
        partner=partner,
        person=UserFactory(legal_name="Gone Person"),
        started=now - timedelta(days=100),
        ended=now - timedelta(days=3),
    ).person
    credential_with_pdf(person=gone, certification=developer)
    return partner, admin, keep


def zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sorted(archive.namelist())


# --- building ------------------------------------------------------------------------


def test_bundle_contains_exactly_current_members_active_credentials(
    company, django_capture_on_commit_callbacks
):
    partner, admin, keep = company
    with django_capture_on_commit_callbacks(execute=True):
        bundle = downloads.bundle_request(partner=partner, requested_by=admin)
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.READY
    assert (bundle.done, bundle.total) == (3, 3)
    assert bundle.finished_at is not None
    with bundle.file.open("rb") as handle:
        names = zip_names(handle.read())
    expected = sorted(
        f"{c.person.legal_name.replace(' ', '-').replace(chr(39), '-')}-"
        f"{c.certification.name}-{c.public_id}.pdf"
        for c in keep
    )
    assert names == expected
    with bundle.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        for credential in keep:
            entry = [n for n in archive.namelist() if credential.public_id in n][0]
            assert archive.read(entry).startswith(b"%PDF")


def test_entry_names_are_sanitised(developer):
    person = UserFactory(legal_name="../../<script>évil</script> /x")
    credential = CredentialFactory(person=person, certification=developer)
    name = downloads.bundle_entry_name(credential)
    assert "/" not in name and ".." not in name and "<" not in name
    assert name == f"script-evil-script-x-Developer-{credential.public_id}.pdf"


def test_ready_bundle_is_not_rebuilt(company, django_capture_on_commit_callbacks, monkeypatch):
    partner, admin, _ = company
    with django_capture_on_commit_callbacks(execute=True):
        bundle = downloads.bundle_request(partner=partner, requested_by=admin)
    bundle.refresh_from_db()
    name = bundle.file.name
    monkeypatch.setattr(
        "partners.downloads.services.credential_pdf_open", lambda **kw: pytest.fail("rebuilt")
    )
    assert downloads.bundle_build(bundle_id=bundle.pk) is False
    bundle.refresh_from_db()
    assert bundle.file.name == name and bundle.status == BundleStatus.READY


def test_progress_is_updated_as_it_goes(company, monkeypatch):
    partner, admin, _ = company
    bundle = CertificateBundle.objects.create(partner=partner, requested_by=admin)
    seen = []
    real_open = downloads.credential_pdf_open

    def spy(*, credential):
        b = CertificateBundle.objects.get(pk=bundle.pk)
        seen.append((b.status, b.done, b.total))
        return real_open(credential=credential)

    monkeypatch.setattr("partners.downloads.services.credential_pdf_open", spy)
    assert downloads.bundle_build(bundle_id=bundle.pk) is True
    assert seen == [("running", 0, 3), ("running", 1, 3), ("running", 2, 3)]


def test_a_failing_build_is_marked_failed(company, monkeypatch):
    partner, admin, _ = company
    bundle = CertificateBundle.objects.create(partner=partner, requested_by=admin)

    def boom(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("partners.downloads.services.credential_pdf_open", boom)
    assert downloads.bundle_build(bundle_id=bundle.pk) is False
    bundle.refresh_from_db()
    assert bundle.status == BundleStatus.FAILED
    assert bundle.error == "OSError"
    assert downloads.bundle_latest_fresh(partner=partner) is None


def test_a_credential_change_makes_the_bundle_stale(company, developer):
    partner, admin, _ = company
    bundle = CertificateBundle.objects.create(partner=partner, requested_by=admin)
    assert downloads.bundle_latest_fresh(partner=partner) == bundle
    person = MembershipFactory(partner=partner, started=timezone.now() + timedelta(seconds=1))
    assert downloads.bundle_latest_fresh(partner=partner) is None
    assert person  # a newly joined member changes what the zip must hold


# --- API ---------------------------------------------------------------------------


def test_api_post_starts_get_polls_then_the_url_serves_the_zip(
    client, company, django_capture_on_commit_callbacks
):
    partner, admin, keep = company
    login(client, admin)
    url = ZIP_URL.format(partner.slug)
    # Capture without executing: the first answer is 202 with the queued bundle.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url)
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"status", "done", "total", "bundle_id"}
    assert body["status"] == "queued"
    polled = client.get(url)
    assert polled.status_code == 200
    assert polled.json() == {**body, "url": None}
    for callback in callbacks:
        callback()  # the worker runs (sync)
    state = client.get(url).json()
    assert (state["status"], state["done"], state["total"]) == ("ready", 3, 3)
    assert state["url"].endswith(
        f"/api/v1/partners/{partner.slug}/bundles/{body['bundle_id']}/certificates.zip"
    )
    response = client.get(state["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment")
    names = zip_names(b"".join(response.streaming_content))
    assert len(names) == 3
    assert CertificateBundle.objects.filter(partner=partner).count() == 1


def test_api_get_never_starts_a_build(client, company, django_capture_on_commit_callbacks):
    partner, admin, _ = company
    login(client, admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(ZIP_URL.format(partner.slug))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert callbacks == []
    assert not CertificateBundle.objects.exists()


def test_api_post_reuses_a_fresh_bundle_and_rebuilds_after_a_change(
    client, company, django_capture_on_commit_callbacks
):
    partner, admin, _ = company
    login(client, admin)
    url = ZIP_URL.format(partner.slug)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url).json()
    again = client.post(url)
    assert again.status_code == 202
    assert again.json()["bundle_id"] == first["bundle_id"]
    assert again.json()["status"] == "ready"
    CertificateBundle.objects.update(created_at=timezone.now() - timedelta(hours=1))
    MembershipFactory(partner=partner, started=timezone.now() - timedelta(minutes=1))
    # A GET after the change still reports the old bundle and builds nothing.
    assert client.get(url).json()["bundle_id"] == first["bundle_id"]
    assert CertificateBundle.objects.filter(partner=partner).count() == 1
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url)
    assert response.status_code == 202
    assert response.json()["bundle_id"] != first["bundle_id"]
    assert CertificateBundle.objects.filter(partner=partner).count() == 2


def test_api_builds_are_rate_limited_per_partner(
    client, company, settings, django_capture_on_commit_callbacks
):
    settings.PARTNER_BUILD_RATE_LIMIT = 1
    partner, admin, _ = company
    login(client, admin)
    url = ZIP_URL.format(partner.slug)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 202
    CertificateBundle.objects.update(created_at=timezone.now() - timedelta(hours=1))
    MembershipFactory(partner=partner, started=timezone.now() - timedelta(minutes=1))
    refused = client.post(url)
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert int(refused["Retry-After"]) > 0
    assert CertificateBundle.objects.filter(partner=partner).count() == 1


@pytest.mark.parametrize("bundle_id", ["0", "999999", "abc", str(2**70)])
def test_api_bad_bundle_ids_are_4xx(client, company, bundle_id):
    partner, admin, _ = company
    login(client, admin)
    response = client.get(f"/api/v1/partners/{partner.slug}/bundles/{bundle_id}/certificates.zip")
    assert response.status_code in (404, 422)
    assert response.json()["code"] in ("not_found", "validation_error")


def test_api_a_bundle_not_ready_is_not_served(client, company):
    partner, admin, _ = company
    login(client, admin)
    bundle = CertificateBundle.objects.create(partner=partner, created_at=timezone.now())
    response = client.get(f"/api/v1/partners/{partner.slug}/bundles/{bundle.pk}/certificates.zip")
    assert response.status_code == 404


def test_api_staff_may_download(client, company, staff_user, django_capture_on_commit_callbacks):
    partner, _, _ = company
    login(client, staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(ZIP_URL.format(partner.slug)).status_code == 202
    state = client.get(ZIP_URL.format(partner.slug)).json()
    assert client.get(state["url"]).status_code == 200


def test_openapi_documents_the_zip_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    zip_path = paths["/api/v1/partners/{slug}/certificates.zip"]
    assert set(zip_path["post"]["responses"]) >= {"202", "404", "429"}
    assert set(zip_path["get"]["responses"]) >= {"200", "404"}
    assert "/api/v1/partners/{slug}/bundles/{bundle_id}/certificates.zip" in paths


@pytest.mark.parametrize("who", ["other_admin", "employee", "former_admin"])
def test_api_others_get_404(client, company, who):
    partner, _, _ = company
    if who == "other_admin":
        user = MembershipFactory(role="admin").person
    elif who == "employee":
        user = MembershipFactory(partner=partner, role="employee").person
    else:
        user = MembershipFactory(
            partner=partner,
            role="admin",
            started=timezone.now() - timedelta(days=9),
            ended=timezone.now() - timedelta(days=1),
        ).person
    login(client, user)
    for method in (client.get, client.post):
        response = method(ZIP_URL.format(partner.slug))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert not CertificateBundle.objects.exists()


@pytest.mark.parametrize("slug", ["nope", "NorthWind", "a" * 200, "x%00y"])
def test_api_bad_slugs_404(client, company, slug):
    _, admin, _ = company
    login(client, admin)
    for method in (client.get, client.post):
        response = method(ZIP_URL.format(slug))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_api_anonymous_401(client, company):
    partner, _, _ = company
    assert client.get(ZIP_URL.format(partner.slug)).status_code == 401
    assert client.post(ZIP_URL.format(partner.slug)).status_code == 401


# --- pages -----------------------------------------------------------------------------


def test_page_prepare_progress_and_download(client, company, django_capture_on_commit_callbacks):
    partner, admin, _ = company
    login(client, admin)
    page = client.get(f"/partners/{partner.slug}/downloads/")
    assert page.status_code == 200
    assert b"Prepare certificates zip" in page.content
    assert b"<script>" not in page.content  # no inline scripts (CSP)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/partners/{partner.slug}/downloads/prepare/")
    assert response.status_code == 302
    page = client.get(f"/partners/{partner.slug}/downloads/")
    assert b"<progress" in page.content and b"Refresh" in page.content
    status = client.get(f"/partners/{partner.slug}/downloads/status.json").json()
    assert status["status"] == "queued"
    for callback in callbacks:
        callback()
    status = client.get(f"/partners/{partner.slug}/downloads/status.json").json()
    assert (status["status"], status["done"], status["total"]) == ("ready", 3, 3)
    page = client.get(f"/partners/{partner.slug}/downloads/")
    link = f"/partners/{partner.slug}/downloads/{status['bundle_id']}/certificates.zip"
    assert link.encode() in page.content
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert len(zip_names(b"".join(download.streaming_content))) == 3


def test_prepare_twice_reuses_the_fresh_bundle(client, company):
    partner, admin, _ = company
    login(client, admin)
    client.post(f"/partners/{partner.slug}/downloads/prepare/")
    client.post(f"/partners/{partner.slug}/downloads/prepare/")
    assert CertificateBundle.objects.filter(partner=partner).count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "downloads/",
        "downloads/status.json",
        "report.csv",
        "report.pdf",
    ],
)
def test_pages_404_for_other_partner_admin_and_employee(client, company, path):
    partner, _, _ = company
    for user in (
        MembershipFactory(role="admin").person,
        MembershipFactory(partner=partner, role="employee").person,
    ):
        login(client, user)
        assert client.get(f"/partners/{partner.slug}/{path}").status_code == 404


def test_other_partners_bundle_is_404(client, company, django_capture_on_commit_callbacks):
    partner, admin, _ = company
    other = PartnerFactory()
    other_admin = MembershipFactory(partner=other, role="admin").person
    with django_capture_on_commit_callbacks(execute=True):
        bundle = downloads.bundle_request(partner=partner, requested_by=admin)
    login(client, other_admin)
    url = f"/partners/{other.slug}/downloads/{bundle.pk}/certificates.zip"
    assert client.get(url).status_code == 404
    login(client, admin)
    assert (
        client.get(f"/partners/{partner.slug}/downloads/999999/certificates.zip").status_code == 404
    )
    assert client.post(f"/partners/{partner.slug}/downloads/status.json").status_code == 405


def test_page_query_count_does_not_grow(client, company, developer, django_assert_max_num_queries):
    partner, admin, _ = company
    login(client, admin)
    client.get(f"/partners/{partner.slug}/downloads/")  # warm session and caches
    with django_assert_max_num_queries(12) as small:
        client.get(f"/partners/{partner.slug}/downloads/")
    for _ in range(15):
        person = MembershipFactory(partner=partner).person
        CredentialFactory(person=person, certification=developer)
    with django_assert_max_num_queries(12) as large:
        client.get(f"/partners/{partner.slug}/downloads/")
    assert len(small.captured_queries) == len(large.captured_queries)


# --- report ----------------------------------------------------------------------------


def test_report_csv_columns_and_rows(client, company):
    partner, admin, _ = company
    login(client, admin)
    response = client.get(f"/partners/{partner.slug}/report.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["person", "email", "role", "certification", "status", "issued", "expires"]
    blank = rows.index([])
    people = rows[1:blank]
    assert {r[0] for r in people} == {"Alice Admin", "Ada Lovelace", "Bob O'Neil"}
    bob = sorted((r[3], r[4]) for r in people if r[0] == "Bob O'Neil")
    assert bob == [("Architect", "revoked"), ("Developer", "active")]
    assert ("Developer", "expired") in {(r[3], r[4]) for r in people if r[0] == "Alice Admin"}
    assert "Gone Person" not in {r[0] for r in people}
    assert rows[blank + 1][0] == "track"
    assert rows[blank + 2][0] == "Technology"


def test_report_csv_neutralises_formulas(client, company):
    partner, admin, _ = company
    MembershipFactory(partner=partner, person=UserFactory(legal_name='=HYPERLINK("x")'))
    login(client, admin)
    content = client.get(f"/partners/{partner.slug}/report.csv").content.decode()
    names = [r[0] for r in csv.reader(io.StringIO(content)) if r]
    assert '\'=HYPERLINK("x")' in names


def test_report_pdf(client, company):
    partner, admin, _ = company
    MembershipFactory(partner=partner, person=UserFactory(legal_name="<script>alert(1)</script>"))
    login(client, admin)
    response = client.get(f"/partners/{partner.slug}/report.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Northwind Traders" in text
    assert "Ada Lovelace" in text
    # Shown as text, not run as markup (the narrow column may wrap it).
    assert "<script>alert(1)</script>" in "".join(text.split())
    html = downloads.report_html(partner=partner)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_pdf_too_large_is_refused_with_a_pointer_to_the_csv(client, company, settings):
    settings.REPORT_PDF_MAX_ROWS = 2
    partner, admin, _ = company
    login(client, admin)
    response = client.get(f"/partners/{partner.slug}/report.pdf")
    assert response.status_code == 409
    assert "download the CSV instead" in response.content.decode()
    assert client.get(f"/partners/{partner.slug}/report.csv").status_code == 200


@pytest.mark.parametrize("report", ["report.csv", "report.pdf"])
def test_reports_are_rate_limited_per_partner(client, company, settings, report, monkeypatch):
    settings.PARTNER_BUILD_RATE_LIMIT = 2
    monkeypatch.setattr(downloads, "report_pdf", lambda partner: b"%PDF-1.7 stub")
    partner, admin, _ = company
    login(client, admin)
    url = f"/partners/{partner.slug}/{report}"
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    refused = client.get(url)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "in the last hour" in refused.content.decode()
    # Another partner has its own budget.
    other = PartnerFactory(slug="globex")
    other_admin = MembershipFactory(partner=other, role="admin").person
    login(client, other_admin)
    assert client.get(f"/partners/globex/{report}").status_code == 200


def test_page_prepare_is_rate_limited_per_partner(client, company, settings):
    settings.PARTNER_BUILD_RATE_LIMIT = 1
    partner, admin, _ = company
    login(client, admin)
    assert client.post(f"/partners/{partner.slug}/downloads/prepare/").status_code == 302
    CertificateBundle.objects.update(created_at=timezone.now() - timedelta(hours=1))
    MembershipFactory(partner=partner, started=timezone.now() - timedelta(minutes=1))
    refused = client.post(f"/partners/{partner.slug}/downloads/prepare/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "certificates zips in the last hour" in refused.content.decode()
    assert CertificateBundle.objects.filter(partner=partner).count() == 1


def test_download_pages_never_build_on_get(client, company, django_capture_on_commit_callbacks):
    partner, admin, _ = company
    login(client, admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.get(f"/partners/{partner.slug}/downloads/")
        client.get(f"/partners/{partner.slug}/downloads/status.json")
        assert client.get(f"/partners/{partner.slug}/downloads/prepare/").status_code == 405
    assert callbacks == []
    assert not CertificateBundle.objects.exists()
