"""Where an answer save's time goes, in one process (no server, no wrk).

Run on a database the benchmark has prepared (`python -m bench.save_profile`,
DATABASE_URL as for `make bench`): it creates its own bench user data with
bench.prepare's helpers, then sends answer saves through Django's test client
(the whole middleware stack, the API's authentication and validation, the
save) and reports per save: wall time, the queries and the time spent inside
them (from sending a statement to having its rows), and the rest. Then a
cProfile of the same saves, summed by the package the time is spent in.
"""

import cProfile
import json
import os
import pstats
import statistics
import time
from collections import defaultdict

SAVES = int(os.environ.get("BENCH_PROFILE_SAVES", "1000"))


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from bench.exams import prepare_exams
    from lms.tokens import token_create

    user, _ = get_user_model().objects.get_or_create(
        email="bench-profile@example.com", defaults={"legal_name": "Bench Profile"}
    )
    _, token = token_create(user=user, name="profile")
    save = prepare_exams(user)["save"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    items = save["items"]

    def one(n: int) -> None:
        item_id, order = items[n % len(items)]
        body = {"choice_ids": [order[(n // len(items)) % 2]], "flagged": bool(n % 2)}
        response = client.put(
            f"/api/v1/attempts/{save['attempt']}/items/{item_id}",
            data=json.dumps(body),
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    in_db: list[float] = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_db.append(time.perf_counter() - start)

    for n in range(100):  # warm up: the attempt's form cached, statements prepared
        one(n)
    walls, queries, db_times = [], [], []
    with connection.execute_wrapper(timed):
        for n in range(SAVES):
            in_db.clear()
            start = time.perf_counter()
            one(n)
            walls.append(time.perf_counter() - start)
            queries.append(len(in_db))
            db_times.append(sum(in_db))
    wall, db = statistics.median(walls) * 1e3, statistics.median(db_times) * 1e3
    print(f"{connection.vendor}, {SAVES} saves (median per save):")
    print(f"  wall {wall:.2f} ms; queries {statistics.median(queries):.0f}; ")
    print(f"  inside the queries {db:.2f} ms ({db / wall:.0%}); the rest {wall - db:.2f} ms")

    profile = cProfile.Profile()
    profile.enable()
    for n in range(SAVES):
        one(n)
    profile.disable()
    stats = pstats.Stats(profile)
    by_package: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        by_package[_package(filename)] += tottime
    total = sum(by_package.values())
    print(
        f"cProfile, own time by package ({total / SAVES * 1e3:.2f} ms a save under the profiler):"
    )
    for name, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {name:<28} {seconds / total:6.1%}")


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        parts = filename.split("site-packages/")[1].split("/")
        if parts[0] == "django" and len(parts) > 2:
            return "/".join(parts[:3]).removesuffix(".py")
        return parts[0].removesuffix(".py")
    if filename.startswith("~") or filename.startswith("<"):
        return "built-ins (socket, json ...)"
    for app in ("lms", "exams", "courses", "certificates", "partners", "cms", "bench"):
        if f"/{app}/" in filename:
            return f"project: {app}"
    return "python stdlib"


if __name__ == "__main__":
    main()
