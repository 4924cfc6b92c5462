"""Standard Webhooks signatures (https://www.standardwebhooks.com/), pure.

A secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those bytes.
The signature of a message is `v1,` + base64(HMAC-SHA256(key,
"<webhook-id>.<webhook-timestamp>.<body>")); while a rotated-out secret still
signs, the header carries both, separated by a space (the specification's way
to rotate: a receiver accepts any one that verifies).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret in `secrets_`."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret=s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_
        ),
    }
