"""POST /api/v1/auth/token with a second factor: `otp` for privileged people (OTP_REQUIRED)
and for anyone who turned two-factor authentication on."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_login_failed
from django.test import Client

from lms import two_factor
from lms.models import ApiToken
from lms.permissions import INSTRUCTORS, PROGRAMME_STAFF
from tests.lms.api.helpers import assert_error
from tests.lms.factories import DEFAULT_PASSWORD, UserFactory
from tests.lms.test_two_factor import KEY, code_for, with_app, wrong_code

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"


def ask_token(email, password=DEFAULT_PASSWORD, **fields):
    return Client().post(
        TOKEN_URL, {"email": email, "password": password, **fields}, content_type="application/json"
    )


def person(group=None, **kwargs):
    user = UserFactory(**kwargs)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def failures():
    heard = []

    def receiver(sender, credentials, request=None, **kwargs):
        heard.append(credentials)

    user_login_failed.connect(receiver)
    yield heard
    user_login_failed.disconnect(receiver)


@pytest.fixture
def required(settings):
    settings.OTP_REQUIRED = True


PRIVILEGED = [
    {"group": INSTRUCTORS},
    {"group": PROGRAMME_STAFF},
    {"is_superuser": True, "is_staff": True},
]


@pytest.mark.parametrize("who", PRIVILEGED)
def test_privileged_without_otp_get_otp_required(required, who):
    user = person(**who)
    with_app(user)
    body = assert_error(ask_token(user.email), 401, "otp_required")
    assert "otp" in body["detail"]
    assert not ApiToken.objects.exists()


def test_privileged_without_an_app_are_told_to_set_one_up(required):
    user = person(INSTRUCTORS)
    body = assert_error(ask_token(user.email), 401, "otp_required")
    assert "/accounts/two-factor/" in body["detail"]
    body = assert_error(ask_token(user.email, otp="123456"), 401, "otp_invalid")


@pytest.mark.parametrize("who", PRIVILEGED)
def test_privileged_with_a_wrong_otp_get_otp_invalid_and_a_failed_sign_in(required, failures, who):
    user = person(**who)
    with_app(user)
    assert_error(ask_token(user.email, otp=wrong_code()), 401, "otp_invalid")
    assert failures == [{"username": user.email}]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("who", PRIVILEGED)
def test_privileged_with_the_right_otp_get_a_token(required, who):
    user = person(**who)
    with_app(user)
    response = ask_token(user.email, otp=code_for(KEY))
    assert response.status_code == 201, response.content
    assert ApiToken.objects.get().user == user


def test_a_wrong_password_is_refused_before_the_otp_is_looked_at(required, failures):
    user = person(INSTRUCTORS)
    with_app(user)
    assert_error(
        ask_token(user.email, "wrong-password", otp=code_for(KEY)), 401, "invalid_credentials"
    )
    # The code was not spent: it still works with the right password.
    assert ask_token(user.email, otp=code_for(KEY)).status_code == 201


def test_a_learner_who_turned_it_on_needs_otp_even_when_not_required(failures):
    user = person()
    codes = with_app(user)
    assert_error(ask_token(user.email), 401, "otp_required")
    assert_error(ask_token(user.email, otp=wrong_code()), 401, "otp_invalid")
    assert len(failures) == 1
    response = ask_token(user.email, otp=codes[0])  # a recovery code works too …
    assert response.status_code == 201, response.content
    assert_error(ask_token(user.email, otp=codes[0]), 401, "otp_invalid")  # … once
    assert two_factor.recovery_codes_remaining(user) == 9


def test_a_used_app_code_cannot_be_replayed():
    user = person()
    with_app(user)
    code = code_for(KEY)
    assert ask_token(user.email, otp=code).status_code == 201
    assert_error(ask_token(user.email, otp=code), 401, "otp_invalid")


def test_a_right_code_straight_after_a_wrong_one_is_asked_to_wait(failures):
    user = person()
    with_app(user)
    assert_error(ask_token(user.email, otp=wrong_code()), 401, "otp_invalid")
    response = ask_token(user.email, otp=code_for(KEY))
    assert_error(response, 429, "otp_throttled")
    assert int(response["Retry-After"]) >= 1
    assert len(failures) == 1


@pytest.mark.parametrize("required_setting", [True, False])
def test_a_learner_without_an_app_needs_no_otp(settings, required_setting):
    settings.OTP_REQUIRED = required_setting
    user = person()
    assert ask_token(user.email).status_code == 201
    # An otp sent anyway is ignored.
    assert ask_token(user.email, otp="123456").status_code == 201


def test_with_otp_required_off_privileged_people_without_an_app_sign_in_as_before():
    user = person(PROGRAMME_STAFF, is_staff=True)
    assert ask_token(user.email).status_code == 201


@pytest.mark.parametrize(
    "otp",
    ["1" * 17, "12345\u0000", "12;456", "<script>", "ü23456", 123456, ["123456"], {"a": 1}],
)
def test_malformed_otp_is_422_validation_error(otp):
    user = person()
    with_app(user)
    body = assert_error(ask_token(user.email, otp=otp), 422, "validation_error")
    assert any(error["loc"][-1] == "otp" for error in body["errors"])


@pytest.mark.parametrize("otp", ["12345", "abcdefgh1", "abc", "1234 5"])
def test_otp_of_the_wrong_shape_is_otp_invalid(otp):
    user = person()
    with_app(user)
    assert_error(ask_token(user.email, otp=otp), 401, "otp_invalid")


@pytest.mark.parametrize("otp", ["", None])
def test_empty_otp_counts_as_missing(otp):
    user = person()
    with_app(user)
    assert_error(ask_token(user.email, otp=otp), 401, "otp_required")


def test_the_openapi_document_shows_otp_and_its_errors():
    schema = Client().get("/api/v1/openapi.json").json()
    fields = schema["components"]["schemas"]["TokenCreateIn"]["properties"]
    assert fields["otp"]["anyOf"][0]["maxLength"] == 16
    assert "otp" not in schema["components"]["schemas"]["TokenCreateIn"].get("required", [])
