"""Partners' side of other apps' events.

Certificates may not import partners, so it announces events by signal and
this module adds what needs the partner: the partner admins' copy of a
holder's expiry reminder (docs/product-rules.md: holders *and their partner admin* are
reminded 90, 30 and 7 days before expiry). The certificates app sends the
signal once per reminder, inside the transaction that records it, and the
copy is recorded there (lms.outbox): it is sent after that commit, once.
"""

import logging

from django.template.loader import render_to_string
from django.utils import timezone

from lms.outbox import SEND_EMAIL, outbox_enqueue
from lms.timezones import people_by_zone

from .api_keys.services import TERMINATED, api_keys_revoke_all
from .membership.selectors import membership_current_for, partner_admins_current

logger = logging.getLogger(__name__)


def send_admin_copy_of_expiry_reminder(sender, credential, days, **kwargs) -> int:
    membership = membership_current_for(credential.person)
    if membership is None:  # independent learner, or left the company
        return 0
    admins = [
        admin.person
        for admin in partner_admins_current(membership.partner)
        if admin.person_id != credential.person_id  # the holder already got theirs
    ]
    if not admins:
        return 0
    context = {"credential": credential, "days": days, "partner": membership.partner}
    subject = (
        f"{credential.holder_name}'s {credential.certification.name} certification "
        f"expires in {days} days"
    )
    # The date in each admin's own zone: one message per zone.
    for zone, people in people_by_zone(admins):
        with timezone.override(zone):
            body = render_to_string("partners/email/admin_expiry_reminder.txt", context)
        outbox_enqueue(SEND_EMAIL, subject=subject, body=body, to=[p.email for p in people])
    return len(admins)


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
    background after commit (lms.outbox; the job is idempotent)."""
    if raw:
        return
    from lms.outbox import outbox_enqueue

    outbox_enqueue("partners.status.tasks.recompute_all_partner_statuses")


# --- programme lifecycle ---------------------------------------------------------


def recompute_for_partner_status_changed(sender, partner, **kwargs) -> None:
    """A suspension, reinstatement or termination changes what is verified:
    recompute the partner's tracks as soon as the transition commits."""
    from .status.services import schedule_partner_recompute

    schedule_partner_recompute(partner.pk)


def check_requirements_for_course_completed(sender, enrolment, **kwargs) -> None:
    """Completing Business Foundations may be a provisional partner's last requirement."""
    from courses.selectors import BUSINESS_FOUNDATIONS_SLUG

    from .lifecycle.services import schedule_requirements_check

    if getattr(enrolment.course, "slug", None) != BUSINESS_FOUNDATIONS_SLUG:
        return
    membership = membership_current_for(enrolment.person)
    if membership is not None and membership.partner.status == "provisional":
        schedule_requirements_check(membership.partner_id)


def check_requirements_for_membership_saved(
    sender, instance, created=False, raw=False, **kwargs
) -> None:
    """Someone who completed Business Foundations elsewhere joined a provisional partner."""
    if raw or not created:
        return
    from .lifecycle.services import schedule_requirements_check

    schedule_requirements_check(instance.partner_id)


def revoke_api_keys_of_terminated_partner(sender, partner, to_state, reason="", **kwargs) -> int:
    """A terminated partner's company API keys end with it (same transaction)."""
    if to_state != TERMINATED:
        return 0
    return api_keys_revoke_all(partner=partner, reason=f"Partner terminated: {reason}"[:200])


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
