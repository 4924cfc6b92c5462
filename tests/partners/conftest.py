import pytest
from django.contrib.auth.models import Group

from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from tests.lms.factories import UserFactory


@pytest.fixture
def staff_user(db):
    user = UserFactory(email="staff@example.com")
    user.groups.add(Group.objects.get(name=PROGRAMME_STAFF))
    return user


@pytest.fixture
def instructor(db):
    user = UserFactory(email="instructor@example.com")
    user.groups.add(Group.objects.get(name=INSTRUCTORS))
    return user
