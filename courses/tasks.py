"""Background jobs of the courses app (django-q2). Each takes ids and is idempotent."""

import logging

from django.core.mail import EmailMessage, get_connection, send_mail
from django.db import transaction
from django.utils import timezone

from lms.timezones import Recipient

from . import services
from .models import Event, EventRegistration, RegistrationStatus

logger = logging.getLogger(__name__)


def send_seat_promotion_email(registration_id: int) -> bool:
    """Tell a person they moved from the waitlist to a seat. Sent once:
    `promotion_emailed_at` is claimed with a conditional UPDATE in the
    transaction that sends, so a failed send (or a worker killed before the
    commit) leaves it unclaimed for the next run (lms.outbox)."""
    registration = (
        EventRegistration.objects.select_related("event", "person")
        .filter(pk=registration_id, status=RegistrationStatus.REGISTERED)
        .exclude(promoted_at=None)
        .first()
    )
    if registration is None:
        return False  # cancelled again meanwhile, or never promoted
    event = registration.event
    if event.cancelled_at is not None or event.starts_at <= timezone.now():
        return False
    with transaction.atomic():
        claimed = EventRegistration.objects.filter(
            pk=registration.pk, promotion_emailed_at__isnull=True
        ).update(promotion_emailed_at=timezone.now())
        if not claimed:
            return False
        send_mail(
            subject=f"You have a seat: {event.title}",
            message=(
                f"A seat freed up and it is yours: {event.title}, "
                f"{event.when_for(registration.person)}.\n"
                f"Join: {event.join_url}\n"
            ),
            from_email=None,
            recipient_list=[registration.person.email],
        )
    return True


def send_event_reminders() -> int:
    """Hourly: remind seat holders of sessions starting within 24 hours (once each)."""
    count = services.event_reminders_send()
    logger.info("Sent %d event reminders.", count)
    return count


def send_event_cancelled_emails(event_id: int) -> int:
    """Tell everyone registered or waiting that a session was cancelled. Sent
    once: `cancellation_emailed_at` is claimed in the transaction that sends
    (a failure part-way leaves it unclaimed and the next run sends again)."""
    with transaction.atomic():
        claimed = Event.objects.filter(
            pk=event_id, cancelled_at__isnull=False, cancellation_emailed_at__isnull=True
        ).update(cancellation_emailed_at=timezone.now())
        if not claimed:
            return 0
        event = Event.objects.get(pk=event_id)
        recipients = [
            Recipient(email, zone)
            for email, zone in EventRegistration.objects.filter(event=event)
            .exclude(status=RegistrationStatus.CANCELLED)
            .values_list("person__email", "person__time_zone")
        ]
        messages = [
            EmailMessage(
                subject=f"Cancelled: {event.title}",
                body=(
                    f"{event.title} on {event.when_for(recipient)} is cancelled. "
                    "We are sorry for the change of plans.\n"
                ),
                to=[recipient.email],
            )
            for recipient in recipients
        ]
        if messages:
            with get_connection() as connection:
                connection.send_messages(messages)
    return len(recipients)
