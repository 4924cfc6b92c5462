"""Hostile input, refused once for every API endpoint (used by lms.api).

- `StrictJSONParser`: a body must be `application/json` (415
  `unsupported_media_type`), must parse (400 `malformed_json`: bad syntax,
  invalid UTF-8, NaN, nesting deeper than MAX_JSON_DEPTH) and may hold no
  string or number a database column could not store (422 `validation_error`:
  NUL, unpaired surrogates, integers outside 64 bits).
- `check_multipart_boundary`: a multipart body without a usable boundary is
  400 `bad_request` before anything (the CSRF check included) reads it.
- `check_query_storable`: NUL in a query parameter is 422.
- `read_body_limited`: the body is read at most `limit` + 1 bytes (413
  `payload_too_large`), chunked bodies included.
"""

import json
import math
from io import BytesIO

from django.http import UnreadablePostError
from django.http.multipartparser import MultiPartParser
from django.utils.http import parse_header_parameters
from ninja.errors import ValidationError
from ninja.parser import Parser

from lms.errors import DomainError


class MalformedJSON(DomainError):
    status = 400
    code = "malformed_json"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


JSON_CONTENT_TYPE = "application/json"
MULTIPART_CONTENT_TYPE = "multipart/form-data"
# Deeper than any body of ours; bounds the work a body can cause.
MAX_JSON_DEPTH = 32
MIN_INT64, MAX_INT64 = -(2**63), 2**63 - 1


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def unstorable_text_reason(value: str) -> str | None:
    """Why no database text column could store `value` (None when it could).

    PostgreSQL refuses NUL outright, and an unpaired UTF-16 surrogate (which
    JSON's \\ud800 escapes and Python's own decoding let through) cannot be
    encoded to UTF-8 at all: both would be a 500 from the driver.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no unpaired surrogates)"
    return None


def json_value_errors(value, loc: tuple = ("body",)) -> list[dict]:
    """Validation errors (ninja's shape) for what no column could hold, at any depth.

    Strings and object keys with NUL or unpaired surrogates, integers outside
    64 bits and non-finite numbers (1e999 parses as infinity) are errors;
    nesting beyond MAX_JSON_DEPTH is MalformedJSON.
    """
    errors: list[dict] = []
    stack = [(value, loc, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            reason = unstorable_text_reason(item)
            if reason:
                errors.append({"loc": where, "msg": reason, "type": "value_error"})
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not MIN_INT64 <= item <= MAX_INT64:
                errors.append(
                    {"loc": where, "msg": "must fit in 64 bits", "type": "int_out_of_range"}
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                errors.append({"loc": where, "msg": "must be finite", "type": "finite_number"})
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise MalformedJSON(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and unstorable_text_reason(key):
                    errors.append(
                        {"loc": (*where, key), "msg": "invalid key", "type": "value_error"}
                    )
                    continue
                stack.append((child, (*where, key), depth + 1))
    return errors


class StrictJSONParser(Parser):
    """json.loads for `application/json` bodies; every failure is a 4xx (never a 500).

    Another content type is 415 `unsupported_media_type`. Bad syntax, bad
    UTF-8, NaN/Infinity, integers too long to convert and nesting deeper than
    MAX_JSON_DEPTH are 400 `malformed_json`. Valid JSON holding what the
    database cannot store (see json_value_errors) is 422 `validation_error`.
    ninja calls this only for operations that take a JSON body, and only
    when the body is not empty.
    """

    def parse_body(self, request):
        if request.content_type != JSON_CONTENT_TYPE:
            raise UnsupportedMediaType(
                f"Send the body as {JSON_CONTENT_TYPE} (got {request.content_type or 'none'})."
            )
        try:
            data = json.loads(request.body, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            raise MalformedJSON("The request body is not valid JSON.") from error
        errors = json_value_errors(data)
        if errors:
            raise ValidationError(errors)
        return data


def check_multipart_boundary(request) -> None:
    """400 `bad_request` for a multipart body whose boundary Django cannot use.

    Django raises MultiPartParserError from whatever first reads request.POST
    (django-axes after a failed sign-in, the session's CSRF check), deep in
    code that expects a readable form; refusing here keeps that a 400.
    """
    if request.content_type != MULTIPART_CONTENT_TYPE:
        return
    _, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    boundary = params.get("boundary")
    if not boundary or not MultiPartParser.boundary_re.fullmatch(boundary):
        raise DomainError(
            "The multipart body has no usable boundary in its Content-Type.",
            code="bad_request",
        )


def check_query_storable(request) -> None:
    """422 for a query parameter holding NUL (PostgreSQL cannot compare with it).

    Query strings are decoded with replacement characters, so unpaired
    surrogates cannot get here; %00 can. Path parameters are each endpoint's
    business (a malformed id or slug is its 404 or 422), as are their patterns.
    """
    errors = []
    for key, values in request.GET.lists():
        if unstorable_text_reason(key):
            errors.append(
                {"loc": ("query",), "msg": "invalid parameter name", "type": "value_error"}
            )
            continue
        for value in values:
            reason = unstorable_text_reason(value)
            if reason:
                errors.append({"loc": ("query", key), "msg": reason, "type": "value_error"})
    if errors:
        raise ValidationError(errors)


def read_body_limited(request, limit: int) -> None:
    """Load the request body, refusing more than `limit` bytes (PayloadTooLarge).

    Content-Length is checked first; the body itself is then read at most
    limit + 1 bytes, which also bounds chunked bodies that have no
    Content-Length. The bytes read become `request.body` as Django would
    have set it. Multipart uploads are left to the endpoint that takes them.
    """
    if request.content_type == "multipart/form-data":
        # File uploads stream through Django's upload handlers; an upload
        # endpoint sets and checks its own size limit.
        return
    if hasattr(request, "_body"):
        if len(request._body) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        return
    raw_length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared = int(raw_length)
    except ValueError:
        raise DomainError("Invalid Content-Length header.", code="bad_request") from None
    if declared < 0:
        raise DomainError("Invalid Content-Length header.", code="bad_request")
    if declared > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    if getattr(request, "_read_started", False):
        return
    try:
        body = request.read(limit + 1)
    except UnreadablePostError:  # the client went away mid-body
        raise DomainError("The request body could not be read.", code="bad_request") from None
    if len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    request._body = body
    request._stream = BytesIO(body)
