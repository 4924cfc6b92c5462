"""The partner's public directory profile: edited by its partner admins.

Contract: `partner_profile_update(...)` checks every field, re-encodes a new
logo on the server (`logo_reencode`) and saves the profile in one
transaction; a refused input raises a DomainError with a stable code and
changes nothing. The replaced logo file is deleted after commit.

Logos: PNG or JPEG by content (the first bytes and Pillow's own reading), at
most LOGO_MAX_BYTES as uploaded; anything else (SVG, HTML, GIF, a PNG name on
another format) is refused. The image is decoded, shrunk to fit
LOGO_MAX_SIDE and written anew (no metadata, no trailing bytes), as PNG when
it has transparency or came as PNG, else JPEG; stored under a random name.
"""

from __future__ import annotations

import io
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from lms.errors import DomainError

from .. import rules
from ..models import Partner

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 512
LOGO_MAX_PIXELS = 40_000_000  # decoding bound: a small file may declare a huge image
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class LogoRefused(DomainError):
    status = 400
    code = "logo_invalid"


def _sniff(data: bytes) -> str | None:
    for signature, kind in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    return None


def logo_reencode(data: bytes) -> tuple[bytes, str]:
    """The logo re-encoded by the server and its extension ("png" or "jpg")."""
    if not data:
        raise LogoRefused("The logo file is empty.", code="logo_invalid")
    if len(data) > LOGO_MAX_BYTES:
        raise LogoRefused(
            "The logo is larger than 1 MB; upload a smaller PNG or JPEG.",
            code="logo_too_large",
            status=413,
        )
    kind = _sniff(data)
    if kind is None:
        raise LogoRefused(
            "The logo must be a PNG or JPEG image (SVG, HTML and other files are refused).",
            code="logo_type_not_allowed",
            status=415,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as probe:
                width, height = probe.size
                if width * height > LOGO_MAX_PIXELS:
                    raise LogoRefused(
                        "The logo's dimensions are too large.", code="logo_too_large", status=413
                    )
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                image.load()
                has_alpha = image.mode in ("RGBA", "LA", "PA") or (
                    image.mode == "P" and "transparency" in image.info
                )
                image = image.convert("RGBA" if has_alpha else "RGB")
    except LogoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoRefused(
            "The logo's dimensions are too large.", code="logo_too_large", status=413
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise LogoRefused(
            "The logo could not be read as a PNG or JPEG image.", code="logo_invalid"
        ) from None
    image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
    out = io.BytesIO()
    if has_alpha or kind == "PNG":
        image.save(out, format="PNG", optimize=True)
        return out.getvalue(), "png"
    image.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue(), "jpg"


def check_website(website: str) -> str:
    website = (website or "").strip()
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            raise DomainError(
                "Enter a web address starting with http:// or https://.", code="invalid_website"
            ) from None
    return website


def check_description(description: str) -> str:
    description = " ".join((description or "").split())
    if len(description) > Partner.DESCRIPTION_MAX_LENGTH:
        raise DomainError(
            f"The description is longer than {Partner.DESCRIPTION_MAX_LENGTH} characters.",
            code="description_too_long",
        )
    return description


@transaction.atomic
def partner_profile_update(
    *,
    partner: Partner,
    website: str,
    country: str,
    description: str,
    listed: bool,
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Partner:
    """Save the partner's directory profile (see the module contract)."""
    website = check_website(website)
    country = rules.normalise_country_code(country)
    if country and not rules.is_country_code(country):
        raise DomainError(
            f"{country!r} is not a two-letter ISO 3166-1 country code.", code="invalid_country"
        )
    description = check_description(description)
    encoded = logo_reencode(logo) if logo is not None else None

    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    old_logo = partner.logo.name if partner.logo else ""
    partner.website = website
    partner.country = country
    partner.description = description
    partner.listed = bool(listed)
    fields = ["website", "country", "description", "listed", "updated_at"]
    if encoded is not None:
        content, extension = encoded
        partner.logo.save(f"logo.{extension}", ContentFile(content), save=False)
        fields.append("logo")
    elif remove_logo and old_logo:
        partner.logo = ""
        fields.append("logo")
    partner.save(update_fields=fields)
    if old_logo and "logo" in fields:
        storage = partner.logo.storage
        transaction.on_commit(lambda: storage.delete(old_logo))
    return partner
