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


def run_outbox_task(task_id: int):
    """Queued on commit by lms.outbox.outbox_enqueue: run one after-commit task, once."""
    from .outbox import outbox_run

    return outbox_run(task_id=task_id).ran


def sweep_outbox() -> int:
    """Every minute: queue again the after-commit tasks that are overdue (lms.outbox)."""
    from .outbox import outbox_sweep

    result = outbox_sweep()
    return result.queued


def send_email(*, subject: str, body: str, to: list[str]) -> int:
    """One plain-text e-mail, rendered by its cause (queued through lms.outbox).

    Sent at least once: a worker killed between sending and recording it
    may send it again.
    """
    from django.core.mail import send_mail

    return send_mail(subject, body, None, to)
