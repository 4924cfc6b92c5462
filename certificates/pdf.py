"""Certificate PDFs with WeasyPrint (one A4-landscape page).

Safety (docs/pitfalls.md): WeasyPrint fetches whatever URLs a document names,
`file://` included, and `<link rel=attachment>` embeds the file in the PDF.
So every fetch goes through `RestrictedURLFetcher`: `data:` URIs and files
under this app's `static/certificates/` directory (read from disk, after
resolving symlinks and `..`), nothing else, no network, no redirects. On
top of that the HTML comes from a Django template with autoescaping, so a
holder's name is text, never markup.

Speed: the font configuration and the parsed stylesheet are built once per
process and reused (the first render in a process costs ~1 s, later ones a
fraction); the fonts are shipped with the app (DejaVu, from Debian's
fonts-dejavu-core) and subset into the PDF (never `full_fonts`).

Call `render_certificate_pdf(credential)` from a background task only
(certificates.tasks), never in a request, except the on-demand re-render of
a missing file.
"""

import base64
import io
import mimetypes
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import qrcode
import qrcode.image.svg
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import selectors

STATIC_DIR = (Path(__file__).resolve().parent / "static" / "certificates").resolve()
STYLESHEET = STATIC_DIR / "certificate.css"
TEMPLATE = "certificates/certificate.html"


class RefusedURL(ValueError):
    """A URL the certificate may not load."""


class RestrictedURLFetcher(URLFetcher):
    """Allow `data:` URIs and our own static certificate files; refuse the rest."""

    def __init__(self):
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)  # decoded by urllib's DataHandler, no I/O
        if scheme == "file":
            return self._own_file(url)
        raise RefusedURL(f"Certificates may not load {url[:80]!r}")

    def _own_file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedURL("Remote file URLs are refused.")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(STATIC_DIR) or not path.is_file():
            raise RefusedURL(f"Certificates may not load {url[:80]!r}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".ttf":
            content_type = "font/ttf"
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
        )


_lock = threading.Lock()
_shared: dict[str, object] = {}


def _font_config_and_css() -> tuple[FontConfiguration, CSS]:
    with _lock:
        if "css" not in _shared:
            font_config = FontConfiguration()
            _shared["font_config"] = font_config
            _shared["css"] = CSS(
                filename=str(STYLESHEET),
                url_fetcher=RestrictedURLFetcher(),
                font_config=font_config,
            )
        return _shared["font_config"], _shared["css"]


def qr_code_data_uri(text: str) -> str:
    image = qrcode.make(
        text,
        image_factory=qrcode.image.svg.SvgPathImage,
        box_size=10,
        border=1,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def certificate_html(credential, *, now=None) -> str:
    url = selectors.verification_url(credential.public_id)
    return render_to_string(
        TEMPLATE,
        {
            "credential": credential,
            "certification": credential.certification,
            "issuer": selectors.issuer_name(),
            "verification_url": url,
            "qr_code": qr_code_data_uri(url),
            "created": now or timezone.now(),
        },
    )


def render_html_pdf(html: str, *, identifier: str | None = None) -> bytes:
    """Any certificate-like HTML to PDF bytes through the restricted fetcher."""
    font_config, css = _font_config_and_css()
    document = HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=RestrictedURLFetcher()
    )
    return document.write_pdf(
        stylesheets=[css],
        font_config=font_config,
        pdf_identifier=identifier.encode("ascii") if identifier else None,
        attachments=[],
    )


def render_certificate_pdf(credential) -> bytes:
    return render_html_pdf(certificate_html(credential), identifier=credential.public_id)
