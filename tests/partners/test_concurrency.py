"""Real parallel requests against PostgreSQL (SQLite serialises writers anyway)."""

import threading

import pytest
from django.db import connection

from lms.errors import DomainError
from partners.membership import services
from partners.membership.services import membership_start
from partners.models import Membership
from tests.lms.factories import UserFactory

from .factories import PartnerFactory

THREADS = 10

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("friendly_check", [True, False], ids=["with-check", "constraint-only"])
def test_parallel_membership_starts_leave_exactly_one_current_membership(
    friendly_check, monkeypatch
):
    if not friendly_check:
        # Every thread reaches the INSERT: the constraint alone must decide.
        monkeypatch.setattr(services, "check_no_current_membership", lambda **kwargs: None)
    person = UserFactory()
    partners = PartnerFactory.create_batch(THREADS)
    start_together = threading.Barrier(THREADS)
    outcomes: list[str] = []
    record = threading.Lock()

    def join(partner):
        try:
            start_together.wait(timeout=10)
            membership_start(person=person, partner=partner)
            outcome = "started"
        except DomainError as error:
            outcome = error.code
        except Exception as error:  # surfaced by the assertion below
            outcome = repr(error)
        finally:
            connection.close()  # this thread's own connection
        with record:
            outcomes.append(outcome)

    threads = [threading.Thread(target=join, args=(p,)) for p in partners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["already_member"] * (THREADS - 1) + ["started"]
    current = Membership.objects.filter(person=person, ended__isnull=True)
    assert current.count() == 1
    assert Membership.objects.filter(person=person).count() == 1
