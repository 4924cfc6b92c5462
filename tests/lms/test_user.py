import pytest
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError

pytestmark = pytest.mark.django_db


def test_email_login_is_case_insensitive(rf):
    User = get_user_model()
    User.objects.create_user(email="Ada@Example.com", password="a-long-passphrase")
    request = rf.post("/accounts/login/")
    user = authenticate(request, username="ADA@example.COM", password="a-long-passphrase")
    assert user is not None


def test_duplicate_email_differing_in_case_is_refused_by_the_database():
    User = get_user_model()
    User.objects.create_user(email="ada@example.com", password="x" * 12)
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="ADA@EXAMPLE.COM")])


def test_display_name_prefers_legal_name():
    User = get_user_model()
    user = User(email="ada@example.com", first_name="Ada", legal_name="Augusta Ada King")
    assert user.display_name == "Augusta Ada King"
