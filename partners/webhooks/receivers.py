"""Signals that become webhook events, recorded inside the sender's transaction.

Every signal connected here is sent inside the transaction of the change it
announces (`certificates.signals.credential_recorded`,
`partners.signals.membership_recorded`, `track_statuses_changed`,
`partner_status_changed`), so the event and its deliveries commit or roll
back with the change. Connected in `PartnersConfig.ready()`.
"""

from django.utils import timezone

from ..membership.selectors import membership_current_for
from ..models import Membership
from . import events, services


def on_credential_recorded(sender, credential, change, at=None, details=None, **kwargs) -> None:
    """Credential events go to the holder's current partner only."""
    membership = membership_current_for(credential.person)
    if membership is None:
        return
    data = {
        "member": events.member_data(membership),
        "credential": events.credential_data(credential),
    }
    details = details or {}
    if change == "revoked":
        data["reason"] = details.get("reason", "")
    elif change == "expiring":
        data["days"] = details.get("days")
    elif change == "renewed" and details.get("previous_expires_at") is not None:
        data["previous_expires_at"] = events.iso(details["previous_expires_at"])
    services.events_record(
        partner_id=membership.partner_id,
        type=f"credential.{change}",
        data=data,
        now=at or timezone.now(),
    )


def on_membership_recorded(sender, membership, change, at=None, **kwargs) -> None:
    membership = Membership.objects.select_related("person").get(pk=membership.pk)
    data = {"member": events.member_data(membership)}
    if change == "ended":
        data["ended"] = events.iso(membership.ended)
        type_ = events.MEMBER_LEFT
    else:
        type_ = events.MEMBER_JOINED
    services.events_record(
        partner_id=membership.partner_id, type=type_, data=data, now=at or timezone.now()
    )


def on_track_statuses_changed(sender, changes, **kwargs) -> None:
    now = timezone.now()
    services.events_record_many(
        items=[
            (
                change["partner_id"],
                events.TRACK_STATUS_CHANGED,
                {
                    "track": change["track"],
                    "from": change["from"],
                    "to": change["to"],
                    "reason": change["reason"],
                    "at_risk_until": events.iso(change["at_risk_until"]),
                    "lapses_on": events.iso(change["lapses_on"]),
                    "at": events.iso(change["at"]),
                },
            )
            for change in changes
        ],
        now=now,
    )


def on_partner_status_changed(
    sender, partner, from_state, to_state, reason="", at=None, **kwargs
) -> None:
    at = at or timezone.now()
    services.events_record(
        partner_id=partner.pk,
        type=events.PARTNER_STATUS_CHANGED,
        data={"from": from_state, "to": to_state, "reason": reason, "at": events.iso(at)},
        now=at,
    )
    if to_state == services.TERMINATED:
        # The termination event above still goes out; nothing after it.
        services.endpoints_disable_for_partner(
            partner_id=partner.pk, reason=services.DISABLED_TERMINATED, now=at
        )
