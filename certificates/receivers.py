"""Receivers for the exams app's signals (connected in CertificatesConfig.ready).

They only call services; the services are idempotent because a signal may be
sent again (a regrade can turn a fail into a pass).
"""

from . import services


def on_attempt_passed(sender, attempt, **kwargs):
    services.on_attempt_passed(attempt=attempt)


def on_submission_passed(sender, submission, **kwargs):
    services.on_submission_passed(submission=submission)


def on_course_completed(sender, enrolment, **kwargs):
    services.on_course_completed(enrolment=enrolment)


def on_email_confirmed(sender, user, **kwargs):
    services.on_email_confirmed(user=user)
