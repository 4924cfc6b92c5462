"""Signals other apps may listen to (exams never imports them).

`attempt_passed(sender=Attempt, attempt=<Attempt>)` is sent exactly once per
attempt that passes, after the transaction that scored it has committed
(exams.services.attempt_submit / attempt_finalise_overdue). Receivers must be
idempotent anyway (a regrade may later turn a fail into a pass).

`submission_passed(sender=Submission, submission=<Submission>)` is sent once
when a project submission's final decision is "passed", after the
transaction that decided it has committed (exams.project_services.
submission_review). A decision is never changed afterwards.
"""

from django.dispatch import Signal

attempt_passed = Signal()
submission_passed = Signal()
