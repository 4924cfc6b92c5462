"""Each performance shortcut on a library's private name against the best
documented mechanism, measured in the same process (docs/performance.md).

Run: `python -m bench.internals` (SQLite unless DATABASE_URL names PostgreSQL,
on a migrated database with the demo data). Prints one row per
shortcut: microseconds per call for the shortcut and for the documented way,
and the gain. A shortcut stays only where the gain is over 10 %.
"""

import os
import time
from collections.abc import Callable

ROUNDS = int(os.environ.get("BENCH_INTERNALS_ROUNDS", "5"))
CALLS = int(os.environ.get("BENCH_INTERNALS_CALLS", "2000"))


def _per_call_us(fn: Callable[[], object], calls: int = CALLS) -> float:
    """Median over ROUNDS of the mean time of one call, in microseconds."""
    fn()  # warm up (connections, caches, prepared statements)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    times.sort()
    return times[len(times) // 2]


def _row(name: str, ours: float, documented: float, documented_name: str) -> str:
    gain = documented / ours - 1 if ours else 0.0
    return f"| {name} | {ours:,.1f} | {documented_name}: {documented:,.1f} | {gain:+.0%} |"


def health_check_rows() -> list[str]:
    from django.db import connections

    wrapper = connections["default"]
    if wrapper.vendor != "postgresql":
        return []
    # The health check before each request's first query.
    wrapper.ensure_connection()
    base = type(wrapper).__mro__[1]  # Django's own PostgreSQL DatabaseWrapper
    return [
        _row(
            "connection health check (`lms.db_backends.postgresql`)",
            _per_call_us(wrapper.is_usable),
            _per_call_us(lambda: base.is_usable(wrapper)),
            "Django's SELECT 1",
        )
    ]


def parent_rows() -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from courses.models import LessonPage

    lesson = LessonPage.objects.live().first()
    if lesson is None:
        return ["| lesson's course from the routing walk | skipped: no lesson | | |"]
    course = lesson.get_parent()

    def ours():
        fresh = LessonPage.objects.get(pk=lesson.pk)
        fresh._cached_parent_obj = course  # what courses.routing does
        return fresh.get_parent()

    def documented():
        return LessonPage.objects.get(pk=lesson.pk).get_parent()

    with CaptureQueriesContext(connection) as queries:
        ours()
    ours_queries = len(queries)
    with CaptureQueriesContext(connection) as queries:
        documented()
    return [
        _row(
            f"lesson's course from the routing walk (`_cached_parent_obj`, "
            f"{ours_queries} vs {len(queries)} queries)",
            _per_call_us(ours, 300),
            _per_call_us(documented, 300),
            "Page.get_parent()",
        )
    ]


def run() -> list[str]:
    lines = [
        "Shortcuts on private names against the documented mechanism "
        f"(µs per call, median of {ROUNDS} rounds; gain = documented / ours - 1)",
        "",
        "| shortcut | ours µs | documented µs | gain |",
        "|---|---:|---|---:|",
    ]
    lines += health_check_rows()
    lines += parent_rows()
    return lines


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.conf import settings as django_settings
    from django.db import connection

    if connection.vendor == "sqlite" and not os.environ.get("SQLITE_PATH"):
        print(f"(SQLite at {django_settings.DATABASES['default']['NAME']})")
    print("\n".join(run()))


if __name__ == "__main__":
    main()
