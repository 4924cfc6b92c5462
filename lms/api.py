"""The JSON API at /api/v1/ (django-ninja): its errors, auth and account endpoints.

Every answer that is not a success is `{"detail": str, "code": str}` (plus
`errors` for 422) with a fitting status, never an HTML page:

| status | code |
|---|---|
| 400 | `malformed_json` (a JSON body that is not JSON, or nested deeper than |
|     | MAX_JSON_DEPTH), `bad_request` (any other unreadable body: a multipart |
|     | body with no or a broken boundary, a bad Content-Length) |
|     | `invalid_cursor` (lms.pagination: both cursors, or one not in the list) |
| 401 | `not_authenticated`, `invalid_credentials`, `invalid_token`, `token_expired`, |
|     | `token_revoked`, `otp_required` (the account needs a second factor: send `otp`), |
|     | `otp_invalid` (wrong, used or malformed `otp`) |
|     | `invalid_api_key`, `api_key_expired`, `api_key_revoked` (company API keys) |
| 403 | `csrf_failed`, `permission_denied`, `email_unconfirmed`, `insufficient_scope` |
|     | (a company API key without the scope), `partner_suspended` |
| 404 | `not_found` (also unknown paths under /api/v1/) |
| 405 | `method_not_allowed` |
| 409 | `conflict` and the codes of `lms.errors.Conflict` raised by services |
| 413 | `payload_too_large` (body over settings.API_MAX_BODY_BYTES) |
| 415 | `unsupported_media_type` (JSON endpoints take `application/json`, the |
|     | upload endpoint `multipart/form-data`) |
| 422 | `validation_error` (also: NUL characters or unpaired surrogates in any |
|     | string of the body or the query; integers outside 64 bits) |
| 429 | `too_many_attempts` (sign-in lockout), `too_many_requests` (throttles), |
|     | `otp_throttled` (wrong `otp` codes: wait `Retry-After` seconds) |
| 500 | `internal_error` |

Services raise `lms.errors.DomainError` subclasses; their `status`, `code`,
`message` and `extra` become the answer.

Hostile input is refused here, once, for every endpoint, before a service or
the database sees it: `AcademyAPI._guard_view` bounds the body, checks a
multipart boundary and refuses NUL in query parameters;
`lms.api_input.StrictJSONParser` refuses a body that is not `application/json`, that does not
parse, that nests too deeply, or whose strings or numbers no database column
could hold (PostgreSQL refuses NUL and unpaired surrogates with an error, not a
validation message). `lms.api_docs.document_error_responses` adds the error answers to
every operation of the OpenAPI document, `document_integer_bounds` the 64-bit
range to its integers.

Endpoints accept a personal token (`Authorization: Bearer …`) or the browser
session with CSRF (see lms.api_auth). The apps' routers are mounted on `api`
by the composition root above them (cms.api); higher apps add their fields
to `/me` with `register_me_extension`.
"""

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.signals import got_request_exception
from django.http import Http404, HttpResponseNotAllowed, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, re_path
from ninja import Field, NinjaAPI, Path, Query, Schema, Status, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import AfterValidator, ConfigDict, field_validator

from lms import permissions, services, tokens, two_factor
from lms.api_auth import BearerTokenAuth, CsrfSessionAuth, password_authenticate
from lms.api_docs import document_error_responses, document_integer_bounds
from lms.api_input import (
    StrictJSONParser,
    check_multipart_boundary,
    check_query_storable,
    read_body_limited,
)
from lms.errors import DomainError
from lms.models import ApiToken
from lms.pagination import PageParams, list_page, page_of, paginate
from lms.timezones import TIME_ZONE_MAX_LENGTH

logger = logging.getLogger(__name__)

MAX_ID = 2**63 - 1  # larger ids overflow the database's integer column (500, not 404)

HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


class AcademyAPI(NinjaAPI):
    """NinjaAPI whose every URL answers errors in our JSON shape.

    Each view is wrapped to bound the request body before anything parses it
    (auth's CSRF check reads form bodies too), to refuse a multipart body
    without a usable boundary and query parameters holding NUL, and to turn ninja's bare 405
    into JSON; a last catch-all answers 404 for unknown paths under the API
    instead of letting Wagtail's HTML 404 page do it.
    """

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_integer_bounds(schema.get("components", {}))
        return document_error_responses(schema)

    def _get_urls(self):
        patterns = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern):
                pattern = URLPattern(
                    pattern.pattern,
                    self._guard_view(pattern.callback),
                    pattern.default_args,
                    pattern.name,
                )
            patterns.append(pattern)
        patterns.append(re_path(r"^", self._guard_view(self._unknown_path), name="not-found"))
        return patterns

    def _guard_view(self, view):
        @functools.wraps(view)
        def guarded(request, *args, **kwargs):
            # A registered bearer authenticator (partners' company API keys) sets
            # it to the key; every other caller reads None, never AttributeError.
            request.api_key = None
            try:
                read_body_limited(request, settings.API_MAX_BODY_BYTES)
                check_multipart_boundary(request)
                check_query_storable(request)
            except (DomainError, ValidationError) as error:
                return self.on_exception(request, error)
            try:
                response = view(request, *args, **kwargs)
            except Exception as error:  # ninja's own views (docs, API root) raise Http404
                return self.on_exception(request, error)
            if isinstance(response, HttpResponseNotAllowed):
                allowed = response["Allow"]
                response = self.on_exception(
                    request, HttpError(405, f"Method not allowed here; use {allowed}.")
                )
                response["Allow"] = allowed
            return response

        guarded.csrf_exempt = True  # ninja's views are exempt; auth checks CSRF itself
        return guarded

    def _unknown_path(self, request, *args, **kwargs):
        return self.on_exception(request, Http404("No such API endpoint."))


api = AcademyAPI(
    title="Partner Academy API",
    version="1",
    description=(
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "POST /api/v1/auth/token) or, from the browser, the session cookie plus "
        "the `X-CSRFToken` header. Errors are `{detail, code}`."
    ),
    urls_namespace="api",
    auth=[BearerTokenAuth(), CsrfSessionAuth()],
    parser=StrictJSONParser(),
    # Swagger UI (served from ninja's static files) would otherwise show a badge
    # loaded from validator.swagger.io, handing that site our schema's URL.
    docs=Swagger(settings={"validatorUrl": None}),
)


# --- errors -----------------------------------------------------------------


def error_response(request, *, status: int, code: str, detail: str, **extra):
    response = api.create_response(
        request, {**extra, "detail": detail, "code": code}, status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    response = error_response(
        request, status=exc.status, code=exc.code, detail=exc.message, **exc.extra
    )
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(int(retry_after))
    return response


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors
    ]
    return error_response(
        request,
        status=422,
        code="validation_error",
        detail="Some fields are missing or invalid.",
        errors=errors,
    )


@api.exception_handler(AuthenticationError)
def _authentication_error(request, exc: AuthenticationError):
    return error_response(
        request,
        status=401,
        code="not_authenticated",
        detail="Sign in, or send Authorization: Bearer <token>.",
    )


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    # ninja wraps parser errors ("Cannot parse request body") in HttpError(400).
    if isinstance(exc.__cause__, DomainError):
        return _domain_error(request, exc.__cause__)
    if isinstance(exc.__cause__, ValidationError):
        return _validation_error(request, exc.__cause__)
    code = HTTP_ERROR_CODES.get(exc.status_code, "error")
    if exc.status_code == 403 and "csrf" in exc.message.lower():
        code = "csrf_failed"
    return error_response(request, status=exc.status_code, code=code, detail=exc.message)


@api.exception_handler(Http404)
def _not_found(request, exc: Http404):
    return error_response(request, status=404, code="not_found", detail="Not found.")


@api.exception_handler(DjangoPermissionDenied)
def _permission_denied(request, exc: DjangoPermissionDenied):
    return error_response(
        request,
        status=403,
        code="permission_denied",
        detail="You do not have permission to do this.",
    )


@api.exception_handler(MultiPartParserError)
@api.exception_handler(UnreadablePostError)
def _unreadable_body(request, exc: Exception):
    # A form body Django could not read (cut short, malformed parts), from
    # whichever code read request.POST or request.FILES first.
    return error_response(
        request, status=400, code="bad_request", detail="The request body could not be read."
    )


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc: SuspiciousOperation):
    # Django's own limits on form bodies (DATA_UPLOAD_MAX_*): too large, too
    # many fields or files. Django's handler would answer 400 too, as HTML.
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            request, status=413, code="payload_too_large", detail="The form body is too large."
        )
    return error_response(
        request, status=400, code="bad_request", detail="The request body could not be read."
    )


@api.exception_handler(Exception)
def _unexpected(request, exc: Exception):
    # Log and signal like Django's own 500 handling (error reporting hooks on
    # got_request_exception), but answer JSON, never a page or a traceback.
    logger.error("Unhandled API error on %s %s", request.method, request.path, exc_info=exc)
    got_request_exception.send(sender=None, request=request)
    return error_response(
        request, status=500, code="internal_error", detail="Something went wrong on our side."
    )


# --- shared schema pieces ---------------------------------------------------


def _no_control_characters(value: str) -> str:
    # NUL cannot be stored by PostgreSQL; other control characters have no
    # business in names or e-mail addresses either.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorOut(Schema):
    detail: str
    code: str


# --- auth: tokens -----------------------------------------------------------


class TokenCreateIn(InputSchema):
    email: Text = Field(..., min_length=3, max_length=254)
    # Passwords keep their spaces; only length and NUL are checked here.
    password: Annotated[str, AfterValidator(_no_nul)] = Field(..., min_length=1, max_length=4096)
    name: Text = Field("", max_length=tokens.TOKEN_NAME_MAX_LENGTH)
    otp: str | None = Field(
        None,
        max_length=two_factor.CODE_MAX_LENGTH,
        pattern=r"^[0-9A-Za-z -]*$",
        description="With two-factor authentication: the 6-digit code from the "
        "authenticator app, or an unused recovery code.",
    )

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("email", "name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class TokenCreatedOut(Schema):
    token: str
    expires_at: datetime
    id: int
    name: str
    prefix: str


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@api.post(
    "/auth/token",
    auth=None,
    response={201: TokenCreatedOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 429: ErrorOut},
    tags=["auth"],
    summary="Exchange e-mail and password for a personal API token",
)
def auth_token_create(request, payload: TokenCreateIn):
    """Returns the token once; store it. Failed attempts are throttled per
    account and per IP (429 `too_many_attempts`). Accounts with two-factor
    authentication (and, where it is required, instructors, programme staff and
    administrators) also send `otp`: 401 `otp_required` without it, 401
    `otp_invalid` when it is wrong or already used. An account
    whose e-mail is not confirmed yet gets 403 `email_unconfirmed`."""
    user = password_authenticate(request, email=payload.email, password=payload.password)
    if two_factor.two_factor_required(user):
        _check_token_otp(request, user, payload.otp)
    token, plain = tokens.token_create(user=user, name=payload.name)
    return Status(
        201,
        {
            "token": plain,
            "expires_at": token.expires_at,
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
        },
    )


def _check_token_otp(request, user, otp: str | None) -> None:
    if not otp:
        if two_factor.two_factor_enabled(user):
            detail = (
                "This account uses two-factor authentication: send `otp` with the code "
                "from your authenticator app or a recovery code."
            )
        else:
            detail = (
                "Your role needs two-factor authentication for API tokens: turn it on at "
                "/accounts/two-factor/, then send `otp` with the code from your app."
            )
        raise two_factor.OtpRequired(detail)
    if two_factor.two_factor_verify(user=user, code=otp) is None:
        two_factor.report_failed_code(request=request, user=user)
        raise two_factor.OtpInvalid(
            "That code is not right or has been used; send the code your app shows now."
        )


@api.get(
    "/auth/tokens",
    response={200: page_of(TokenOut), 400: ErrorOut},
    tags=["auth"],
    summary="Your API tokens",
)
def auth_token_list(request, page: Query[PageParams]):
    """Newest first, paginated (the token's `id` is the cursor)."""
    rows, has_more = paginate(
        tokens.token_list_for_user(user=request.auth), page, order=("-created_at", "-id")
    )
    return list_page(rows, has_more)


@api.delete(
    "/auth/tokens/{token_id}",
    response={204: None, 404: ErrorOut},
    tags=["auth"],
    summary="Revoke one of your API tokens",
)
def auth_token_revoke(request, token_id: int = Path(..., ge=1, le=MAX_ID)):
    # Someone else's token answers 404: its existence is none of the caller's business.
    token = get_object_or_404(ApiToken, pk=token_id, user=request.auth)
    tokens.token_revoke(token=token)
    return Status(204, None)


# --- me ---------------------------------------------------------------------


class PartnerRefOut(Schema):
    slug: str
    name: str


class MeOut(Schema):
    id: int
    email: str
    legal_name: str
    first_name: str
    last_name: str
    time_zone: str = Field(
        description="The IANA zone dates and times are shown in on pages and in e-mails; "
        "empty: the site's zone. API timestamps stay ISO 8601 in UTC."
    )
    roles: list[str]
    partner: PartnerRefOut | None
    partner_role: Literal["employee", "admin"] | None


class MePatchIn(InputSchema):
    legal_name: Text | None = Field(None, max_length=200)
    first_name: Text | None = Field(None, max_length=150)
    last_name: Text | None = Field(None, max_length=150)
    # Checked by the service: an unknown zone answers 422 `invalid_time_zone`.
    time_zone: Text | None = Field(
        None,
        max_length=TIME_ZONE_MAX_LENGTH,
        description="An IANA zone such as Europe/Paris, or empty for the site's zone.",
    )

    @field_validator("legal_name", "first_name", "last_name", "time_zone", mode="before")
    @classmethod
    def _not_null(cls, value):
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    @field_validator("legal_name")
    @classmethod
    def _legal_name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the name on certificates cannot be empty")
        return value


def roles_for(user) -> list[str]:
    """Effective roles, most powerful first (programme staff may do what instructors do)."""
    roles = []
    if user.is_superuser:
        roles.append("superuser")
    if permissions.is_programme_staff(user):
        roles.append("programme_staff")
    if permissions.is_instructor(user):
        roles.append("instructor")
    return roles


_me_extensions: list[Callable[[object], dict]] = []


def register_me_extension(extension: Callable[[object], dict]) -> Callable[[object], dict]:
    """Let a higher app fill its part of `/me` (e.g. partners: `partner`, `partner_role`).

    `extension(user)` returns the fields it owns; they must be declared on
    `MeOut`. Apps register in their `ready()`.
    """
    if extension not in _me_extensions:
        _me_extensions.append(extension)
    return extension


def me_extension(user) -> dict:
    fields: dict = {}
    for extension in _me_extensions:
        fields.update(extension(user))
    return fields


def me_payload(user) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "legal_name": user.legal_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "time_zone": user.time_zone,
        "roles": roles_for(user),
        "partner": None,
        "partner_role": None,
        **me_extension(user),
    }


@api.get("/me", response=MeOut, tags=["me"], summary="Who you are")
def me_get(request):
    return me_payload(request.auth)


@api.patch(
    "/me", response={200: MeOut, 422: ErrorOut}, tags=["me"], summary="Edit your names and zone"
)
def me_update(request, payload: MePatchIn):
    """`legal_name` is printed on your certificates exactly as written; `time_zone` is
    where your dates and times are shown (422 `invalid_time_zone` for an unknown zone)."""
    user = request.auth
    changes = payload.model_dump(exclude_unset=True)
    user = services.user_profile_update(
        user=user,
        legal_name=changes.get("legal_name", user.legal_name),
        first_name=changes.get("first_name", user.first_name),
        last_name=changes.get("last_name", user.last_name),
        time_zone=changes.get("time_zone"),
    )
    return Status(200, me_payload(user))
