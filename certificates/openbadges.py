"""Open Badges 3.0 export of a credential (an `OpenBadgeCredential`, JSON-LD).

The document follows the VC data model 2.0 shape Open Badges 3.0 uses:
`validFrom`/`validUntil`, `issuer` as a Profile, `credentialSubject` an
AchievementSubject carrying the `achievement`. The holder is identified by a
salted SHA-256 hash of their e-mail address (OB 3.0 `IdentityObject`), never
the address itself.

It is **unsigned** (no `proof`): a verifier checks it against the
verification page named in `id` (and `GET /api/v1/credentials/{id}`), which
is authoritative for revocation and expiry. Signing it (Ed25519, key from
settings, public key published at a URL the issuer profile names) is left
for a follow-up and needs a crypto dependency.
"""

import hashlib

from django.conf import settings

from . import selectors

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
            "id": f"{settings.SITE_URL}/",
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
