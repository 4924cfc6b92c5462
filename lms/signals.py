"""Signals of the lms app (higher apps connect to them; lms imports none of them).

- `email_confirmed(sender=User, user=)`: a person proved their e-mail address
  (sent after the confirming transaction commits). The certificates app
  issues what a person earned while unconfirmed.
"""

from django.dispatch import Signal

email_confirmed = Signal()
