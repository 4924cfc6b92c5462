"""Daily programme-lifecycle job (django-q2), scheduled by a partners migration.

Idempotent: it works from the stored deadlines, statuses and reminder rows, so a
rerun (or the first run after the workers were down for days) does each due
thing once: a passed deadline suspends once, a reminder is sent once.
"""

import logging

from . import services

logger = logging.getLogger(__name__)


def run_lifecycle_deadlines() -> int:
    """Activate provisional partners that meet every requirement, send the
    30- and 7-day reminders, suspend after the provisional deadline and 30 days
    after an overdue re-review. Returns the number of status changes."""
    result = services.lifecycle_daily()
    logger.info(
        "Partner lifecycle: %d activated, %d suspended, %d reminders sent.",
        result.activated,
        result.suspended,
        result.reminders,
    )
    return result.activated + result.suspended
