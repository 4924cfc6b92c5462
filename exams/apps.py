from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "exams"

    def ready(self):
        from . import policies  # noqa: F401 - registers the permission rules
