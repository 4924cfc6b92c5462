from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners"

    def ready(self):
        # Registers this app's object rules with lms.permissions.
        from certificates.signals import expiry_reminder_sent
        from lms.api import register_me_extension

        from .membership import policies, selectors  # noqa: F401
        from .receivers import send_admin_copy_of_expiry_reminder

        # GET /api/v1/me shows the person's partner and role.
        register_me_extension(selectors.me_partner_fields)

        # Company API keys (`Authorization: Bearer pak_…`) act for their partner;
        # a terminated partner's keys are revoked with the termination.
        from lms.api_auth import register_bearer_authenticator

        from .api_keys.policies import authenticate_api_key
        from .api_keys.services import KEY_PREFIX

        register_bearer_authenticator(KEY_PREFIX, authenticate_api_key)
        expiry_reminder_sent.connect(
            send_admin_copy_of_expiry_reminder, dispatch_uid="partners-admin-expiry-copy"
        )

        # Track status: recompute the partner when one of its inputs changes.
        from django.db.models.signals import post_save

        from certificates.signals import credential_changed

        from . import receivers, signals
        from .models import Membership, TrackRuleSetting

        credential_changed.connect(
            receivers.recompute_for_credential, dispatch_uid="partners-status-credential"
        )
        post_save.connect(
            receivers.recompute_for_membership_saved,
            sender=Membership,
            dispatch_uid="partners-status-membership-saved",
        )
        signals.membership_changed.connect(
            receivers.recompute_for_membership_changed,
            dispatch_uid="partners-status-membership-changed",
        )
        signals.partner_status_changed.connect(
            receivers.revoke_api_keys_of_terminated_partner,
            dispatch_uid="partners-api-keys-terminated",
        )
        signals.partner_tracks_changed.connect(
            receivers.recompute_for_tracks_changed,
            dispatch_uid="partners-status-tracks-changed",
        )
        # Programme lifecycle: a status change recomputes the tracks; the events
        # that can complete a provisional requirement check the requirements.
        from courses.signals import course_completed

        signals.partner_status_changed.connect(
            receivers.recompute_for_partner_status_changed,
            dispatch_uid="partners-status-lifecycle",
        )
        course_completed.connect(
            receivers.check_requirements_for_course_completed,
            dispatch_uid="partners-lifecycle-course-completed",
        )
        post_save.connect(
            receivers.check_requirements_for_membership_saved,
            sender=Membership,
            dispatch_uid="partners-lifecycle-membership-saved",
        )
        # Public badges: a partner's name or programme status changed.
        from .models import Partner

        post_save.connect(
            receivers.forget_badges_for_partner_saved,
            sender=Partner,
            dispatch_uid="partners-directory-badge-partner-saved",
        )
        signals.partner_status_changed.connect(
            receivers.forget_badges_for_status_changed,
            dispatch_uid="partners-directory-badge-status-changed",
        )
        post_save.connect(
            receivers.recompute_all_for_rule_saved,
            sender=TrackRuleSetting,
            dispatch_uid="partners-status-rule-saved",
        )

        # Webhooks: events recorded inside the transaction of their cause.
        from certificates.signals import credential_recorded

        from .webhooks import policies as webhook_policies  # noqa: F401
        from .webhooks import receivers as webhook_receivers

        credential_recorded.connect(
            webhook_receivers.on_credential_recorded, dispatch_uid="partners-webhooks-credential"
        )
        signals.membership_recorded.connect(
            webhook_receivers.on_membership_recorded, dispatch_uid="partners-webhooks-membership"
        )
        signals.track_statuses_changed.connect(
            webhook_receivers.on_track_statuses_changed, dispatch_uid="partners-webhooks-track"
        )
        signals.partner_status_changed.connect(
            webhook_receivers.on_partner_status_changed, dispatch_uid="partners-webhooks-partner"
        )
