"""Signals the partners app sends about itself.

`membership_changed(sender=Membership, membership=<Membership>, change=<str>)`
is sent after commit when a membership "ended" through
`partners.membership.services.membership_end` (a conditional UPDATE, so no post_save).
Started or edited memberships are seen through Membership's post_save.
"""

from django.dispatch import Signal

membership_changed = Signal()

# `partner_tracks_changed(sender=Partner, partner=<Partner>)`: sent after commit
# when `partners.membership.services.partner_tracks_set` added or removed a track (bulk
# operations, so no post_save); the track status is recomputed from it.
partner_tracks_changed = Signal()

ENDED = "ended"

# `partner_status_changed(sender=Partner, partner=<Partner>, from_state=<str>,
# to_state=<str>, reason=<str>, at=<datetime>, by=<User | None>)`: sent INSIDE
# the transaction that moved the partner's programme status (applicant,
# provisional, active, suspended, terminated), so a receiver that records
# something (a webhook event, an e-mail to send) commits or rolls back with it.
# `by` is None when a rule (a deadline) made the change.
partner_status_changed = Signal()

# `membership_recorded(sender=Membership, membership=<Membership>, change=<str>,
# at=<datetime>)`: sent INSIDE the transaction of
# `partners.membership.services.membership_start` ("started") and
# `membership_end` ("ended"), for receivers that record something that must
# commit with it (webhook events). Receivers record; they send nothing.
membership_recorded = Signal()
STARTED = "started"

# `track_statuses_changed(sender=TrackStatusChange, changes=<list[dict]>)`: sent
# INSIDE the recompute transaction that wrote the changes, once per chunk of
# partners, with one dict per change of state: `partner_id`, `track`, `from`,
# `to`, `reason`, `at_risk_until`, `lapses_on` (datetimes or None), `at`.
# First computations that found a track not verified are left out.
track_statuses_changed = Signal()
