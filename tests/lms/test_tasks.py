"""lms.tasks and their django-q2 schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler
from django_q.tasks import async_task, result

from lms.models import ApiToken
from lms.tasks import clear_expired_tokens
from lms.tokens import token_create
from tests.lms.factories import UserFactory


def make_tokens():
    """One live token and one that expired long ago; returns (live, expired)."""
    user = UserFactory()
    now = timezone.now()
    live, _ = token_create(user=user)
    expired, _ = token_create(user=user)
    ApiToken.objects.filter(pk=expired.pk).update(
        created_at=now - timedelta(days=60), expires_at=now - timedelta(days=30)
    )
    return live, expired


@pytest.mark.django_db
def test_schedule_is_created_by_the_migrations():
    schedule = Schedule.objects.get(name="Clear expired API tokens")
    assert schedule.func == "lms.tasks.clear_expired_tokens"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1


@pytest.mark.django_db
def test_task_deletes_expired_tokens_and_keeps_live_ones():
    live, _ = make_tokens()
    assert clear_expired_tokens() == 1
    assert list(ApiToken.objects.all()) == [live]
    assert clear_expired_tokens() == 0


@pytest.mark.django_db
def test_task_runs_through_django_q():
    live, _ = make_tokens()
    task_id = async_task("lms.tasks.clear_expired_tokens")  # sync in test settings
    assert result(task_id) == 1
    assert list(ApiToken.objects.all()) == [live]


@pytest.mark.django_db
def test_due_schedule_runs_the_task_and_moves_on_a_day():
    live, _ = make_tokens()
    schedule = Schedule.objects.get(name="Clear expired API tokens")
    schedule.next_run = timezone.now() - timedelta(minutes=1)
    schedule.save()

    scheduler()

    assert list(ApiToken.objects.all()) == [live]
    task = Task.objects.get(group="Clear expired API tokens")
    assert task.success and task.result == 1
    schedule.refresh_from_db()
    assert schedule.next_run > timezone.now() + timedelta(hours=23)
