"""Certificate PDFs: content read back, safety of user text, render once and store."""

import io
import re

import pytest
from pypdf import PdfReader

from certificates import pdf, services, tasks
from certificates.models import Credential
from tests.certificates.factories import CredentialFactory, meet_requirements

EVIL = "<link rel=attachment href=file:///etc/passwd>"


def text_of(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def credential(learner, certification):
    return CredentialFactory(
        person=learner, certification=certification, holder_name="Ada Lovelace"
    )


def test_pdf_carries_holder_certification_dates_id_and_link(credential, settings):
    settings.SITE_URL = "https://academy.example"
    reader, text = text_of(pdf.render_certificate_pdf(credential))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape
    assert round(float(box.width) / 72 * 25.4) == 297  # A4
    assert "Ada Lovelace" in text
    assert "Developer" in text
    assert credential.issued_at.strftime("%-d %B %Y") in text
    assert credential.expires_at.strftime("%-d %B %Y") in text
    assert credential.public_id in squash(text)
    assert f"https://academy.example/verify/{credential.public_id}" in squash(text)
    meta = reader.metadata
    assert meta.title == "Developer · Ada Lovelace"
    assert meta.author == "Partner Academy"
    assert meta.creation_date is not None


def test_markup_in_a_name_is_text_and_loads_nothing(credential):
    credential.holder_name = EVIL
    credential.save()
    data = pdf.render_certificate_pdf(credential)
    reader, text = text_of(data)
    assert not reader.attachments  # no embedded file
    assert b"EmbeddedFile" not in data
    assert b"root:x:0:0" not in data
    assert squash(EVIL) in squash(text)  # the literal name, shown as text
    assert len(reader.pages) == 1


def test_a_very_long_name_wraps_on_one_page(credential):
    # Longer than the 200 characters a stored name may have: the renderer must cope
    # anyway (not saved — PostgreSQL would refuse it, as it should).
    credential.holder_name = "Maximiliana" * 60 + " " + "von Long-Name " * 40
    reader, text = text_of(pdf.render_certificate_pdf(credential))
    assert len(reader.pages) == 1
    assert credential.public_id in squash(text)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "https://example.com/logo.png",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.com/x",
        f"{pdf.STATIC_DIR.as_uri()}/../../models.py",
        f"{pdf.STATIC_DIR.as_uri()}/fonts/../../../settings.py",
        "file://evil.example/share/x",
        "javascript:alert(1)",
    ],
)
def test_fetcher_refuses_everything_but_data_and_our_static_files(url):
    with pytest.raises(ValueError):
        pdf.RestrictedURLFetcher().fetch(url)


def test_fetcher_allows_data_uris_and_our_fonts():
    fetcher = pdf.RestrictedURLFetcher()
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    font = fetcher.fetch(f"{pdf.STATIC_DIR.as_uri()}/fonts/DejaVuSans.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"


def test_html_with_a_local_file_link_embeds_nothing():
    """Even markup that gets through (it cannot: templates escape) fetches nothing."""
    html = (
        "<html><head><title>x</title>"
        '<link rel="attachment" href="file:///etc/passwd">'
        '<link rel="stylesheet" href="https://example.com/x.css"></head>'
        '<body><img src="file:///etc/hostname">hello</body></html>'
    )
    data = pdf.render_html_pdf(html)
    reader, _ = text_of(data)
    assert not reader.attachments
    assert b"root:x:0:0" not in data


def test_render_task_stores_once(credential, monkeypatch):
    assert tasks.render_certificate(credential.pk) is True
    credential.refresh_from_db()
    assert credential.pdf and credential.pdf_rendered_at
    stored = credential.pdf.name
    assert not stored.startswith("/") and "Ada" not in stored

    def no_second_render(_credential):
        raise AssertionError("rendered a stored certificate again")

    monkeypatch.setattr(pdf, "render_certificate_pdf", no_second_render)
    assert tasks.render_certificate(credential.pk) is False
    with services.credential_pdf_open(credential=credential) as handle:
        assert handle.read(5) == b"%PDF-"
    credential.refresh_from_db()
    assert credential.pdf.name == stored


def test_missing_file_is_rendered_again_on_demand(credential, settings):
    tasks.render_certificate(credential.pk)
    credential.refresh_from_db()
    credential.pdf.storage.delete(credential.pdf.name)
    with services.credential_pdf_open(credential=credential) as handle:
        assert handle.read(5) == b"%PDF-"
    credential.refresh_from_db()
    assert credential.pdf.storage.exists(credential.pdf.name)


def test_pdf_is_stored_under_the_private_root(credential, settings):
    tasks.render_certificate(credential.pk)
    credential.refresh_from_db()
    path = credential.pdf.path
    assert path.startswith(str(settings.PRIVATE_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT))


def test_issuance_queues_the_render_after_commit(
    learner, certification, django_capture_on_commit_callbacks
):
    meet_requirements(person=learner, certification=certification)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        credential, _ = services.credential_issue_if_eligible(
            person=learner, certification=certification
        )
    credential.refresh_from_db()
    assert not credential.pdf  # nothing rendered inside the transaction
    for callback in callbacks:
        callback()  # django-q2 runs in sync mode in tests
    credential = Credential.objects.get(pk=credential.pk)
    assert credential.pdf and credential.pdf_rendered_at
