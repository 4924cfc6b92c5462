"""Partners' side of other apps' events.

Certificates may not import partners, so it announces events by signal and
this module adds what needs the partner: the partner admins' copy of a
holder's expiry reminder (docs/product-rules.md: holders *and their partner admin* are
reminded 90, 30 and 7 days before expiry). The certificates app sends the
signal once per reminder, after the holder's mail was committed, so each
admin copy goes out once too.
"""

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string

from .membership.selectors import membership_current_for, partner_admins_current

logger = logging.getLogger(__name__)


def send_admin_copy_of_expiry_reminder(sender, credential, days, **kwargs) -> int:
    membership = membership_current_for(credential.person)
    if membership is None:  # independent learner, or left the company
        return 0
    recipients = [
        admin.person.email
        for admin in partner_admins_current(membership.partner)
        if admin.person_id != credential.person_id  # the holder already got theirs
    ]
    if not recipients:
        return 0
    context = {"credential": credential, "days": days, "partner": membership.partner}
    subject = (
        f"{credential.holder_name}'s {credential.certification.name} certification "
        f"expires in {days} days"
    )
    body = render_to_string("partners/email/admin_expiry_reminder.txt", context)
    send_mail(subject, body, None, recipients)
    return len(recipients)


# --- track status: recompute when an input changes ----------------------------


def recompute_for_credential(sender, credential, change, **kwargs) -> None:
    """A credential was issued/renewed/expired/revoked: recompute the holder's partner.

    Only the current partner: a former partner's count does not include the
    person any more, whatever happens to the credential now.
    """
    from .status.services import schedule_partner_recompute

    membership = membership_current_for(credential.person)
    if membership is not None:
        schedule_partner_recompute(membership.partner_id)


def recompute_for_membership_saved(sender, instance, created=False, raw=False, **kwargs) -> None:
    """A membership was started or edited (post_save): recompute after commit."""
    if raw:  # loading fixtures
        return
    from .status.services import schedule_partner_recompute

    schedule_partner_recompute(instance.partner_id)


def recompute_for_membership_changed(sender, membership, change, **kwargs) -> None:
    """A membership ended through partners.membership.services (an UPDATE, no post_save)."""
    from .status.services import schedule_partner_recompute

    schedule_partner_recompute(membership.partner_id)


def recompute_for_tracks_changed(sender, partner, **kwargs) -> None:
    """The partner joined or left a track (partners.membership.services.partner_tracks_set)."""
    from .status.services import schedule_partner_recompute

    schedule_partner_recompute(partner.pk)


def recompute_all_for_rule_saved(sender, instance, raw=False, **kwargs) -> None:
    """A track rule changed (staff, Wagtail admin): recompute every partner in the
    background after commit (django-q2; the job is idempotent)."""
    if raw:
        return
    from django.db import transaction
    from django_q.tasks import async_task

    transaction.on_commit(
        lambda: async_task(
            "partners.status.tasks.recompute_all_partner_statuses",
            task_name="partners-recompute-all",
        )
    )


# --- public badges: drop the cached copies when what they show may change ---------


def _forget_badges_after_commit(slug: str) -> None:
    from django.db import transaction

    from .directory.selectors import badge_cache_forget

    transaction.on_commit(lambda: badge_cache_forget(slugs=[slug]))


def forget_badges_for_partner_saved(sender, instance, raw=False, **kwargs) -> None:
    """A partner was saved (its name or programme status may have changed)."""
    if not raw:
        _forget_badges_after_commit(instance.slug)


def forget_badges_for_status_changed(sender, partner, **kwargs) -> None:
    """The partner's programme status moved (e.g. suspended): badges read "Not verified"."""
    _forget_badges_after_commit(partner.slug)
