import pytest
from django.contrib.auth.models import Group
from wagtail.test.utils import page_tests

from courses.models import CourseIndexPage
from lms.permissions import INSTRUCTORS
from tests.lms.factories import UserFactory

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def _model_backend_for_wagtail_helpers(monkeypatch):
    # Wagtail's helpers sign in with AUTHENTICATION_BACKENDS[0] (axes' guard-only backend).
    monkeypatch.setattr(page_tests, "AUTH_BACKEND", MODEL_BACKEND)


@pytest.fixture
def catalogue(db):
    return CourseIndexPage.objects.get()


@pytest.fixture
def learner(db):
    return UserFactory(email="learner@example.com")


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner, backend=MODEL_BACKEND)
    return client


@pytest.fixture
def instructor(db):
    user = UserFactory(email="instructor@example.com")
    user.groups.add(Group.objects.get(name=INSTRUCTORS))
    return user
