from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners"

    def ready(self):
        # Registers this app's object rules with lms.permissions.
        from certificates.signals import expiry_reminder_sent

        from . import policies  # noqa: F401
        from .receivers import send_admin_copy_of_expiry_reminder

        expiry_reminder_sent.connect(
            send_admin_copy_of_expiry_reminder, dispatch_uid="partners-admin-expiry-copy"
        )
