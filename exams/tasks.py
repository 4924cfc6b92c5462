"""Background jobs of the exams app (django-q2). Each is idempotent."""

import logging

from . import services

logger = logging.getLogger(__name__)


def finalise_overdue_attempts() -> int:
    """Every few minutes: finalise and score attempts left open past their deadline.

    Safe to run twice or from two workers: each attempt is claimed by a
    conditional UPDATE, so it is scored (and its signal sent) once.
    """
    count = services.attempt_finalise_overdue()
    if count:
        logger.info("Finalised %d overdue exam attempts.", count)
    return count
