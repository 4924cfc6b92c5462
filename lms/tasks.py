"""Background jobs of the lms app (django-q2). Each is idempotent."""

import logging

from .tokens import token_clear_expired

logger = logging.getLogger(__name__)


def clear_expired_tokens() -> int:
    """Daily: delete API tokens that expired or were revoked a while ago."""
    count = token_clear_expired()
    logger.info("Cleared %d expired or revoked API tokens.", count)
    return count
