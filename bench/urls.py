"""The project's URLs plus the baseline (a bare Django view returning {}) and
two reference rows that show what the database alone costs a request on this
machine: one prepared SELECT of an answer row, and one durable UPDATE of it
(autocommit: PostgreSQL flushes its WAL before answering), with no
authentication, no checks and no framework around them. An answer save does
at least that UPDATE, so its ratio cannot pass the UPDATE row's."""

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone

from cms.urls import urlpatterns as project_urlpatterns
from exams.models import AttemptItem

_TABLE = AttemptItem._meta.db_table


def empty(request):
    return JsonResponse({})


def select_item(request, item_id: int):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "flagged" FROM "{_TABLE}" WHERE "id" = %s', [item_id])  # noqa: S608
        cursor.fetchone()
    return JsonResponse({})


def update_item(request, item_id: int):
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{_TABLE}" SET "answered_at" = %s WHERE "id" = %s',  # noqa: S608
            [timezone.now(), item_id],
        )
    return JsonResponse({})


urlpatterns = [
    path("bench/empty", empty),
    path("bench/select-item/<int:item_id>", select_item),
    path("bench/update-item/<int:item_id>", update_item),
    *project_urlpatterns,
]
