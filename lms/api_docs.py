"""The error answers of the OpenAPI document, added centrally (used by lms.api).

`document_error_responses(schema)` adds to every operation the error answers it
can give (400, 404, 413, 422 and 429 with `Retry-After`; 401 and 403 when it
needs authentication; 415 when it takes a body), so a new endpoint is
described without anyone listing them. `document_integer_bounds` adds the
64-bit range the parser enforces to every integer.
"""

from lms.api_input import MAX_INT64, MIN_INT64

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
VALIDATION_ERROR_SCHEMA = {
    "title": "ValidationError",
    "type": "object",
    "properties": {
        **ERROR_SCHEMA["properties"],
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        },
    },
    "required": ["detail", "code"],
}
# Answers any operation can give, whatever it does: the body guard and the
# query check run before every view.
COMMON_ERRORS = {
    400: "Unreadable body (`malformed_json`, `bad_request`)",
    404: "Not found (`not_found` or the endpoint's own code)",
    413: "Body too large (`payload_too_large`)",
    422: "Invalid parameters or fields (`validation_error` or the endpoint's own code)",
    429: "Too many requests (`too_many_requests`, `too_many_attempts`); see Retry-After",
}
AUTHENTICATED_ERRORS = {
    401: "Not signed in, or a bad token (`not_authenticated`, `invalid_token`, …)",
    403: "Not allowed (`permission_denied`, `csrf_failed`)",
}
BODY_ERRORS = {415: "Unsupported Content-Type (`unsupported_media_type`)"}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}


def document_error_responses(schema: dict) -> dict:
    """Add the `{detail, code}` answers every operation can give to its responses.

    Endpoints list their own success and domain answers; the ones that come
    from the API root (auth, body guard, parser, throttles) are added here so
    the document stays true for every endpoint without anyone repeating them.
    An endpoint's own entry for a status is kept.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ApiError"] = ERROR_SCHEMA
    components["ApiValidationError"] = VALIDATION_ERROR_SCHEMA
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(COMMON_ERRORS)
            if operation.get("security"):
                errors.update(AUTHENTICATED_ERRORS)
            if "requestBody" in operation or method in UNSAFE_METHODS:
                errors.update(BODY_ERRORS)
            responses = operation["responses"]
            for status, description in sorted(errors.items()):
                reference = "ApiValidationError" if status == 422 else "ApiError"
                entry = responses.setdefault(str(status), {"description": description})
                entry.setdefault("description", description)
                entry["content"] = {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{reference}"}}
                }
                if status == 429:
                    entry["headers"] = {
                        "Retry-After": {
                            "description": "Seconds to wait before trying again",
                            "schema": {"type": "string"},
                        }
                    }
    return schema


def document_integer_bounds(node) -> None:
    """Give every integer in the document the 64-bit range the parser enforces."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("minimum", MIN_INT64)
            node.setdefault("maximum", MAX_INT64)
        for child in node.values():
            document_integer_bounds(child)
    elif isinstance(node, list):
        for child in node:
            document_integer_bounds(child)
