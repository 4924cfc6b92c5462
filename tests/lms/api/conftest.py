import pytest
from django.test import Client

from lms.tokens import token_create
from tests.lms.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory(email="learner@example.com")


@pytest.fixture
def token(user):
    """(ApiToken, plain token) for `user`."""
    return token_create(user=user, name="ci")


@pytest.fixture
def bearer(token):
    """Headers that authenticate as `user` with a personal token."""
    return {"Authorization": f"Bearer {token[1]}"}


@pytest.fixture
def api_client():
    return Client()


@pytest.fixture
def csrf_client(user):
    """A browser: signed in with a session, CSRF enforced."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
