"""Background jobs of the lms app (django-q2). Each is idempotent."""

import logging

from .tokens import token_clear_expired

logger = logging.getLogger(__name__)


def clear_expired_tokens() -> int:
    """Daily: delete API tokens that expired or were revoked a while ago."""
    count = token_clear_expired()
    logger.info("Cleared %d expired or revoked API tokens.", count)
    return count


def sweep_rate_events() -> int:
    """Hourly: delete rate-limit and sign-in throttle events past every window."""
    from .ratelimit import rate_limit_sweep

    count = rate_limit_sweep()
    logger.info("Swept %d old rate-limit events.", count)
    return count
