"""The Open Badges issuer key (Ed25519) and its encodings.

Contract:
- `signing_key()` returns the Ed25519 private key from the
  `OPEN_BADGES_SIGNING_KEY` setting (environment variable of the same name):
  either a PEM private key (PKCS#8, `-----BEGIN PRIVATE KEY-----`) or the raw
  32-byte seed in base64. Without it, outside production, it derives a
  deterministic **development-only** key from SECRET_KEY (so dev and tests
  need no setup and the key survives restarts). In production a missing key
  raises `SigningKeyMissing` (503 `openbadge_signing_unavailable`) only when a
  badge is signed or the key is published, never at import: `check --deploy`
  runs production settings without it. A key that is set but unreadable
  raises `SigningKeyInvalid` (503) and is a system check error (E001).
- `public_key_multibase(public_key)` / `public_key_from_multibase(text)`:
  Multikey encoding, `z` + base58btc(0xed 0x01 + 32 key bytes).
- `b58encode(data)` / `b58decode(text)`: base58btc (Bitcoin alphabet).

Only one key is published (`#key-1`). Rotating it invalidates the proofs of
badges already downloaded; holders download a fresh (re-signed) one.
"""

import base64
import binascii
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.core import checks

from lms.errors import DomainError

ED25519_PUB_MULTICODEC = b"\xed\x01"
B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
DEV_KEY_LABEL = b"partner-academy/open-badges/dev-signing-key/v1:"


class SigningKeyMissing(DomainError):
    status = 503
    code = "openbadge_signing_unavailable"


class SigningKeyInvalid(DomainError):
    status = 503
    code = "openbadge_signing_unavailable"


# --- base58btc / multibase ---------------------------------------------------------


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    encoded = ""
    while number:
        number, remainder = divmod(number, 58)
        encoded = B58_ALPHABET[remainder] + encoded
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return B58_ALPHABET[0] * leading_zeros + encoded


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = B58_ALPHABET.find(char)
        if index < 0:
            raise ValueError(f"Not a base58btc character: {char!r}")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    leading_zeros = len(text) - len(text.lstrip(B58_ALPHABET[0]))
    return b"\0" * leading_zeros + body


def multibase_b58(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_b58_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError("Only base58btc multibase values ('z...') are supported.")
    return b58decode(text[1:])


def public_key_multibase(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return multibase_b58(ED25519_PUB_MULTICODEC + raw)


def public_key_from_multibase(text: str) -> Ed25519PublicKey:
    data = multibase_b58_decode(text)
    if not data.startswith(ED25519_PUB_MULTICODEC) or len(data) != 34:
        raise ValueError("Not an Ed25519 Multikey (0xed01 + 32 bytes).")
    return Ed25519PublicKey.from_public_bytes(data[2:])


# --- the key from settings ---------------------------------------------------------


def _parse(value: str) -> Ed25519PrivateKey:
    value = value.strip()
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(value.encode("ascii"), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise SigningKeyInvalid("OPEN_BADGES_SIGNING_KEY is not a readable PEM key.") from error
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyInvalid("OPEN_BADGES_SIGNING_KEY must be an Ed25519 key.")
        return key
    try:
        seed = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SigningKeyInvalid(
            "OPEN_BADGES_SIGNING_KEY is neither PEM nor base64 of a 32-byte Ed25519 key."
        ) from error
    if len(seed) != 32:
        raise SigningKeyInvalid("OPEN_BADGES_SIGNING_KEY must decode to exactly 32 bytes.")
    return Ed25519PrivateKey.from_private_bytes(seed)


def _dev_key() -> Ed25519PrivateKey:
    # Development and tests only: anyone who knows SECRET_KEY can derive it.
    seed = hashlib.sha256(DEV_KEY_LABEL + settings.SECRET_KEY.encode("utf-8")).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_key() -> Ed25519PrivateKey:
    configured = getattr(settings, "OPEN_BADGES_SIGNING_KEY", "")
    if configured:
        return _parse(configured)
    if settings.ENVIRONMENT == "production":
        raise SigningKeyMissing(
            "Open Badges signing is not configured: set the OPEN_BADGES_SIGNING_KEY "
            "environment variable (an Ed25519 private key, PEM or base64 of 32 bytes)."
        )
    return _dev_key()


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


@checks.register(checks.Tags.security)
def check_signing_key(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """E001: a configured key that cannot be read. I001 (information only, so
    `check --deploy --fail-level WARNING` passes): production without a key."""
    configured = getattr(settings, "OPEN_BADGES_SIGNING_KEY", "")
    if configured:
        try:
            _parse(configured)
        except SigningKeyInvalid as error:
            return [checks.Error(error.message, id="certificates.E001")]
        return []
    if settings.ENVIRONMENT == "production":
        return [
            checks.Info(
                "OPEN_BADGES_SIGNING_KEY is not set: Open Badges exports answer 503 until it is.",
                hint='Generate one: python -c "import base64, os; '
                'print(base64.b64encode(os.urandom(32)).decode())"',
                id="certificates.I001",
            )
        ]
    return []
