from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "Certificates"

    def ready(self):
        from courses.selectors import register_path_steps
        from courses.signals import course_completed
        from exams.selectors import register_certified_check, register_start_refusals
        from exams.signals import attempt_passed, submission_passed
        from lms.signals import email_confirmed

        # policies registers permission rules, keys its system check
        from . import keys, policies, receivers, selectors  # noqa: F401

        # A current holder is refused a new certification exam attempt
        # (`already_certified`), except inside the renewal window.
        register_certified_check(selectors.holds_current_certification_for_exam)
        # A renewal exam starts only inside the holder's renewal window (and
        # the exam list says so instead of offering the start).
        from . import services

        register_start_refusals(services.renewal_refusals)
        # Learning paths end with the exam, the project and the certificate.
        register_path_steps(selectors.path_steps_for_many)
        attempt_passed.connect(receivers.on_attempt_passed, dispatch_uid="certificates.attempt")
        submission_passed.connect(
            receivers.on_submission_passed, dispatch_uid="certificates.submission"
        )
        course_completed.connect(receivers.on_course_completed, dispatch_uid="certificates.course")
        email_confirmed.connect(receivers.on_email_confirmed, dispatch_uid="certificates.confirmed")
