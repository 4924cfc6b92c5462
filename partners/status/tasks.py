"""Background jobs of the partners app (django-q2). Idempotent: rerunning changes nothing."""

import logging

from . import services as status

logger = logging.getLogger(__name__)


def recompute_all_partner_statuses() -> int:
    """Daily: recompute every partner's track status (grace periods end, verifications
    expire, credentials lapse with the clock). Returns the number of status changes."""
    result = status.partner_statuses_recompute()
    logger.info(
        "Recomputed %d partners: %d records written, %d status changes.",
        result.partners,
        result.records_written,
        result.changes,
    )
    return result.changes


def track_status_changes_mail(change_ids: list[int]) -> int:
    """Queued after a recompute commits: e-mail the admins of the partners whose
    track status changed (at most once per change). Returns the e-mails sent."""
    return status.track_status_changes_mail(change_ids=change_ids)
