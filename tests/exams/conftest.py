import pytest

from tests.exams.factories import make_exam
from tests.lms.factories import MODEL_BACKEND, UserFactory


@pytest.fixture
def learner(db):
    return UserFactory(email="learner@example.com")


@pytest.fixture
def other(db):
    return UserFactory(email="other@example.com")


@pytest.fixture
def exam(db):
    return make_exam()


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner, backend=MODEL_BACKEND)
    return client
