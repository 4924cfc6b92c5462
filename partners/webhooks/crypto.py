"""Signing secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`).

A webhook secret must be readable to sign with it, so it cannot be hashed like
an API token; it is encrypted instead. Keys: `WEBHOOKS_ENCRYPTION_KEYS`
(comma-separated Fernet keys, the first encrypts, every one decrypts, so keys
can be rotated); when empty, one key derived from SECRET_KEY (then changing
SECRET_KEY makes the stored secrets unreadable: set the setting before that).
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "WEBHOOKS_ENCRYPTION_KEYS", []) or [])
    if not keys:
        derived = hashlib.sha256(b"partners.webhooks.secret:" + settings.SECRET_KEY.encode())
        keys = [base64.urlsafe_b64encode(derived.digest()).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        raise ValueError("a webhook secret cannot be decrypted with the configured keys") from None
