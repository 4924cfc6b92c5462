from datetime import timedelta

from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from certificates import tasks
from certificates.models import CredentialStatus
from tests.certificates.factories import CredentialFactory


def test_daily_schedules_exist(db):
    funcs = set(Schedule.objects.filter(schedule_type="D").values_list("func", flat=True))
    assert {
        "certificates.tasks.expire_credentials",
        "certificates.tasks.send_expiry_reminders",
    } <= funcs


def test_daily_jobs(learner, certification):
    now = timezone.now()
    lapsed = CredentialFactory(
        person=learner,
        certification=certification,
        issued_at=now - timedelta(days=800),
        expires_at=now - timedelta(hours=1),
    )
    CredentialFactory(certification=certification, expires_at=now + timedelta(days=6))
    assert tasks.expire_credentials() == 1
    assert tasks.expire_credentials() == 0
    lapsed.refresh_from_db()
    assert lapsed.status == CredentialStatus.EXPIRED
    assert tasks.send_expiry_reminders() == 1
    assert tasks.send_expiry_reminders() == 0
    assert len(mail.outbox) == 1
