"""Partner admins edit the directory profile: logo upload (re-encoded), website,
country, description, listing; the logo is served safely; the embed snippet."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from partners.models import Partner
from tests.lms.factories import MODEL_BACKEND

from .directory_factories import verified_partners
from .factories import MembershipFactory

pytestmark = pytest.mark.django_db


def image_bytes(fmt="PNG", size=(64, 32), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(
        out, format=fmt, **save
    )
    return out.getvalue()


@pytest.fixture
def partner():
    return verified_partners(1, prefix="acme")[0]


@pytest.fixture
def admin_client(client, partner):
    admin = MembershipFactory(partner=partner, role="admin").person
    client.force_login(admin, backend=MODEL_BACKEND)
    return client


def url(partner):
    return f"/partners/{partner.slug}/profile/"


def post(client, partner, logo=None, **fields):
    data = {
        "website": "https://acme.example.com",
        "country": "de",
        "description": "We build payment integrations.",
        "listed": "on",
        **fields,
    }
    if logo is not None:
        data["logo"] = logo
    return client.post(url(partner), data)


def test_a_partner_admin_saves_the_profile(admin_client, partner):
    response = post(admin_client, partner)
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.website == "https://acme.example.com"
    assert partner.country == "DE"
    assert partner.description == "We build payment integrations."
    assert partner.listed is True


def test_hiding_the_listing_removes_it_from_the_directory(admin_client, client, partner):
    post(admin_client, partner, listed="")
    partner.refresh_from_db()
    assert partner.listed is False
    assert client.get("/api/v1/directory/partners").json()["data"] == []


@pytest.mark.parametrize("who", ["employee", "other_admin", "anonymous"])
def test_only_its_admins_see_the_profile_page(client, partner, who):
    if who == "employee":
        client.force_login(MembershipFactory(partner=partner).person, backend=MODEL_BACKEND)
    elif who == "other_admin":
        other = verified_partners(1, prefix="other")[0]
        person = MembershipFactory(partner=other, role="admin").person
        client.force_login(person, backend=MODEL_BACKEND)
    response = client.get(url(partner))
    assert response.status_code in (302, 404) if who == "anonymous" else response.status_code == 404
    before = Partner.objects.values().get(pk=partner.pk)
    post(client, partner, description="changed")
    assert Partner.objects.values().get(pk=partner.pk) == before


def test_staff_may_edit_any_profile(client, partner, staff_user):
    client.force_login(staff_user, backend=MODEL_BACKEND)
    assert client.get(url(partner)).status_code == 200


def test_the_page_shows_the_badge_and_an_embed_snippet_with_a_copy_button(admin_client, partner):
    page = admin_client.get(url(partner)).content.decode()
    assert "badge.svg" in page and "/partners/acme-0000/verified" in page
    assert "data-copy-target" in page and "partners/embed.js" in page
    assert "&lt;a href=" in page  # the snippet, shown as text in the textarea
    assert "<script>" not in page and "style=" not in page


@pytest.mark.parametrize(
    ("fmt", "mode", "extension"),
    [("PNG", "RGB", "png"), ("PNG", "RGBA", "png"), ("JPEG", "RGB", "jpg")],
)
def test_a_png_or_jpeg_logo_is_re_encoded_and_served_safely(
    admin_client, client, partner, fmt, mode, extension
):
    original = image_bytes(fmt, size=(1200, 600), mode=mode)
    upload = SimpleUploadedFile("my logo.exe.png", original, content_type="text/html")
    assert post(admin_client, partner, logo=upload).status_code == 302
    partner.refresh_from_db()
    name = partner.logo.name
    assert name.startswith("partner-logos/") and name.endswith(f".{extension}")
    assert "my logo" not in name
    stored = partner.logo.read()
    assert stored != original
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == ("PNG" if extension == "png" else "JPEG")
        assert max(image.size) == 512  # shrunk to fit
    item = client.get("/api/v1/directory/partners").json()["data"][0]
    response = client.get(item["logo_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == ("image/png" if extension == "png" else "image/jpeg")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == stored
    assert client.get(item["logo_url"] + "x").status_code == 404


def test_jpeg_metadata_is_dropped(admin_client, partner):
    exif = Image.Exif()
    exif[0x010E] = "secret location"
    upload = SimpleUploadedFile("l.jpg", image_bytes("JPEG", exif=exif.tobytes()))
    assert post(admin_client, partner, logo=upload).status_code == 302
    partner.refresh_from_db()
    assert b"secret location" not in partner.logo.read()


def test_a_new_logo_replaces_the_old_file_and_remove_clears_it(
    admin_client, partner, django_capture_on_commit_callbacks
):
    post(admin_client, partner, logo=SimpleUploadedFile("a.png", image_bytes()))
    partner.refresh_from_db()
    first = partner.logo.name
    with django_capture_on_commit_callbacks(execute=True):
        post(admin_client, partner, logo=SimpleUploadedFile("b.png", image_bytes()))
    partner.refresh_from_db()
    assert partner.logo.name != first
    assert not partner.logo.storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        post(admin_client, partner, remove_logo="on")
    partner.refresh_from_db()
    assert not partner.logo


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("name", "content", "code", "status"),
    [
        ("logo.png", HTML, "logo_type_not_allowed", 415),
        ("logo.html", HTML, "logo_type_not_allowed", 415),
        ("logo.svg", SVG, "logo_type_not_allowed", 415),
        ("logo.gif", image_bytes("GIF"), "logo_type_not_allowed", 415),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + HTML, "logo_invalid", 400),
        ("logo.jpg", b"\xff\xd8\xff" + HTML, "logo_invalid", 400),
        ("logo.png", image_bytes()[:60], "logo_invalid", 400),
        ("logo.png", b"", "logo_invalid", 400),
        ("big.png", image_bytes() + b"\0" * (1024 * 1024), "logo_too_large", 413),
    ],
)
def test_bad_logos_are_refused_and_change_nothing(
    admin_client, partner, name, content, code, status
):
    before = Partner.objects.values().get(pk=partner.pk)
    response = post(
        admin_client, partner, logo=SimpleUploadedFile(name, content), description="changed"
    )
    assert response.status_code in (status, 400)  # Django refuses an empty file itself
    if content:
        assert response.status_code == status
    assert b"field__errors" in response.content
    assert Partner.objects.values().get(pk=partner.pk) == before


def test_the_service_names_the_code_of_html_disguised_as_a_png():
    from partners.directory.services import LogoRefused, logo_reencode

    with pytest.raises(LogoRefused) as refused:
        logo_reencode(HTML)
    assert refused.value.code == "logo_type_not_allowed" and refused.value.status == 415


def test_a_decompression_bomb_is_refused():
    from partners.directory.services import LogoRefused, logo_reencode

    bomb = image_bytes("PNG", size=(10000, 10000), mode="RGB", optimize=True)
    assert len(bomb) < 1024 * 1024
    with pytest.raises(LogoRefused) as refused:
        logo_reencode(bomb)
    assert refused.value.code == "logo_too_large"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("website", "javascript:alert(1)"),
        ("website", "ftp://acme.example.com"),
        ("website", "not a url"),
        ("country", "XX"),
        ("country", "D1"),
        ("description", "x" * 301),
        ("website", "https://a.example/\x00"),
    ],
)
def test_bad_fields_are_400_and_change_nothing(admin_client, partner, field, value):
    before = Partner.objects.values().get(pk=partner.pk)
    response = post(admin_client, partner, **{field: value})
    assert response.status_code == 400
    assert b"field__errors" in response.content
    assert Partner.objects.values().get(pk=partner.pk) == before
