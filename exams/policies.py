"""Permission rules for exams (registered with lms.permissions).

- `attempt.replay`: programme staff replay any attempt's draw (the admin's
  "Replay draw" and `GET /api/v1/staff/attempts/{id}/replay`).
"""

from lms.permissions import is_programme_staff, register_rule


@register_rule("attempt.replay")
def attempt_replay(user, attempt) -> bool:
    return is_programme_staff(user)
