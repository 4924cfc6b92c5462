"""Demo accommodation for `seed_demo`: `seed_accommodations(person=, staff=)`.

One grant for all exams (50 % extra time, 2 rest breaks of up to 10
minutes) made by the demo programme staff member. Idempotent: nothing is
granted when the person already has the demo grant (revoked or not).
"""

from datetime import timedelta

from django.utils import timezone

from lms.models import User

from ..models import Accommodation
from . import services

DEMO_REASON = "Demo: accessibility office letter on file (extra time and rest breaks)."


def seed_accommodations(*, person: User, staff: User) -> Accommodation:
    existing = Accommodation.objects.filter(person=person, reason=DEMO_REASON).first()
    if existing is not None:
        return existing
    return services.accommodation_grant(
        by=staff,
        person=person,
        exam=None,
        extra_time_percent=50,
        breaks=2,
        break_minutes=10,
        ends_on=timezone.localdate() + timedelta(days=365),
        reason=DEMO_REASON,
    )
