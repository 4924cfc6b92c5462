"""Hostile request bodies and parameters never give a 500, and never store anything.

The operations come from the OpenAPI document, so an endpoint added later is
covered without anyone adding it here. Every request authenticates as a
superuser with a valid token, so it gets past auth and reaches the body
handling. Runs on SQLite and, with DATABASE_URL, on PostgreSQL (which refuses
NUL and unpaired surrogates with a database error rather than a message).
"""

import json
import re

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cms.api import api
from lms.api_input import MAX_JSON_DEPTH
from lms.tokens import token_create
from tests.exams.project_factories import ProjectBriefFactory
from tests.lms.factories import UserFactory

BODY_CODES = {
    "bad_request",
    "malformed_json",
    "unsupported_media_type",
    "payload_too_large",
    "validation_error",
}
WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# Signing in with a token stamps its last use; that is the only write allowed.
ALLOWED_WRITE = re.compile(r'^\s*UPDATE\s+"lms_apitoken"', re.IGNORECASE)
UPLOAD_SLUG = "hostile-upload"


def _schema() -> dict:
    return api.get_openapi_schema(path_prefix="/api/v1/")


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _operations_with_body() -> list[tuple[str, str, str]]:
    """(method, path template, media type) of every operation that takes a body."""
    found = []
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type in content:
                found.append((method.upper(), path, media_type))
    return sorted(found)


def _operations_with_parameters() -> list[tuple[str, str]]:
    found = []
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            if method == "get" and operation.get("parameters"):
                found.append((method.upper(), path))
    return sorted(found)


def _fill_path(path: str) -> str:
    """A path whose parameters are well-formed (so only the body is wrong)."""
    path = path.replace("{slug}", UPLOAD_SLUG if "/projects/" in path else "northwind")
    path = path.replace("{public_id}", "A" * 24)
    return re.sub(r"\{[a-z_]+\}", "1", path)


def _string_fields(schema: dict, operation: dict, media_type: str) -> dict[str, dict]:
    body = _resolve(schema, operation["requestBody"]["content"][media_type]["schema"])
    fields = {}
    for name, prop in body.get("properties", {}).items():
        prop = _resolve(schema, prop)
        options = prop.get("anyOf", [prop])
        for option in options:
            option = _resolve(schema, option)
            if option.get("type") == "string":
                fields[name] = option
    return fields


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def staff_headers(db):
    user = UserFactory(is_superuser=True, is_staff=True)
    _, plain = token_create(user=user, name="hostile")
    ProjectBriefFactory(slug=UPLOAD_SLUG)
    return {"Authorization": f"Bearer {plain}"}


def send(headers, method: str, path: str, body: bytes, content_type: str | None):
    client = Client(raise_request_exception=False)
    extra = {"headers": headers}
    if content_type is None:
        response = client.generic(method, path, body, **extra)
        return response
    return client.generic(method, path, body, content_type=content_type, **extra)


def assert_refused_and_nothing_stored(headers, method, path, body, content_type, codes):
    before = _row_counts()
    with CaptureQueriesContext(connection) as queries:
        response = send(headers, method, path, body, content_type)
    writes = [
        q["sql"] for q in queries if WRITES.match(q["sql"]) and not ALLOWED_WRITE.match(q["sql"])
    ]
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert payload["code"] in codes, payload
    assert isinstance(payload["detail"], str) and payload["detail"]
    assert writes == []
    assert _row_counts() == before
    return response


def hostile_json_bodies(string_field: str | None) -> list[tuple[str, bytes, str, int, str]]:
    """(id, body, content type, status, code) that every JSON endpoint must refuse."""
    field = string_field or "anything"
    deep = b"[" * (MAX_JSON_DEPTH + 5) + b"]" * (MAX_JSON_DEPTH + 5)
    valid = json.dumps({field: "fine"}).encode()
    return [
        ("multipart-no-boundary", b"--x\r\n\r\n", "multipart/form-data", 400, "bad_request"),
        ("multipart-empty-boundary", valid, "multipart/form-data; boundary=", 400, "bad_request"),
        (
            "multipart-broken-boundary",
            valid,
            "multipart/form-data; boundary=" + "b" * 300,
            400,
            "bad_request",
        ),
        (
            "multipart-well-formed",
            b'--xx\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xx--\r\n',
            "multipart/form-data; boundary=xx",
            415,
            "unsupported_media_type",
        ),
        ("text-plain", valid, "text/plain", 415, "unsupported_media_type"),
        (
            "form-encoded",
            b"a=1",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
        ("no-content-type", valid, None, 415, "unsupported_media_type"),
        (
            "invalid-utf8",
            b'{"' + field.encode() + b'": "\xff\xfe"}',
            "application/json",
            400,
            "malformed_json",
        ),
        (
            "utf8-encoded-surrogate",
            b'{"' + field.encode() + b'": "\xed\xa0\x80"}',
            "application/json",
            422,
            "validation_error",
        ),
        (
            "escaped-surrogate",
            json.dumps({field: "\ud800"}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
        (
            "nul",
            json.dumps({field: "a\x00b"}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
        (
            "nul-deep",
            json.dumps({field: [{"x": {"y": ["\x00"]}}]}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
        (
            "nul-in-key",
            json.dumps({"a\x00": 1}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
        (
            "int-over-64-bits",
            json.dumps({field: 2**64}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
        (
            "int-under-64-bits",
            json.dumps({field: -(2**63) - 1}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
        (
            "nested-int-over-64-bits",
            json.dumps({field: [[2**70]]}).encode(),
            "application/json",
            422,
            "validation_error",
        ),
        (
            "float-overflow",
            b'{"' + field.encode() + b'": 1e999}',
            "application/json",
            422,
            "validation_error",
        ),
        ("int-too-long-to-parse", b"1" * 5000, "application/json", 400, "malformed_json"),
        ("deep-nesting", deep, "application/json", 400, "malformed_json"),
        ("deep-nesting-unclosed", b"[" * 50_000, "application/json", 400, "malformed_json"),
    ]


def _body_cases():
    schema = _schema()
    cases = []
    for method, path, media_type in _operations_with_body():
        operation = schema["paths"][path][method.lower()]
        if media_type == "application/json":
            fields = _string_fields(schema, operation, media_type)
            field = next(iter(fields), None)
            for case_id, body, content_type, status, code in hostile_json_bodies(field):
                cases.append(
                    pytest.param(
                        method,
                        path,
                        body,
                        content_type,
                        status,
                        code,
                        id=f"{method} {path} {case_id}",
                    )
                )
        else:  # multipart uploads
            for case_id, body, content_type, status, code in [
                ("no-boundary", b"--x\r\n\r\n", "multipart/form-data", 400, "bad_request"),
                ("empty-boundary", b"x", "multipart/form-data; boundary=", 400, "bad_request"),
                (
                    "boundary-with-bad-chars",
                    b"x",
                    'multipart/form-data; boundary="a\x01"',
                    400,
                    "bad_request",
                ),
                ("json", b'{"notes": "x"}', "application/json", 415, "unsupported_media_type"),
                ("text-plain", b"notes=x", "text/plain", 415, "unsupported_media_type"),
                (
                    "form-encoded",
                    b"notes=x",
                    "application/x-www-form-urlencoded",
                    415,
                    "unsupported_media_type",
                ),
            ]:
                cases.append(
                    pytest.param(
                        method,
                        path,
                        body,
                        content_type,
                        status,
                        code,
                        id=f"{method} {path} {case_id}",
                    )
                )
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status", "code"), _body_cases()
)
def test_hostile_body_is_refused_with_a_stable_code(
    staff_headers, method, path, body, content_type, status, code
):
    response = assert_refused_and_nothing_stored(
        staff_headers, method, _fill_path(path), body, content_type, BODY_CODES
    )
    assert (response.status_code, response.json()["code"]) == (status, code)


def _too_long_cases():
    schema = _schema()
    cases = []
    for method, path, media_type in _operations_with_body():
        if media_type != "application/json":
            continue
        operation = schema["paths"][path][method.lower()]
        for name, prop in _string_fields(schema, operation, media_type).items():
            if "enum" in prop or "const" in prop:
                continue
            cases.append(pytest.param(method, path, name, prop, id=f"{method} {path} {name}"))
    return cases


def test_every_string_in_a_request_body_has_a_max_length():
    # Without one, a long string reaches the database (a 500 on a varchar column).
    unbounded = [
        (method, path, name)
        for method, path, name, prop in (case.values for case in _too_long_cases())
        if "maxLength" not in prop
    ]
    assert unbounded == []


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "name", "prop"), _too_long_cases())
def test_string_longer_than_the_field_allows_is_422(staff_headers, method, path, name, prop):
    body = json.dumps({name: "a" * (prop["maxLength"] + 1)}).encode()
    response = assert_refused_and_nothing_stored(
        staff_headers, method, _fill_path(path), body, "application/json", {"validation_error"}
    )
    assert response.status_code == 422
    assert any(name in error["loc"] for error in response.json()["errors"])


@pytest.mark.django_db
def test_empty_body_without_content_type_is_a_missing_body_not_415(staff_headers):
    # curl -X PATCH without -d sends no Content-Type: an empty body is simply "no body".
    response = send(staff_headers, "PATCH", "/api/v1/me", b"", None)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


# --- query and path parameters -------------------------------------------------------

HOSTILE_VALUES = ["%00", "a%00b", "%FF%FE", "%ED%A0%80", str(2**64), "-" + str(2**64), "9" * 400]


def _parameter_cases():
    schema = _schema()
    cases = []
    for method, path in _operations_with_parameters():
        operation = schema["paths"][path][method.lower()]
        for parameter in operation["parameters"]:
            for value in HOSTILE_VALUES:
                cases.append(
                    pytest.param(
                        method,
                        path,
                        parameter["in"],
                        parameter["name"],
                        value,
                        id=f"{method} {path} {parameter['in']}:{parameter['name']}={value[:12]}",
                    )
                )
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "where", "name", "value"), _parameter_cases())
def test_hostile_parameter_is_never_a_500(staff_headers, method, path, where, name, value):
    url = _fill_path(path.replace("{" + name + "}", value) if where == "path" else path)
    if where == "query":
        url += f"?{name}={value}"
    with CaptureQueriesContext(connection) as queries:
        response = send(staff_headers, method, url, b"", None)
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response.json()["code"]
    writes = [
        q["sql"] for q in queries if WRITES.match(q["sql"]) and not ALLOWED_WRITE.match(q["sql"])
    ]
    assert writes == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/courses?q=%00", "/api/v1/me?x=%00", "/api/v1/me?%00=1"])
def test_nul_in_any_query_parameter_is_422(staff_headers, path):
    response = send(staff_headers, "GET", path, b"", None)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_error"
