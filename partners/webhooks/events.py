"""The event types a webhook endpoint may subscribe to, and their `data`.

Events are about the partner's own current members (or the partner itself)
and carry nothing beyond what the members API shows, plus the change's own
facts (a revocation's reason, a reminder's days, a track's new state).
"""

from __future__ import annotations

from datetime import datetime

CREDENTIAL_ISSUED = "credential.issued"
CREDENTIAL_RENEWED = "credential.renewed"
CREDENTIAL_EXPIRING = "credential.expiring"
CREDENTIAL_EXPIRED = "credential.expired"
CREDENTIAL_REVOKED = "credential.revoked"
MEMBER_JOINED = "member.joined"
MEMBER_LEFT = "member.left"
TRACK_STATUS_CHANGED = "track.status_changed"
PARTNER_STATUS_CHANGED = "partner.status_changed"
PING = "ping"  # sent by "send test event" only; nobody subscribes to it

EVENT_TYPES = (
    CREDENTIAL_ISSUED,
    CREDENTIAL_RENEWED,
    CREDENTIAL_EXPIRING,
    CREDENTIAL_EXPIRED,
    CREDENTIAL_REVOKED,
    MEMBER_JOINED,
    MEMBER_LEFT,
    TRACK_STATUS_CHANGED,
    PARTNER_STATUS_CHANGED,
)

DESCRIPTIONS = {
    CREDENTIAL_ISSUED: "A current member was issued a certification.",
    CREDENTIAL_RENEWED: "A current member's certification was renewed.",
    CREDENTIAL_EXPIRING: "A current member's certification expires in 90, 30 or 7 days.",
    CREDENTIAL_EXPIRED: "A current member's certification expired.",
    CREDENTIAL_REVOKED: "A current member's certification was revoked (with the reason).",
    MEMBER_JOINED: "Someone became a member of the company.",
    MEMBER_LEFT: "A membership ended.",
    TRACK_STATUS_CHANGED: "A track's verification status changed.",
    PARTNER_STATUS_CHANGED: "The company's programme status changed.",
}


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def member_data(membership) -> dict:
    """The member as the members API names them (no records)."""
    person = membership.person
    return {
        "id": membership.pk,
        "person_id": membership.person_id,
        "email": person.email,
        "name": person.legal_name,
        "role": membership.role,
        "started": iso(membership.started),
    }


def credential_data(credential) -> dict:
    return {
        "id": credential.public_id,
        "certification": credential.certification.name,
        "certification_slug": credential.certification.slug,
        "status": credential.status,
        "issued_at": iso(credential.issued_at),
        "expires_at": iso(credential.expires_at),
    }
