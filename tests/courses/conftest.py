import pytest
from django.contrib.auth.models import Group

from courses.models import CourseIndexPage
from lms.permissions import INSTRUCTORS
from tests.lms.factories import MODEL_BACKEND, UserFactory


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
