"""503 with Retry-After when the database has no connection to give.

Contract:
- A request that cannot get a database connection because the server is
  full is answered 503 with `Retry-After: 5`: under /api/ as JSON
  `{"detail", "code": "overloaded"}`, elsewhere as a small page. Never a 500
  (a reason to give up) and never a reset connection: the exam page's queue
  and API clients read it as "try again shortly".
- "Full" means: the connection pool lent every connection and none came back
  within DB_POOL_TIMEOUT (`psycopg_pool.PoolTimeout`, which Django re-raises
  as `django.db.OperationalError` with the PoolTimeout as its cause), or
  PostgreSQL refused a new connection ("too many clients", slots reserved,
  starting up or shutting down, connection refused), or dropped the one in
  use because it is restarting (SQLSTATE class 08 "connection exception",
  57P01-57P03 "admin shutdown", "crash shutdown", "cannot connect now";
  "server closed the connection unexpectedly"). The transaction of such a
  request was rolled back, so "try again" is the truth; the pool replaces the
  broken connection (it checks each one it lends), so the site recovers when
  PostgreSQL is back, without a restart. Other database errors are not
  ours: they stay 500s.
- A request with cookies or an Authorization header (a session or a token
  to look up: every signed-in request) takes its connection when it starts,
  so a crowd waits in one place and gets a clean 503; `/healthz` is left to
  answer its own 503. Errors met later, or by requests without either, in a
  view or another middleware, are turned into the same 503 (the API's
  catch-all handler logs those before they are).
- Logged as one warning line per burst (at most one every LOG_EVERY seconds,
  with the count of the ones not logged), not a traceback per request.
"""

import logging
import sys
import threading
import time

from django.core.signals import got_request_exception
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER = 5
LOG_EVERY = 10.0
OVERLOADED_CODE = "overloaded"
MESSAGE = "The service is busy right now. Please try again in a few seconds."
_MARK = "_academy_overloaded"
# Lower-cased fragments of the errors PostgreSQL and libpq give when no new
# connection can be made (the server's messages are in English by default).
_REFUSED = (
    "too many clients",
    "remaining connection slots are reserved",
    "the database system is starting up",
    "the database system is shutting down",
    "connection refused",
    "terminating connection due to administrator command",
    "server closed the connection unexpectedly",
    "the connection is closed",
    "the connection is lost",
    "consuming input failed",
)
# SQLSTATEs of a connection PostgreSQL refused or dropped: class 08, too many
# connections, and the shutdown/restart ones.
_REFUSED_SQLSTATE_CLASSES = ("08",)
_REFUSED_SQLSTATES = {"53300", "57P01", "57P02", "57P03"}

_log_lock = threading.Lock()
_log_state = {"last": 0.0, "suppressed": 0}


def is_overload_error(exc: BaseException | None) -> bool:
    """True for the errors that mean "no connection available", wrapped or not."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__name__ == "PoolTimeout" and type(exc).__module__.startswith("psycopg_pool"):
            return True
        sqlstate = getattr(exc, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate in _REFUSED_SQLSTATES or sqlstate.startswith(_REFUSED_SQLSTATE_CLASSES)
        ):
            return True
        if type(exc).__name__ in ("OperationalError", "InterfaceError"):
            text = str(exc).lower()
            if any(fragment in text for fragment in _REFUSED):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def _log(exc: BaseException, path: str) -> None:
    now = time.monotonic()
    with _log_lock:
        if now - _log_state["last"] < LOG_EVERY:
            _log_state["suppressed"] += 1
            return
        suppressed, _log_state["suppressed"] = _log_state["suppressed"], 0
        _log_state["last"] = now
    logger.warning(
        "overloaded: no database connection for %s (%s: %s); answering 503"
        " (%d more since the last warning)",
        path,
        type(exc).__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        suppressed,
    )


def overloaded_response(request) -> HttpResponse:
    """503 + Retry-After: JSON under /api/, a page elsewhere (rendered with no
    database access: no request context, no session, no user)."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE, "code": OVERLOADED_CODE}, status=503)
    else:
        html = render_to_string("overloaded.html", {"message": MESSAGE, "retry_after": RETRY_AFTER})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def _mark_overloaded(sender, request=None, **kwargs):
    # Errors raised inside other middleware never reach ours as exceptions:
    # Django turns them into a 500 answer on the spot, after sending this
    # signal from inside its `except` block. Mark the request; the middleware
    # swaps the 500 for a 503 on the way out.
    exc = sys.exc_info()[1]
    if request is not None and is_overload_error(exc):
        setattr(request, _MARK, exc)


got_request_exception.connect(_mark_overloaded, dispatch_uid="lms.overload")


def _will_need_the_database(request) -> bool:
    # A session cookie or a token is looked up in the database on every
    # request that has one. Others (an anonymous page, the API document) may
    # need no database at all and are not made to wait for a connection.
    return bool(request.COOKIES) or "HTTP_AUTHORIZATION" in request.META


class OverloadMiddleware:
    """Early in MIDDLEWARE (after the static files): see the module docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz" and _will_need_the_database(request):
            try:
                connections[DEFAULT_DB_ALIAS].ensure_connection()
            except Exception as exc:
                if not is_overload_error(exc):
                    raise
                _log(exc, request.path)
                return overloaded_response(request)
        response = self.get_response(request)
        exc = getattr(request, _MARK, None)
        if exc is not None and response.status_code == 500:
            _log(exc, request.path)
            return overloaded_response(request)
        return response

    def process_exception(self, request, exception):
        if is_overload_error(exception):
            _log(exception, request.path)
            return overloaded_response(request)
        return None
