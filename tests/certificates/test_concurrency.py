"""20 parallel triggers issue one credential (real parallel calls on PostgreSQL)."""

import threading

import pytest
from django.db import connection

from certificates import selectors, services
from certificates.models import Credential, CredentialEvent
from tests.certificates.factories import CertificationFactory, meet_requirements
from tests.lms.factories import UserFactory

THREADS = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def run_together(target, count):
    barrier = threading.Barrier(count)
    outcomes = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=10)
            outcome = target()
        except Exception as error:  # surfaced by the assertions
            outcome = error
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("friendly_check", [True, False], ids=["with-check", "constraint-only"])
def test_parallel_triggers_issue_one_credential(friendly_check, monkeypatch):
    person = UserFactory()
    certification = CertificationFactory()
    meet_requirements(person=person, certification=certification)
    monkeypatch.setattr(services, "_queue_render", lambda credential_id: None)
    if not friendly_check:
        # Every thread's Python check says "none held": the constraint alone decides.
        real = selectors.credential_active_for
        local = threading.local()

        def blind(**kwargs):
            if not getattr(local, "seen", False):
                local.seen = True
                return None
            return real(**kwargs)

        monkeypatch.setattr(selectors, "credential_active_for", blind)

    outcomes = run_together(
        lambda: services.credential_issue_if_eligible(person=person, certification=certification),
        THREADS,
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    credential = Credential.objects.get(person=person)
    assert {o[0].pk for o in outcomes} == {credential.pk}
    assert sum(1 for o in outcomes if o[1]) == 1
    assert CredentialEvent.objects.filter(credential=credential).count() == 1
