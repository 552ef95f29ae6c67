"""Where a list request spends its time: cProfile over Django's test Client.

    .venv/bin/clipcart exec -- .venv/bin/python infra/bench/profile_list.py [--requests 200]
    .venv/bin/clipcart exec -- .venv/bin/python infra/bench/profile_list.py --service video

In-process, on the service's bench database as run.py seeded it (run the bench first),
with the bench settings. The path defaults to the service's benched list: the product list
(catalog) or the feed (video). Prints the time per request of the bare view and of the
path, the SQL queries of one request, and the top functions by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from harness.setup import BARE_PATH, SERVICES, bench_environment  # noqa: E402
from parts.catalog import LIST_PATH  # noqa: E402
from parts.video import FEED_PATH  # noqa: E402

DEFAULT_PATHS = {"catalog": LIST_PATH, "video": FEED_PATH}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--service", choices=sorted(DEFAULT_PATHS), default="catalog")
    parser.add_argument("--path", help="default: the service's benched list")
    arguments = parser.parse_args()
    arguments.path = arguments.path or DEFAULT_PATHS[arguments.service]

    service = SERVICES[arguments.service]
    os.environ.update(bench_environment(service))
    sys.path[:0] = [str(service.directory)]
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    for path in (BARE_PATH, arguments.path):
        for _ in range(20):  # warm caches, open the connection
            assert client.get(path).status_code == 200
        started = time.perf_counter()
        for _ in range(arguments.requests):
            client.get(path)
        elapsed = (time.perf_counter() - started) / arguments.requests
        print(f"{path}: {elapsed * 1000:.2f} ms per request in-process (no profiler)")

    with CaptureQueriesContext(connection) as queries:
        client.get(arguments.path)
    print(f"\n{len(queries)} SQL queries for one {arguments.path}:")
    for query in queries.captured_queries:
        print(f"  {query['time']}s  {query['sql'][:160]}")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(arguments.requests):
        client.get(arguments.path)
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    print(f"\n== by cumulative time ({arguments.requests} requests)")
    stats.sort_stats("cumulative").print_stats(arguments.top)
    print("== by own time")
    stats.sort_stats("tottime").print_stats(arguments.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
