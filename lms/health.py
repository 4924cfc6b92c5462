"""GET /healthz: is this web machine able to serve? (database and job queue)

200 when the database answers; 503 when it does not. The queue is reported
but does not fail the check: a web machine can serve while workers catch up.
"""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not serving"
        logger.warning("healthz: database unreachable: %s", exc)
        return {"ok": False, "vendor": connection.vendor}
    return {"ok": True, "vendor": connection.vendor}


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
        return {
            "ok": bool(broker.ping()),
            "broker": type(broker).__name__.lower(),
            "pending": broker.queue_size(),
        }
    except Exception as exc:
        logger.warning("healthz: queue unreachable: %s", exc)
        return {"ok": False, "broker": None, "pending": None}


@never_cache
@require_GET
def healthz(request):
    database = database_status()
    queue = queue_status() if database["ok"] else {"ok": False, "broker": None, "pending": None}
    body = {
        "status": "ok" if database["ok"] else "unavailable",
        "database": database,
        "queue": queue,
    }
    return JsonResponse(body, status=200 if database["ok"] else 503)
