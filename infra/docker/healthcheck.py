"""Container health checks that need nothing but Python (the image has no curl).

    python healthcheck.py url http://127.0.0.1:8000/readyz [--timeout 3]
        healthy when the URL answers 2xx in time (web processes, the Stripe emulator)
    python healthcheck.py fresh /tmp/celerybeat-schedule 300
        healthy when the beat scheduler wrote its schedule file in the last 300 s
    python healthcheck.py worker celery@$HOSTNAME [--timeout 10]
        healthy when a pool process of that Celery worker ran a task sent to it in time:
        the liveness round trip of `clipcart_shared.liveness` (ADR 15), the one the
        embedded run's supervisor uses; a control ping would be answered by the worker's
        main process even while its pool takes nothing

Celery beat answers no ping, but it rewrites its schedule file (a shelve, to which the
dbm module may add a suffix such as `.db`) when it starts and every three minutes while
it sends tasks; the outbox relay is due every few seconds, so a stale file means a stuck
or dead scheduler.

Exit status 0 is healthy, 1 unhealthy (what Docker expects of a HEALTHCHECK command).
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def url_is_healthy(url: str, *, timeout: float) -> bool:
    """True when `url` answers with a 2xx status within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def file_is_fresh(path: str, *, max_age_seconds: float, now: float | None = None) -> bool:
    """True when a file named `path`, or `path` plus a suffix, changed in the last
    `max_age_seconds`."""
    target = Path(path)
    now = time.time() if now is None else now
    candidates = [
        candidate for candidate in target.parent.glob(f"{target.name}*") if candidate.is_file()
    ]
    return any(now - candidate.stat().st_mtime <= max_age_seconds for candidate in candidates)


def worker_is_healthy(node: str, *, timeout: float) -> bool:
    """True when the Celery worker `node` ran the liveness task within `timeout` seconds
    (the broker is the service's own: `CELERY_BROKER_URL`)."""
    from clipcart_shared.liveness import worker_alive
    from clipcart_shared.settings import broker_url

    return worker_alive(node=node, broker_url=broker_url(), timeout=timeout)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    checks = parser.add_subparsers(dest="check", required=True)
    url = checks.add_parser("url", help="the URL answers 2xx")
    url.add_argument("url")
    url.add_argument("--timeout", type=float, default=3.0, help="seconds (3)")
    fresh = checks.add_parser("fresh", help="the file changed recently")
    fresh.add_argument("path")
    fresh.add_argument("max_age_seconds", type=float)
    worker = checks.add_parser("worker", help="the Celery worker's pool runs a task")
    worker.add_argument("node", help="the worker's node name, e.g. celery@$HOSTNAME")
    worker.add_argument("--timeout", type=float, default=10.0, help="seconds (10)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.check == "url":
        is_healthy = url_is_healthy(args.url, timeout=args.timeout)
    elif args.check == "worker":
        is_healthy = worker_is_healthy(args.node, timeout=args.timeout)
    else:
        is_healthy = file_is_fresh(args.path, max_age_seconds=args.max_age_seconds)
    return 0 if is_healthy else 1


if __name__ == "__main__":
    sys.exit(main())
