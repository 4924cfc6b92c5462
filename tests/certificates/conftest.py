import pytest

from tests.certificates.factories import CertificationFactory
from tests.lms.factories import UserFactory


@pytest.fixture
def certification(db):
    return CertificationFactory(slug="developer", name="Developer")


@pytest.fixture
def learner(db):
    return UserFactory(email="learner@example.com", legal_name="Ada Lovelace")


@pytest.fixture
def no_render(monkeypatch):
    """Skip the (slow) PDF rendering queued after issuance; record the calls."""
    calls = []
    monkeypatch.setattr(
        "certificates.services._queue_render", lambda credential_id: calls.append(credential_id)
    )
    return calls
