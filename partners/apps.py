from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partners"

    def ready(self):
        # Registers this app's object rules with lms.permissions.
        from . import policies  # noqa: F401
