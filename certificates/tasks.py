"""Background jobs of the certificates app (django-q2). Each takes ids and is idempotent."""

import logging

from . import services

logger = logging.getLogger(__name__)


def render_certificate(credential_id: int) -> bool:
    """Render and store a credential's PDF; a no-op when a stored file exists."""
    return services.credential_pdf_render_and_store(credential_id=credential_id)


def expire_credentials() -> int:
    """Daily: mark lapsed credentials expired (history row + signal each, once)."""
    count = services.credentials_expire()
    if count:
        logger.info("Marked %d credentials expired.", count)
    return count


def send_expiry_reminders() -> int:
    """Daily: 90/30/7-day reminders, each sent at most once per credential and expiry."""
    count = services.expiry_reminders_send()
    if count:
        logger.info("Sent %d expiry reminders.", count)
    return count
