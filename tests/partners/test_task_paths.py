"""django-q2 finds a job's function by the dotted path stored with the job, so
the paths already stored (the daily schedule, jobs queued before a deploy)
keep naming the same functions."""

import pytest
from django.utils.module_loading import import_string
from django_q.models import Schedule

from partners.downloads.tasks import build_bundle
from partners.status.tasks import recompute_all_partner_statuses, track_status_changes_mail


@pytest.mark.django_db
def test_the_daily_recompute_schedule_runs_the_recompute_job():
    schedule = Schedule.objects.get(name="Recompute partner track statuses")

    assert import_string(schedule.func) is recompute_all_partner_statuses


@pytest.mark.django_db
def test_the_daily_lifecycle_schedule_runs_the_lifecycle_job():
    from partners.lifecycle.tasks import run_lifecycle_deadlines

    schedule = Schedule.objects.get(name="Partner lifecycle deadlines")

    assert import_string(schedule.func) is run_lifecycle_deadlines
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1


@pytest.mark.django_db
def test_the_lifecycle_job_runs_and_reports_status_changes():
    from partners.lifecycle.tasks import run_lifecycle_deadlines

    assert run_lifecycle_deadlines() == 0  # nothing due: nothing changes


@pytest.mark.parametrize(
    ("stored_path", "job"),
    [
        ("partners.tasks.recompute_all_partner_statuses", recompute_all_partner_statuses),
        ("partners.tasks.track_status_changes_mail", track_status_changes_mail),
        ("partners.tasks_downloads.build_bundle", build_bundle),
    ],
)
def test_jobs_queued_under_their_former_paths_still_run(stored_path, job):
    assert import_string(stored_path) is job


def test_new_jobs_are_queued_under_the_paths_of_their_feature():
    from partners.downloads.services import BUILD_TASK
    from partners.status.services import MAIL_TASK

    assert import_string(BUILD_TASK) is build_bundle
    assert import_string(MAIL_TASK) is track_status_changes_mail
