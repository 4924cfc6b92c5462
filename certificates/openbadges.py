"""Open Badges 3.0 export of a credential (an `OpenBadgeCredential`, JSON-LD), signed.

The document follows the VC data model 2.0 shape Open Badges 3.0 uses:
`validFrom`/`validUntil`, `issuer` as a Profile, `credentialSubject` an
AchievementSubject carrying the `achievement`. The holder is identified by a
salted SHA-256 hash of their e-mail address (OB 3.0 `IdentityObject`), never
the address itself.

Contract:
- `open_badge_credential(credential) -> dict`: the unsigned document.
- `signed_open_badge_credential(credential, *, now=None) -> dict`: the same
  with a Data Integrity proof (`DataIntegrityProof`, cryptosuite
  `eddsa-jcs-2022`, Ed25519 key from `certificates.keys`). Revoked
  credentials are refused (410 `credential_revoked`): a signed badge would
  keep asserting them; expired ones are exported (their `validUntil` says so).
  503 `openbadge_signing_unavailable` when production has no key.
- `issuer_profile() -> dict`: the issuer's Profile, published at
  `issuer_id()` (`{SITE_URL}/openbadges/issuer`), carrying the public key as a
  `Multikey` (`publicKeyMultibase`) with id `verification_method_id()`
  (`...#key-1`), the proof's `verificationMethod`.
- `add_proof(document, *, key, verification_method, created) -> dict` and
  `verify_proof(document, public_key) -> bool`: eddsa-jcs-2022 (W3C Data
  Integrity EdDSA Cryptosuites v1.0, section 3.3), pure functions.

The verification page named in `id` (and `GET /api/v1/credentials/{id}`)
stays authoritative for revocation after download.
"""

import hashlib
import json
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from . import keys, selectors

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
KEY_FRAGMENT = "key-1"


def _iso(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_badge_credential(credential) -> dict:
    certification = credential.certification
    url = selectors.verification_url(credential.public_id)
    salt = credential.public_id
    identity = hashlib.sha256((credential.person.email + salt).encode("utf-8")).hexdigest()
    return {
        "@context": CONTEXT,
        "id": url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{certification.name} certification",
        "issuer": {
            "id": issuer_id(),
            "type": ["Profile"],
            "name": selectors.issuer_name(),
            "url": f"{settings.SITE_URL}/",
        },
        "validFrom": _iso(credential.issued_at),
        "validUntil": _iso(credential.expires_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": f"sha256${identity}",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": f"{settings.SITE_URL}/certifications/{certification.slug}",
                "type": ["Achievement"],
                "achievementType": "Certification",
                "name": certification.name,
                "description": certification.description
                or f"{certification.name} certification of the Partner Programme.",
                "criteria": {
                    "narrative": "Pass the certification exam and the graded practical "
                    "project (and any prerequisite courses)."
                },
            },
        },
    }


# --- issuer profile ----------------------------------------------------------------


def issuer_id() -> str:
    return f"{settings.SITE_URL}{reverse('certificates:issuer')}"


def verification_method_id() -> str:
    return f"{issuer_id()}#{KEY_FRAGMENT}"


def issuer_profile() -> dict:
    """The issuer's Profile with its public key (a controlled identifier document)."""
    method = verification_method_id()
    return {
        "@context": [*CONTEXT, MULTIKEY_CONTEXT],
        "id": issuer_id(),
        "type": ["Profile"],
        "name": selectors.issuer_name(),
        "url": f"{settings.SITE_URL}/",
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": issuer_id(),
                "publicKeyMultibase": keys.public_key_multibase(keys.public_key()),
            }
        ],
        "assertionMethod": [method],
    }


# --- eddsa-jcs-2022 ----------------------------------------------------------------


def jcs(value) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of `value`.

    For JSON made only of strings, integers, booleans, null, objects and
    arrays, `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` encoded as UTF-8 is exactly JCS: keys sorted by code
    point (our keys are ASCII, where UTF-16 and code point order agree),
    no whitespace, strings escaped as RFC 8785 requires (only `"`, `\\` and
    control characters). JCS differs for floats (ECMAScript number
    formatting) and non-BMP keys, so floats are refused here.
    """
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _refuse_floats(value) -> None:
    if isinstance(value, float):
        raise TypeError("jcs(): floats need ECMAScript number formatting; not supported.")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def _hash_data(proof_config: dict, document: dict) -> bytes:
    return hashlib.sha256(jcs(proof_config)).digest() + hashlib.sha256(jcs(document)).digest()


def add_proof(
    document: dict, *, key: Ed25519PrivateKey, verification_method: str, created: datetime
) -> dict:
    """The document with an eddsa-jcs-2022 `proof` (spec 3.3.1 Create Proof)."""
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _iso(created),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    if "@context" in unsecured:
        proof["@context"] = unsecured["@context"]
    signature = key.sign(_hash_data(proof, unsecured))
    return {**unsecured, "proof": {**proof, "proofValue": keys.multibase_b58(signature)}}


def verify_proof(document: dict, public_key: Ed25519PublicKey) -> bool:
    """Whether the document's eddsa-jcs-2022 proof verifies (spec 3.3.2 Verify Proof)."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return False
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return False
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    if "@context" in options:
        context = options["@context"]
        document_context = unsecured.get("@context")
        if not isinstance(context, list) or not isinstance(document_context, list):
            return False
        if document_context[: len(context)] != context:
            return False
        unsecured["@context"] = context
    try:
        signature = keys.multibase_b58_decode(proof.get("proofValue") or "")
        public_key.verify(signature, _hash_data(options, unsecured))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def signed_open_badge_credential(credential, *, now: datetime | None = None) -> dict:
    if credential.revoked_at is not None:
        raise selectors.CredentialRevoked(
            "This credential was revoked; it is no longer exported as a badge."
        )
    return add_proof(
        open_badge_credential(credential),
        key=keys.signing_key(),
        verification_method=verification_method_id(),
        created=now or timezone.now(),
    )
