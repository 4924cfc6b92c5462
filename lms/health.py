"""GET /healthz: is this web machine able to serve?

Contract:
- Everyone gets only `{"status": "ok"}` (200) when the database answers, or
  `{"status": "unavailable"}` (503) when it does not. That answer costs one
  database round trip and nothing else, so load balancers can poll it often.
- Signed-in staff (`is_staff`) and clients on this machine (`client_ip`, which
  honours TRUSTED_PROXY_COUNT, is a loopback address) also get the details:
  `database`, `queue`, `outbox` and `cache`, each
  `{"status": "ok" | "degraded", ...}`. `outbox` counts the after-commit
  tasks kept in the database (lms.outbox): `pending`, `overdue` (due and not
  queued again yet: the queue or the workers are not keeping up, or Redis is
  down) and `failed` (given up after every attempt: a person must look);
  either of the last two makes it degraded. The public never learns the
  database vendor, the broker or the queue depth.
- Only the database decides the status code: the queue, the outbox and the
  cache are reported but a web machine still serves while workers catch up
  or Redis is down (pages carry on without the cache, sessions are read from
  the database, after-commit work waits in the outbox), and taking every
  machine out of the load balancer would not help.
"""

import logging
import os

from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from lms.client_ip import client_ip, is_loopback

logger = logging.getLogger(__name__)

OK, DEGRADED = "ok", "degraded"


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not serving"
        logger.warning("healthz: database unreachable: %s", exc)
        return False
    return True


_broker = None


def _get_broker():
    # One broker per process: django-q2 builds a new one (with a new Redis
    # connection) on every call, which cost /healthz more than all the rest.
    global _broker
    if _broker is None:
        from django_q.brokers import get_broker

        _broker = get_broker()
    return _broker


def queue_status() -> dict:
    try:
        broker = _get_broker()
        ok = bool(broker.ping())
        return {
            "status": OK if ok else DEGRADED,
            "broker": type(broker).__name__.lower(),
            "pending": broker.queue_size(),
        }
    except Exception as exc:
        logger.warning("healthz: queue unreachable: %s", exc)
        return {"status": DEGRADED, "broker": None, "pending": None}


# One key per process, so two web processes checking at once cannot read each
# other's value and call a broken cache healthy.
_CACHE_KEY = f"healthz:{os.getpid()}"


def cache_status() -> dict:
    """A set/get round trip on the default cache."""
    store = caches["default"]
    token = os.urandom(8).hex()
    try:
        store.set(_CACHE_KEY, token, timeout=30)
        ok = store.get(_CACHE_KEY) == token
    except Exception as exc:  # Redis down: connection refused, timeout
        logger.warning("healthz: cache unreachable: %s", exc)
        ok = False
    return {"status": OK if ok else DEGRADED, "backend": type(store).__name__}


def outbox_status() -> dict:
    from lms.outbox import outbox_counts

    try:
        counts = outbox_counts()
    except Exception as exc:
        logger.warning("healthz: could not count the outbox: %s", exc)
        return {"status": DEGRADED, "pending": None, "overdue": None, "failed": None}
    ok = not counts["overdue"] and not counts["failed"]
    return {"status": OK if ok else DEGRADED, **counts}


def may_see_details(request, *, database_up: bool) -> bool:
    if is_loopback(client_ip(request)):
        return True
    if not database_up:
        return False  # reading the session and the user would need the database
    try:
        user = request.user
        return bool(user.is_authenticated and user.is_active and user.is_staff)
    except Exception as exc:
        logger.warning("healthz: could not read the user: %s", exc)
        return False


@never_cache
@require_GET
def healthz(request):
    database_up = database_ok()
    status_code = 200 if database_up else 503
    body = {"status": "ok" if database_up else "unavailable"}
    if may_see_details(request, database_up=database_up):
        body["database"] = {"status": OK if database_up else DEGRADED, "vendor": connection.vendor}
        body["queue"] = (
            queue_status() if database_up else {"status": DEGRADED, "broker": None, "pending": None}
        )
        body["outbox"] = (
            outbox_status()
            if database_up
            else {"status": DEGRADED, "pending": None, "overdue": None, "failed": None}
        )
        body["cache"] = cache_status()
    return JsonResponse(body, status=status_code)
