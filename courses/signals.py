"""Signals other apps may listen to (courses never imports them).

`course_completed(sender=Enrolment, enrolment=<Enrolment>)` is sent after
commit, once, when a learner completes a course (all its live lessons done).
The certificates app uses it: a prerequisite course may be the last
requirement a learner meets.
"""

from django.dispatch import Signal

course_completed = Signal()
