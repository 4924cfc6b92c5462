"""Every failure of the API is JSON `{detail, code}` with the right status."""

from io import BytesIO

import pytest
from django.test import Client, RequestFactory

from lms import api as api_module
from lms import tokens
from lms.api_input import PayloadTooLarge, read_body_limited
from lms.errors import Conflict, PermissionDenied
from tests.lms.api.helpers import assert_error, csrf_token_for

TOKEN_URL = "/api/v1/auth/token"


def post_raw(client, path, body, **extra):
    return client.generic("POST", path, body, content_type="application/json", **extra)


# --- 401 --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/auth/tokens"])
def test_anonymous_gets_401_json(api_client, path):
    response = api_client.get(path)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_anonymous_post_gets_401_not_a_csrf_error():
    response = Client(enforce_csrf_checks=True).patch(
        "/api/v1/me", {"legal_name": "X"}, content_type="application/json"
    )
    assert_error(response, 401, "not_authenticated")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer ", "Bearer", "Bearer " + "x" * 10_000, "Bearer caf\u00e9"],
)
def test_bad_bearer_token_is_401_invalid_token(api_client, header):
    response = api_client.get("/api/v1/me", headers={"Authorization": header})
    assert_error(response, 401, "invalid_token")


# --- 400 malformed JSON -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"{bad",
        b'{"email": "a@example.com",}',
        b"\xff\xfe\x00garbage",
        b"NaN",
        b'{"email": Infinity}',
        b"[" * 50_000,
        b"1" * 5_000,
        b'{"email": "a@example.com"} trailing',
    ],
    ids=[
        "syntax",
        "trailing-comma",
        "bad-utf8",
        "nan",
        "infinity",
        "deep-nesting",
        "huge-int",
        "trailing-data",
    ],
)
def test_malformed_json_is_400(api_client, body):
    response = post_raw(api_client, TOKEN_URL, body)
    assert_error(response, 400, "malformed_json")


# --- 422 validation -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"1", b"true", b"{}"])
def test_non_object_or_empty_json_is_422(api_client, body):
    response = post_raw(api_client, TOKEN_URL, body)
    body = assert_error(response, 422, "validation_error")
    assert body["errors"] and all({"loc", "msg", "type"} <= set(e) for e in body["errors"])


@pytest.mark.django_db
def test_missing_body_is_422(api_client):
    response = post_raw(api_client, TOKEN_URL, b"")
    assert_error(response, 422, "validation_error")


@pytest.mark.django_db
def test_form_encoded_body_is_415(api_client):
    response = api_client.post(TOKEN_URL, {"email": "a@example.com", "password": "x"})
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_unknown_field_is_422_naming_it(api_client):
    response = api_client.post(
        TOKEN_URL,
        {"email": "a@example.com", "password": "x", "is_superuser": True},
        content_type="application/json",
    )
    body = assert_error(response, 422, "validation_error")
    assert any("is_superuser" in e["loc"] for e in body["errors"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [
        {"email": 1, "password": "x"},
        {"email": "a@example.com", "password": ["x"]},
        {"email": {"$ne": ""}, "password": "x"},
        {"email": None, "password": "x"},
        {"email": "a\x00@example.com", "password": "x"},
        {"email": "a@example.com", "password": "x\x00"},
        {"email": "a@example.com", "password": ""},
        {"email": "a" * 300 + "@example.com", "password": "x"},
        {"email": "a@example.com", "password": "x", "name": "n" * 101},
        {"email": "a@example.com", "password": "x" * 5000},
    ],
)
def test_wrong_types_and_sizes_are_422(api_client, payload):
    response = api_client.post(TOKEN_URL, payload, content_type="application/json")
    assert_error(response, 422, "validation_error")


# --- 413 ----------------------------------------------------------------------


@pytest.mark.django_db
def test_declared_content_length_over_limit_is_413(api_client, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = post_raw(api_client, TOKEN_URL, b"{}", CONTENT_LENGTH="1000000")
    assert_error(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_actual_body_over_limit_is_413(api_client, settings):
    settings.API_MAX_BODY_BYTES = 100
    body = b'{"email": "' + b"a" * 200 + b'", "password": "x"}'
    response = post_raw(api_client, TOKEN_URL, body)
    assert_error(response, 413, "payload_too_large")


@pytest.mark.django_db
def test_body_at_limit_is_parsed(api_client, settings):
    body = b'{"email": "nobody@example.com", "password": "x"}'
    settings.API_MAX_BODY_BYTES = len(body)
    response = post_raw(api_client, TOKEN_URL, body)
    assert_error(response, 401, "invalid_credentials")


@pytest.mark.django_db
def test_invalid_content_length_is_400(api_client):
    response = post_raw(api_client, TOKEN_URL, b"{}", CONTENT_LENGTH="lots")
    assert_error(response, 400, "bad_request")


def test_chunked_body_without_length_is_read_at_most_limit_plus_one():
    # A chunked request has no Content-Length; the stream must not be read whole.
    request = RequestFactory().post("/api/v1/auth/token", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    stream = BytesIO(b"x" * 10_000)
    request._stream = stream
    with pytest.raises(PayloadTooLarge):
        read_body_limited(request, 100)
    assert stream.tell() == 101


def test_chunked_body_within_limit_becomes_request_body():
    request = RequestFactory().post("/api/v1/auth/token", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request._stream = BytesIO(b'{"a": 1}')
    read_body_limited(request, 100)
    assert request.body == b'{"a": 1}'


# --- 403 ----------------------------------------------------------------------


@pytest.mark.django_db
def test_session_write_without_csrf_is_403_csrf_failed(csrf_client, user):
    response = csrf_client.patch(
        "/api/v1/me", {"legal_name": "Changed"}, content_type="application/json"
    )
    assert_error(response, 403, "csrf_failed")
    user.refresh_from_db()
    assert user.legal_name != "Changed"


@pytest.mark.django_db
def test_session_write_with_csrf_token_is_allowed(csrf_client):
    token = csrf_token_for(csrf_client)
    response = csrf_client.patch(
        "/api/v1/me",
        {"legal_name": "Changed"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_session_read_needs_no_csrf_token(csrf_client):
    assert csrf_client.get("/api/v1/me").status_code == 200


@pytest.mark.django_db
def test_domain_permission_denied_is_403(api_client, bearer, monkeypatch):
    def deny(user):
        raise PermissionDenied("Not yours.")

    monkeypatch.setattr(api_module, "me_payload", deny)
    response = api_client.get("/api/v1/me", headers=bearer)
    assert_error(response, 403, "permission_denied")


@pytest.mark.django_db
def test_django_permission_denied_is_403(api_client, bearer, monkeypatch):
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

    def deny(user):
        raise DjangoPermissionDenied

    monkeypatch.setattr(api_module, "me_payload", deny)
    response = api_client.get("/api/v1/me", headers=bearer)
    assert_error(response, 403, "permission_denied")


# --- 404 / 405 ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/me/deeper/still", "/api/v1/"])
def test_unknown_api_path_is_404_json(api_client, method, path):
    response = api_client.generic(method, path)
    assert_error(response, 404, "not_found")


@pytest.mark.django_db
def test_wrong_method_is_405_json(api_client):
    response = api_client.put("/api/v1/me", {}, content_type="application/json")
    assert_error(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"]


# --- 409 ------------------------------------------------------------------------


@pytest.mark.django_db
def test_domain_conflict_is_409_with_code(api_client, user, monkeypatch):
    monkeypatch.setattr(tokens, "MAX_ACTIVE_TOKENS_PER_USER", 1)
    tokens.token_create(user=user)
    response = api_client.post(
        TOKEN_URL,
        {"email": user.email, "password": "correct-horse-battery"},
        content_type="application/json",
    )
    assert_error(response, 409, "too_many_tokens")


@pytest.mark.django_db
def test_domain_error_extra_is_included(api_client, bearer, monkeypatch):
    def conflict(user):
        raise Conflict("Busy.", code="already_running", attempt_id=7)

    monkeypatch.setattr(api_module, "me_payload", conflict)
    body = assert_error(api_client.get("/api/v1/me", headers=bearer), 409, "already_running")
    assert body["attempt_id"] == 7


# --- 500 ------------------------------------------------------------------------


@pytest.mark.django_db
def test_unexpected_error_is_generic_500_json(bearer, monkeypatch):
    def boom(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api_module, "me_payload", boom)
    # The handler signals got_request_exception like Django does (error
    # reporting); the test client would re-raise it unless told not to.
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/me", headers=bearer)
    body = assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.content.decode()
    assert set(body) == {"detail", "code"}


# --- unreadable form bodies (whatever reads request.POST first) ------------------------


@pytest.mark.django_db
def test_session_post_with_multipart_without_boundary_is_400(csrf_client):
    # The session's CSRF check reads request.POST, which Django cannot parse here.
    token = csrf_token_for(csrf_client)
    response = csrf_client.generic(
        "POST",
        "/api/v1/courses/anything/enrolment",
        b"--x\r\n\r\n",
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert_error(response, 400, "bad_request")


@pytest.mark.django_db
def test_session_post_with_too_many_form_fields_is_400(csrf_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    token = csrf_token_for(csrf_client)
    response = csrf_client.generic(
        "POST",
        "/api/v1/courses/anything/enrolment",
        "&".join(f"f{i}=1" for i in range(50)),
        content_type="application/x-www-form-urlencoded",
        headers={"X-CSRFToken": token},
    )
    assert_error(response, 400, "bad_request")


@pytest.mark.django_db
def test_json_nested_deeper_than_the_limit_is_400(api_client):
    body = b'{"email": ' + b"[" * 40 + b"]" * 40 + b', "password": "x"}'
    body = assert_error(post_raw(api_client, TOKEN_URL, body), 400, "malformed_json")
    assert "deeper" in body["detail"]


@pytest.mark.django_db
def test_json_nested_within_the_limit_reaches_validation(api_client):
    body = b'{"email": ' + b"[" * 10 + b"]" * 10 + b', "password": "x"}'
    assert_error(post_raw(api_client, TOKEN_URL, body), 422, "validation_error")


@pytest.mark.django_db
def test_nul_anywhere_in_the_body_names_its_place(api_client):
    body = b'{"email": "a@example.com", "password": "x", "name": ["ok", {"k": "\\u0000"}]}'
    errors = assert_error(post_raw(api_client, TOKEN_URL, body), 422, "validation_error")["errors"]
    assert errors == [
        {
            "loc": ["body", "name", "1", "k"],
            "msg": "must not contain NUL characters",
            "type": "value_error",
        }
    ]


@pytest.mark.django_db
def test_json_with_charset_parameter_is_accepted(api_client):
    response = api_client.generic(
        "POST",
        TOKEN_URL,
        b'{"email": "nobody@example.com", "password": "x"}',
        content_type="application/json; charset=utf-8",
    )
    assert_error(response, 401, "invalid_credentials")
