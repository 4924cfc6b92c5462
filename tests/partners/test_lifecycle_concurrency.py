"""Parallel transitions of one partner on PostgreSQL: exactly one wins."""

import threading

import pytest
from django.db import connection

from lms.errors import DomainError
from partners.lifecycle import services as lifecycle
from partners.models import Partner, PartnerStatusChange
from tests.lms.factories import UserFactory

from .factories import PartnerFactory

THREADS = 8

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def run_together(target, args_list):
    start_together = threading.Barrier(len(args_list))
    outcomes: list[str] = []
    record = threading.Lock()

    def run(*args):
        try:
            start_together.wait(timeout=10)
            target(*args)
            outcome = "moved"
        except DomainError as error:
            outcome = error.code
        except Exception as error:  # surfaced by the assertion
            outcome = repr(error)
        finally:
            connection.close()
        with record:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.mark.django_db(transaction=True)
def test_parallel_terminations_terminate_once():
    staff_user = UserFactory()
    partner = PartnerFactory(status="active")

    def terminate(reason):
        lifecycle.partner_transition(
            partner=Partner.objects.get(pk=partner.pk),
            to="terminated",
            reason=reason,
            by=staff_user,
        )

    outcomes = run_together(terminate, [(f"reason {i}",) for i in range(THREADS)])
    assert outcomes == ["invalid_transition"] * (THREADS - 1) + ["moved"]
    assert PartnerStatusChange.objects.filter(partner=partner).count() == 1
    assert Partner.objects.get(pk=partner.pk).status == "terminated"


@pytest.mark.django_db(transaction=True)
def test_parallel_suspensions_keep_the_history_a_chain():
    staff_user = UserFactory()
    partner = PartnerFactory(status="active")

    def suspend(reason):
        lifecycle.partner_transition(
            partner=Partner.objects.get(pk=partner.pk), to="suspended", reason=reason, by=staff_user
        )

    outcomes = run_together(suspend, [(f"reason {i}",) for i in range(THREADS)])
    assert set(outcomes) <= {"moved", "invalid_transition"} and "moved" in outcomes
    changes = list(PartnerStatusChange.objects.filter(partner=partner).order_by("pk"))
    assert len(changes) == outcomes.count("moved")
    # Exactly one moved it from active; any later winner read the suspension first.
    assert [c.from_status for c in changes] == ["active"] + ["suspended"] * (len(changes) - 1)
    partner = Partner.objects.get(pk=partner.pk)
    assert (partner.status, partner.suspended_from) == ("suspended", "active")


@pytest.mark.django_db(transaction=True)
def test_parallel_daily_jobs_suspend_an_overdue_partner_once():
    from datetime import timedelta

    from django.utils import timezone

    partner = PartnerFactory(status="active")
    Partner.objects.filter(pk=partner.pk).update(
        rereview_due_at=timezone.now() - timedelta(days=31)
    )
    outcomes = run_together(lambda: lifecycle.lifecycle_daily(), [()] * 4)
    assert outcomes == ["moved"] * 4  # the job never fails: a lost race is no error
    assert PartnerStatusChange.objects.filter(partner=partner).count() == 1
    assert Partner.objects.get(pk=partner.pk).status == "suspended"
