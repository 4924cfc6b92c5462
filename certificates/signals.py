"""Signals other apps may listen to (certificates never imports them).

`credential_changed(sender=Credential, credential=<Credential>, change=<str>)`
is sent after commit whenever a credential is "issued", "renewed", "expired"
or "revoked" (the partners app recomputes its roll-up from it).

`expiry_reminder_sent(sender=Credential, credential=<Credential>, days=<int>)`
is sent once per 90/30/7-day reminder, inside the transaction that records
it (after the holder's mail went out): the partners app (which knows who a
holder's partner admins are; this app may not import it) records the
admins' copy there (lms.outbox), so it commits, and is sent, with the
reminder. Receivers do no slow work: they record it.

`credential_recorded(sender=Credential, credential=<Credential>, change=<str>,
at=<datetime>, details=<dict>)` is sent INSIDE the transaction that recorded
the change, so what a receiver writes (a webhook event and its deliveries)
commits or rolls back with it. `change` is "issued", "renewed", "expired",
"revoked" (details: `reason`) or "expiring" (the 90/30/7-day reminder went
out; details: `days`). A receiver must not send anything itself: it records,
and queues work with `transaction.on_commit`.
"""

from django.dispatch import Signal

credential_changed = Signal()
expiry_reminder_sent = Signal()
credential_recorded = Signal()

ISSUED = "issued"
RENEWED = "renewed"
EXPIRED = "expired"
REVOKED = "revoked"
EXPIRING = "expiring"
