"""Catalog, video and checkout bench: `make bench` (ARGS="--seconds 3 --only video").

Runs under `clipcart exec`, which provides DATABASE_URL (the embedded PostgreSQL) and the
local secrets. In one run it benches the catalog, the video service, then checkout
(`--only` picks one). For each it migrates and seeds a separate database,
`clipcart_<service>_bench` (demo data untouched), and starts gunicorn (2 sync workers,
127.0.0.1, a free port) on the service with a bench-only URLconf that adds `/bench/bare/`,
a bare DRF view. Then:

catalog
1. measures `GET /api/v1/products/?limit=20` against that bare view, served by the same
   processes, and prints the ratio list/bare;
2. measures reservations on one hot variant and on distinct variants, and prints the ratio;
3. checks the stock counters against the reservations answered, and stops gunicorn.

video
1. measures `GET /api/v1/feed/?limit=20` against the bare view and prints the ratio;
2. posts engagement events in batches of 500 (`POST /api/v1/events/`, every event must be
   accepted), stops gunicorn, then COPYs as many rows of the same kind into the same table
   and prints events/s for both and the ratio API/COPY;
3. checks the events stored against the events the API accepted.

checkout (with its own catalog, `clipcart_catalog_checkout_bench`, the localstripe
emulator and a checkout Celery worker on a bench broker database)
1. measures buy-now checkouts, `POST /api/v1/checkouts/` with 1-3 lines (every answer 201);
2. runs a flash sale: 500 buyers at once for a variant with 100 units, every winner paying
   on the emulator; waits until the webhooks, through the worker, have marked every paid
   order paid (reconciling at the end if some never arrive) and checks that exactly 100
   were paid, 400 refused `out_of_stock`, and the variant ends with nothing on hand or
   reserved.

discovery (`clipcart_video_discovery_bench`, filled by bench_discovery.py)
1. offline: a generated engagement log of 300 users over 600 videos, each user's last tag
   tap held out; hit rate at 10 of "for you", chronological and trending;
2. search and "for you" (first pages, which rank and keep a snapshot, and next pages,
   which read one) against the bare view, with the ratios.

It prints figures and asserts nothing about speed; it exits non-zero only when something
failed (the server did not start, a non-2xx answer, counters that do not add up).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, redirect_stderr
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, TypeGuard
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"
WORKERS = 2
BARE_PATH = "/bench/bare/"
# catalog
LIST_PATH = "/api/v1/products/?limit=20"
RESERVE_PATH = "/internal/v1/reservations/"
RATIO_AIM = 0.50
# clipcart_shared.auth.SERVICE_TOKEN_SECONDS is 60: re-mint well before expiry.
TOKEN_REFRESH_SECONDS = 30
# video
FEED_PATH = "/api/v1/feed/?limit=20"
EVENTS_PATH = "/api/v1/events/"
FEED_RATIO_AIM = 0.40
FEED_PAGE = 20
TAGS_PER_VIDEO = 5
EVENTS_PER_BATCH = 500  # engagement.services.MAX_EVENTS_PER_BATCH
EVENTS_TABLE = "engagement_engagementevent"
EVENT_COLUMNS = (
    "event_id",
    "user_id",
    "type",
    "video_id",
    "tag_id",
    "product_id",
    "occurred_at",
    "watch_ms",
    "received_at",
)
# discovery
SEARCH_PATH = "/api/v1/search/"
FOR_YOU_PATH = "/api/v1/feed/?mode=for_you&limit=20"
NEXT_PAGE_USERS = 16  # users whose second page the "next pages" scenario reads, in turn
# checkout
CHECKOUTS_PATH = "/api/v1/checkouts/"
WEBHOOK_PATH = "/api/v1/webhooks/stripe/"
FLASH_BUYERS = 500
SALE_REQUEST_TIMEOUT = 120  # s: the last of 500 buyers waits behind the other 499
PAID_WAIT_SECONDS = 60  # at most, for the webhooks to have every paid order marked paid
PAID_STALL_SECONDS = 15  # ... and at most this long without one more order paid
STRIPE_KEY = "sk_test_clipcart_bench"  # the emulator takes any sk_ key
WEBHOOK_SECRET = "whsec_clipcart_bench"
BROKER_DATABASE = "clipcart_checkout_bench_broker"
CHECKOUT_QUEUES = ("checkout", "checkout.events")
# attribution
ATTRIBUTION_RATIO_AIM = 3.0  # attribution / plain-SQL last touch, at most
ATTRIBUTION_BROKER_DATABASE = "clipcart_video_attribution_bench_broker"
ATTRIBUTION_QUEUES = ("video.attribution",)
EVENT_TASK = "clipcart.events.receive"  # clipcart_shared.outbox.services.EVENT_TASK_NAME
DELAY_ORDERS_PER_SECOND = 20
DELAY_WAIT_SECONDS = 60
SHIPPING_ADDRESS = {
    "name": "Ada Buyer",
    "line1": "1 Main Street",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}

# (method, path, body, headers) for one request.
Request = tuple[str, str, bytes | None, dict[str, str]]


class BenchError(Exception):
    """The bench could not run (as opposed to: it ran and printed slow figures)."""


class AnswerError(Exception):
    """A 2xx answer that is still wrong (e.g. events not all accepted): a failure."""


@dataclass(frozen=True)
class Service:
    """A service under bench: its code, its bench database and how that is seeded."""

    name: str
    seed_script: Path | None  # None: the database is only emptied (`tables_empty`)
    secrets: tuple[str, ...]  # environment variables the bench needs from `clipcart exec`
    database_name: str = ""  # default `clipcart_<name>_bench`

    @property
    def directory(self) -> Path:
        return ROOT / "services" / self.name

    @property
    def database(self) -> str:
        return self.database_name or f"clipcart_{self.name}_bench"

    @property
    def database_variable(self) -> str:
        return f"{self.name.upper()}_DATABASE_URL"


CATALOG = Service("catalog", BENCH_DIR / "bench_seed.py", ("SERVICE_AUTH_KEYS",))
VIDEO = Service("video", BENCH_DIR / "bench_seed_video.py", ("JWT_HS256_SECRET",))
CHECKOUT = Service("checkout", None, ("SERVICE_AUTH_KEYS", "JWT_HS256_SECRET"))
# The catalog the checkout bench talks to: its own database and seed.
CATALOG_FOR_CHECKOUT = Service(
    "catalog",
    BENCH_DIR / "bench_seed_checkout.py",
    ("SERVICE_AUTH_KEYS",),
    database_name="clipcart_catalog_checkout_bench",
)
# Attribution: the video service's code on a database of its own, seeded and timed by
# bench_attribution.py; then its worker on its own queue, fed order.paid events.
ATTRIBUTION = Service(
    "video",
    BENCH_DIR / "bench_attribution.py",
    ("JWT_HS256_SECRET",),
    database_name="clipcart_video_attribution_bench",
)
# Discovery: the video service's code on a database of its own, where
# bench_discovery.py generates an engagement log and evaluates "for you" offline; then
# search and "for you" under load against the bare endpoint.
DISCOVERY = Service(
    "video",
    BENCH_DIR / "bench_discovery.py",
    ("JWT_HS256_SECRET",),
    database_name="clipcart_video_discovery_bench",
)
# The services `profile_list.py` can profile (one list endpoint each).
SERVICES = {service.name: service for service in (CATALOG, VIDEO)}
PARTS = ("catalog", "video", "checkout", "attribution", "discovery")


# --------------------------------------------------------------------------- setup


BENCH_THROTTLE_RATES = ",".join(
    f"{scope}.{kind}=1000000/s"
    for scope in ("checkout", "cart", "events", "writes", "search")
    for kind in ("user", "ip")
)


def bench_environment(service: Service) -> dict[str, str]:
    """The environment of the service's processes: its bench database as
    `<SERVICE>_DATABASE_URL`, the bench settings, the service's code on the path."""
    server = os.environ.get("DATABASE_URL", "")
    if not server:
        raise BenchError(
            "DATABASE_URL is not set: run through `make bench` or "
            "`.venv/bin/clipcart exec -- .venv/bin/python infra/bench/run.py`."
        )
    for secret in service.secrets:
        if not os.environ.get(secret):
            raise BenchError(f"{secret} is not set (clipcart exec sets a local one).")
    parts = urlsplit(server)
    environment = dict(os.environ)
    python_path = [str(BENCH_DIR), str(service.directory), environment.get("PYTHONPATH", "")]
    environment.update(
        {
            service.database_variable: urlunsplit(parts._replace(path=f"/{service.database}")),
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join(p for p in python_path if p),
            "LOG_LEVEL": "WARNING",
            # Keep the bench off the shared broker database; events are rare here anyway
            # (a product's card changes only on its first reservation, during warm-up).
            "CELERY_BROKER_URL": "memory://localhost/",
            # The bench measures the code path, not the caps: each client is one user
            # from one address, checking out for seconds on end. The throttles still
            # count (their cache work is in the figures); they just never refuse.
            "THROTTLE_RATES": BENCH_THROTTLE_RATES,
            "MAX_OPEN_CHECKOUTS": "1000000",
        }
    )
    return environment


def database_at(server_url: str, name: str, scheme: str = "postgresql") -> str:
    """The URL of database `name` on the server of `server_url`."""
    return urlunsplit(urlsplit(server_url)._replace(scheme=scheme, path=f"/{name}"))


def ensure_database(server_url: str, name: str, *, fresh: bool = False) -> None:
    """Create database `name` if missing; with `fresh`, drop it first (connections too)."""
    import psycopg

    with psycopg.connect(database_at(server_url, "postgres"), autocommit=True) as connection:
        if fresh:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if found is None:
            connection.execute(f'CREATE DATABASE "{name}"')


def prepare(service: Service) -> tuple[dict[str, str], dict[str, Any]]:
    """Environment, bench database migrated and seeded: (environment, the seed's answer)."""
    environment = bench_environment(service)
    ensure_database(environment["DATABASE_URL"], service.database)
    print(f"bench: migrating and seeding {service.database} …", flush=True)
    return environment, migrate_and_seed(service, environment)


@dataclass(frozen=True)
class Seeded:
    hot_variant: str
    distinct_variants: list[str]
    list_products: int


def migrate_and_seed(service: Service, environment: dict[str, str]) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=service.directory,
        env=environment,
        check=True,
    )
    if service.seed_script is None:
        tables_empty(environment[service.database_variable])
        return {}
    seeded = subprocess.run(
        [sys.executable, str(service.seed_script)],
        cwd=service.directory,
        env=environment,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    answer: dict[str, Any] = json.loads(seeded.stdout.strip().splitlines()[-1])
    return answer


def query(database: str, statement: str, parameters: list[Any] | None = None) -> list[Any]:
    """The rows of one statement on `database` (a URL), in a transaction of its own."""
    import psycopg

    with psycopg.connect(database) as connection:
        return connection.execute(statement, parameters).fetchall()


def tables_empty(database: str) -> None:
    """TRUNCATE every table of a migrated database but Django's own (`django_*`, `auth_*`)."""
    import psycopg

    with psycopg.connect(database) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT LIKE 'django\\_%' AND tablename NOT LIKE 'auth\\_%'"
            )
        ]
        if tables:
            connection.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def start_gunicorn(
    service: Service, environment: dict[str, str], port: int
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--chdir",
        str(service.directory),
        "--pythonpath",
        f"{BENCH_DIR},{service.directory}",
        "--env",
        "DJANGO_SETTINGS_MODULE=bench_settings",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
    ]
    # Its own process group, so that stopping it takes every worker along.
    return subprocess.Popen(command, env=environment, start_new_session=True)


def stop_group(process: subprocess.Popen[bytes], *, leader_only: bool = False) -> None:
    """SIGTERM to the process group of `process` (gunicorn and its workers) or, with
    `leader_only`, to `process` alone (a Celery worker stops its own pool); SIGKILL to the
    group if it is still there 15 s later."""
    if process.poll() is not None:
        return
    try:
        if leader_only:
            process.terminate()
        else:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def fetch(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_ready(process: subprocess.Popen[bytes], port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    # Every worker must have booted: ask a few times more than there are workers.
    successes = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with status {process.returncode} at start-up")
        try:
            status, _ = fetch(port, BARE_PATH, timeout=2)
        except OSError:
            status = 0
        if status == 200:
            successes += 1
            if successes >= 4 * WORKERS:
                return
        else:
            time.sleep(0.1)
    raise BenchError(f"gunicorn did not answer {BARE_PATH} within {timeout:.0f} s")


@contextmanager
def serving(service: Service, environment: dict[str, str]) -> Iterator[int]:
    """gunicorn on the service, every worker up; yields its port, stops it on the way out
    (error or not)."""
    port = free_port()
    with serving_together([(service, environment, port)]):
        yield port


@contextmanager
def serving_together(sites: list[tuple[Service, dict[str, str], int]]) -> Iterator[None]:
    """gunicorn on each (service, environment, port), all started at once, every worker of
    each up; stopped on the way out (error or not), the last started first."""
    with ExitStack() as stack:
        started = []
        for service, environment, port in sites:
            process = start_gunicorn(service, environment, port)
            stack.callback(stop_group, process)
            started.append((process, port))
        for process, port in started:
            wait_until_ready(process, port)
            check_bare(port)
        yield


@contextmanager
def celery_worker(
    service: Service, environment: dict[str, str], queues: tuple[str, ...], log: IO[str]
) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker of the service (prefork, WORKERS processes, no beat) consuming
    `queues`; stopped on the way out, error or not, its output then copied to `log`."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--queues",
        ",".join(queues),
        "--concurrency",
        str(WORKERS),
        "--loglevel",
        "WARNING",
        # No other worker to meet or gossip with: start at once.
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
    ]
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command,
            cwd=service.directory,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            stop_group(process, leader_only=True)
            output.seek(0)
            log.write(output.read().decode(errors="replace"))


def wait_for_consumer(
    process: subprocess.Popen[bytes], broker_database: str, queues: tuple[str, ...]
) -> None:
    """Until the worker has declared its queues in the (SQLAlchemy) broker database, which
    also means kombu's tables exist before gunicorn's workers publish to them."""
    import psycopg

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the Celery worker exited with status {process.returncode}")
        try:
            with psycopg.connect(broker_database) as connection:
                declared = {
                    row[0]
                    for row in connection.execute(
                        "SELECT name FROM kombu_queue WHERE name = ANY(%s)", [list(queues)]
                    )
                }
        except psycopg.errors.UndefinedTable:
            declared = set()
        if declared == set(queues):
            return
        time.sleep(0.2)
    raise BenchError(f"the Celery worker did not declare {', '.join(queues)} within 30 s")


@contextmanager
def stripe_emulator(log: IO[str]) -> Iterator[str]:
    """`localstripe_server()`: yields its base URL; the log it replays on stderr when it
    stops (every request, every webhook delivery) goes to `log` instead."""
    from clipcart_tools.localstripe import localstripe_server

    server = localstripe_server()
    base_url = server.__enter__()
    try:
        yield base_url
    finally:
        with redirect_stderr(log):
            server.__exit__(None, None, None)


def check_bare(port: int) -> None:
    status, body = fetch(port, BARE_PATH)
    if status != 200 or json.loads(body) != {"ok": True}:
        raise BenchError(f"GET {BARE_PATH} answered {status}: {body[:300]!r}")


def fetch_json(port: int, path: str) -> Any:
    status, body = fetch(port, path)
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body[:300]!r}")
    return json.loads(body)


def check_endpoints(port: int, expected_products: int) -> None:
    results = fetch_json(port, LIST_PATH)["results"]
    if len(results) != min(20, expected_products):
        raise BenchError(f"GET {LIST_PATH} listed {len(results)} products, expected 20")


# --------------------------------------------------------------------------- load


def exchange(connection: http.client.HTTPConnection, request: Request) -> tuple[int | str, bytes]:
    """Send one request: (status, body), or (the error's name, its message) when the
    connection failed (closed, so that the next request opens a new one)."""
    method, path, body, headers = request
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return type(error).__name__, str(error).encode()


def succeeded(status: int | str) -> TypeGuard[int]:
    """2xx; a str status is a transport error or a 2xx answer judged wrong."""
    return isinstance(status, int) and status < 300


@dataclass
class Outcome:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # measured window only
    statuses: Counter[int | str] = field(default_factory=Counter)  # measured window only
    created_total: int = 0  # 201 answers, warm-up included (for the stock check)
    failed_total: int = 0  # failed answers, warm-up and stragglers included
    failure_sample: str = ""
    client_cpu: float = 0.0  # share of one core used by this (load-generating) process
    unit: str = ""  # what `count_units` counts in an answer ("events"), if anything
    units: int = 0  # measured window only
    units_total: int = 0  # warm-up and stragglers included (for the stored-rows check)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def unit_rate(self) -> float:
        return self.units / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> int:
        return sum(n for s, n in self.statuses.items() if not succeeded(s))

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000

    def summary(self) -> str:
        return f"{self.rate:,.0f} req/s, p99 {self.percentile(0.99):.1f} ms"

    def detail(self) -> str:
        failures = self.failures
        text = (
            f"  {self.name:<22} {self.rate:>8,.0f} req/s  p50 {self.percentile(0.5):6.1f} ms"
            f"  p99 {self.percentile(0.99):6.1f} ms  {self.requests:>6} requests"
            f"  {failures} non-2xx  (client cpu {self.client_cpu:.0%})"
        )
        if self.unit:
            text += (
                f"\n  {'':<22} {self.unit_rate:>8,.0f} {self.unit}/s  ({self.units:,} {self.unit})"
            )
        if failures:
            breakdown = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items(), key=str))
            text += f"\n    answers: {breakdown}\n    e.g. {self.failure_sample}"
        return text


def run_load(
    name: str,
    port: int,
    request_for: Callable[[int, int], Request],
    *,
    concurrency: int,
    warmup: float,
    seconds: float,
    count_units: Callable[[int, bytes], int] | None = None,
    unit: str = "",
) -> Outcome:
    """`concurrency` threads, each with its own connection, send requests back to back:
    `warmup` seconds unrecorded, then `seconds` recorded. `request_for(client, n)` builds
    the n-th request of a client. `count_units(status, body)`, if given, reads each 2xx
    answer: how many `unit`s it stands for, or AnswerError to count it as a failure."""
    outcome = Outcome(name=name, seconds=seconds, unit=unit)
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    window: dict[str, float] = {}

    def client(index: int) -> None:
        latencies: list[float] = []
        statuses: Counter[int | str] = Counter()
        created = 0
        units = units_total = failed_total = 0
        sample = ""
        # gunicorn's sync workers close the connection after each answer;
        # http.client reopens it transparently on the next request.
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        barrier.wait()
        start, end = window["start"], window["end"]
        n = 0
        try:
            while True:
                request = request_for(index, n)
                n += 1
                began = time.perf_counter()
                if began >= end:
                    break
                status, content = exchange(connection, request)
                finished = time.perf_counter()
                if status == 201:
                    created += 1
                counted = 0
                if count_units is not None and succeeded(status):
                    try:
                        counted = count_units(status, content)
                    except (AnswerError, ValueError, KeyError, TypeError) as error:
                        status = f"{status} but {error}"
                units_total += counted
                if not succeeded(status):
                    failed_total += 1
                if finished < start or finished > end:
                    continue
                latencies.append(finished - began)
                statuses[status] += 1
                units += counted
                if not succeeded(status) and not sample:
                    sample = f"{status}: {content[:300].decode(errors='replace')}"
        finally:
            connection.close()
            with lock:
                outcome.latencies.extend(latencies)
                outcome.statuses.update(statuses)
                outcome.created_total += created
                outcome.units += units
                outcome.units_total += units_total
                outcome.failed_total += failed_total
                outcome.failure_sample = outcome.failure_sample or sample

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    now = time.perf_counter()
    window["start"] = now + warmup
    window["end"] = now + warmup + seconds
    barrier.wait()
    time.sleep(warmup)
    cpu_start = time.process_time()
    for thread in threads:
        thread.join(timeout=warmup + seconds + 60)
    if any(thread.is_alive() for thread in threads):
        raise BenchError(f"{name}: clients did not finish")
    outcome.client_cpu = (time.process_time() - cpu_start) / seconds
    return outcome


@dataclass(frozen=True)
class Scenario:
    name: str
    request_for: Callable[[int, int], Request]
    count_units: Callable[[int, bytes], int] | None = None
    unit: str = ""


def run_scenarios(
    port: int, scenarios: list[Scenario], arguments: argparse.Namespace
) -> list[Outcome]:
    """Each scenario in turn against the server on `port`, printing its line as it ends."""
    print(
        f"bench: gunicorn ({WORKERS} sync workers) on {HOST}:{port}, "
        f"{arguments.concurrency} clients, {arguments.warmup:g} s warm-up + "
        f"{arguments.seconds:g} s per scenario",
        flush=True,
    )
    outcomes = []
    for scenario in scenarios:
        outcome = run_load(
            scenario.name,
            port,
            scenario.request_for,
            concurrency=arguments.concurrency,
            warmup=arguments.warmup,
            seconds=arguments.seconds,
            count_units=scenario.count_units,
            unit=scenario.unit,
        )
        outcomes.append(outcome)
        print(outcome.detail(), flush=True)
    return outcomes


def get(path: str) -> Callable[[int, int], Request]:
    def request_for(client: int, n: int) -> Request:
        return "GET", path, None, {}

    return request_for


def bearer(user_id: str, secret: str) -> str:
    """A mobile user's `Authorization`, the token minted as the app's provider would
    (`clipcart_shared.tokens.user_token_mint`, with the exported `JWT_HS256_SECRET`)."""
    from clipcart_shared.tokens import user_token_mint

    return "Bearer " + user_token_mint(user_id=user_id, secret=secret)


class ServiceToken:
    """A service token minted exactly like `clipcart_shared.auth.service_token_mint`,
    re-minted before it expires."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.minted_at = 0.0
        self.header = ""

    def authorization(self) -> str:
        now = time.monotonic()
        if now - self.minted_at > TOKEN_REFRESH_SECONDS:
            with self.lock:
                if now - self.minted_at > TOKEN_REFRESH_SECONDS:
                    self.header = f"Service {self._mint()}"
                    self.minted_at = now
        return self.header

    def _mint(self) -> str:
        import jwt

        from clipcart_shared.tokens import SERVICE_AUDIENCE

        issued = int(time.time())
        claims = {
            "iss": "checkout",
            "aud": SERVICE_AUDIENCE,
            "iat": issued,
            "exp": issued + 60,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.key, algorithm="HS256")


def reserve(
    token: ServiceToken, run_id: str, scenario: str, variant_for: Callable[[int], str]
) -> Callable[[int, int], Request]:
    def request_for(client: int, n: int) -> Request:
        body = json.dumps(
            {
                "key": f"bench-{run_id}-{scenario}-{client}-{n}",
                "lines": [{"variant_id": variant_for(client), "quantity": 1}],
                "ttl_seconds": 900,
            }
        ).encode()
        headers = {"Authorization": token.authorization(), "Content-Type": "application/json"}
        return "POST", RESERVE_PATH, body, headers

    return request_for


def reserved_units(database_url: str, variant_ids: list[str]) -> int:
    [(reserved,)] = query(
        database_url,
        "SELECT COALESCE(SUM(quantity_reserved), 0) FROM products_variant "
        "WHERE id = ANY(%s::uuid[])",
        [variant_ids],
    )
    return int(reserved)


# --------------------------------------------------------------------------- video

# What one viewer's app reports, in proportion: mostly impressions and (3 s+) views.
EVENT_MIX = (
    "impression",
    "impression",
    "impression",
    "impression",
    "view",
    "view",
    "view",
    "tag_tap",
    "product_view",
    "add_to_cart",
)


@dataclass(frozen=True)
class FeedVideo:
    id: str
    tags: list[tuple[str, str]]  # (tag id, product id)


def check_feed(port: int, videos: list[FeedVideo]) -> None:
    results = fetch_json(port, FEED_PATH)["results"]
    expected = [video.id for video in videos[:FEED_PAGE]]
    if [video["id"] for video in results] != expected:
        raise BenchError(f"GET {FEED_PATH} listed {len(results)} videos, not the seeded page")
    shown = {len(video["tags"]) for video in results}
    if shown != {TAGS_PER_VIDEO}:
        raise BenchError(
            f"GET {FEED_PATH} showed {sorted(shown)} tags per video, expected "
            f"{TAGS_PER_VIDEO} (a product card missing from the read model?)"
        )


def event_batch(videos: list[FeedVideo], count: int) -> list[dict[str, Any]]:
    """`count` valid events on the seeded published videos, fresh event ids, the last few
    seconds as occurrence times, as the app sends them (JSON-ready). Tag events carry
    their tag and its product, so the row stored is exactly the row sent."""
    now = datetime.now(UTC)
    batch = []
    for i in range(count):
        kind = EVENT_MIX[i % len(EVENT_MIX)]
        video = videos[(i // len(EVENT_MIX)) % len(videos)]
        tag_id, product_id = video.tags[i % len(video.tags)]
        batch.append(
            {
                "event_id": str(uuid.uuid4()),
                "type": kind,
                "video_id": video.id,
                "tag_id": tag_id if kind in ("tag_tap", "product_view") else None,
                "product_id": product_id if kind not in ("impression", "view") else None,
                "occurred_at": (now - timedelta(milliseconds=20 * i)).isoformat(),
                "watch_ms": 3000 + (211 * i) % 27_000 if kind == "view" else None,
            }
        )
    return batch


def post_events(
    videos: list[FeedVideo], authorizations: list[str]
) -> Callable[[int, int], Request]:
    def request_for(client: int, n: int) -> Request:
        body = json.dumps({"events": event_batch(videos, EVENTS_PER_BATCH)}).encode()
        headers = {
            "Authorization": authorizations[client % len(authorizations)],
            "Content-Type": "application/json",
        }
        return "POST", EVENTS_PATH, body, headers

    return request_for


def all_accepted(status: int, content: bytes) -> int:
    """The events an answer accepted; AnswerError unless it is a 202 that took them all."""
    if status != 202:
        raise AnswerError("not 202")
    answer = json.loads(content)
    if answer["accepted"] != EVENTS_PER_BATCH or answer["duplicates"] or answer["rejected"]:
        raise AnswerError(f"{answer['accepted']}/{EVENTS_PER_BATCH} accepted")
    accepted: int = answer["accepted"]
    return accepted


def copy_rows(videos: list[FeedVideo], users: list[str], count: int) -> list[tuple[Any, ...]]:
    """`count` rows for EVENT_COLUMNS, made like the API's batches (same generator, one
    user per batch of EVENTS_PER_BATCH, in turn) and as the API stores them."""
    received_at = datetime.now(UTC).isoformat()
    rows: list[tuple[Any, ...]] = []
    for batch_number in range(math.ceil(count / EVENTS_PER_BATCH)):
        stored = {"user_id": users[batch_number % len(users)], "received_at": received_at}
        for event in event_batch(videos, min(EVENTS_PER_BATCH, count - len(rows))):
            row = event | stored
            rows.append(tuple(row[column] for column in EVENT_COLUMNS))
    return rows


def copy_events(database_url: str, rows: list[tuple[Any, ...]]) -> float:
    """COPY the rows into the events table in one transaction; the seconds it took (COPY
    and commit, on an open connection)."""
    import psycopg

    statement = f"COPY {EVENTS_TABLE} ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def truncate_events(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url) as connection:
        connection.execute(f"TRUNCATE {EVENTS_TABLE}")


def events_stored(database_url: str) -> int:
    [(count,)] = query(database_url, f"SELECT count(*) FROM {EVENTS_TABLE}")
    return int(count)


# --------------------------------------------------------------------------- checkout


def checkout_environment(
    environment: dict[str, str], catalog_port: int, stripe_url: str, broker_url: str | None
) -> dict[str, str]:
    """Checkout's processes (gunicorn, `manage.py`, its Celery worker): the bench catalog,
    the emulator and its webhook secret, the broker (if given; else the bench's in-memory
    one); order events only to checkout's own queue (nobody else consumes a bench broker);
    emails dropped."""
    changes = {
        "CATALOG_URL": f"http://{HOST}:{catalog_port}",
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "ORDER_EVENT_QUEUES": "",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    if broker_url:
        changes["CELERY_BROKER_URL"] = broker_url
    return environment | changes


def checkout_request(authorization: str, lines: list[tuple[str, int]]) -> Request:
    """Buy now: `POST /api/v1/checkouts/` for these (variant, quantity) lines, with a fresh
    Idempotency-Key."""
    body = json.dumps(
        {
            "email": "buyer@bench.example.com",
            "shipping_address": SHIPPING_ADDRESS,
            "lines": [{"variant_id": variant, "quantity": quantity} for variant, quantity in lines],
        }
    ).encode()
    headers = {
        "Authorization": authorization,
        "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    return "POST", CHECKOUTS_PATH, body, headers


def buy_now(variants: list[str], authorizations: list[str]) -> Callable[[int, int], Request]:
    """1, 2 or 3 lines in turn, distinct variants spread over the seeded ones; one user
    per client."""

    def request_for(client: int, n: int) -> Request:
        first = 7 * client + 3 * n
        lines = [(variants[(first + k) % len(variants)], 1) for k in range(1 + (client + n) % 3)]
        return checkout_request(authorizations[client % len(authorizations)], lines)

    return request_for


def created(status: int, content: bytes) -> int:
    """A checkout answer must be a 201 (count_units for run_load)."""
    if status != 201:
        raise AnswerError("not 201")
    return 1


def answer_label(status: int | str, content: bytes) -> int | str:
    """The status, and for a problem its code: 201, "409 out_of_stock", "ConnectionError"."""
    if not isinstance(status, int) or status < 400:
        return status
    try:
        code = json.loads(content).get("code")
    except (ValueError, AttributeError):
        code = None
    return f"{status} {code}" if code else status


@dataclass
class Sale:
    outcome: Outcome  # the checkouts, labelled by `answer_label`
    payments: Counter[str] = field(default_factory=Counter)  # "succeeded", or what failed


def flash_sale(port: int, stripe_url: str, variant: str, authorizations: list[str]) -> Sale:
    """One thread per buyer, all released at once: each checks out 1 unit of `variant`
    and, on a 201, pays as the app's payment sheet would (the PaymentIntent updated with
    pm_card_visa, then confirmed) on the emulator. The rate is over the checkouts: from
    the release to the last answer."""
    import stripe

    from clipcart_tools.localstripe import stripe_client

    sale = Sale(Outcome(name=f"flash sale ({len(authorizations)} buyers)", seconds=0.0))
    outcome = sale.outcome
    lock = threading.Lock()
    barrier = threading.Barrier(len(authorizations) + 1)
    answered: list[float] = []

    def pay(content: bytes) -> str:
        try:
            secret = json.loads(content)["payment"]["client_secret"]
            intent = secret.split("_secret_")[0]  # Stripe's `<id>_secret_<…>`
            client = stripe_client(stripe_url, STRIPE_KEY)
            client.v1.payment_intents.update(intent, {"payment_method": "pm_card_visa"})
            return str(client.v1.payment_intents.confirm(intent).status)
        except (stripe.StripeError, ValueError, KeyError, TypeError) as error:
            return f"{type(error).__name__}: {error}"[:200]

    def buyer(index: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=SALE_REQUEST_TIMEOUT)
        request = checkout_request(authorizations[index], [(variant, 1)])
        barrier.wait()
        began = time.perf_counter()
        status, content = exchange(connection, request)
        finished = time.perf_counter()
        connection.close()
        label = answer_label(status, content)
        payment = pay(content) if status == 201 else ""
        with lock:
            outcome.latencies.append(finished - began)
            outcome.statuses[label] += 1
            answered.append(finished)
            outcome.created_total += status == 201
            if label not in (201, "409 out_of_stock") and not outcome.failure_sample:
                outcome.failure_sample = f"{label}: {content[:300].decode(errors='replace')}"
            if payment:
                sale.payments[payment] += 1

    threads = [
        threading.Thread(target=buyer, args=(i,), daemon=True) for i in range(len(authorizations))
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=SALE_REQUEST_TIMEOUT + 60)
    if any(thread.is_alive() for thread in threads):
        raise BenchError("flash sale: buyers did not finish")
    outcome.seconds = max(answered) - started
    return sale


def flash_orders(database: str, variant: str) -> Counter[str]:
    """Checkout's orders holding `variant`, by status."""
    rows = query(
        database,
        "SELECT o.status, count(*) FROM orders_order o WHERE EXISTS (SELECT 1 FROM "
        "orders_orderline l WHERE l.order_id = o.id AND l.variant_id = %s) GROUP BY o.status",
        [variant],
    )
    return Counter({status: count for status, count in rows})


def wait_until_paid(database: str, variant: str, expected: int) -> tuple[int, float]:
    """Poll until `expected` orders of `variant` are paid: at most PAID_WAIT_SECONDS, and
    at most PAID_STALL_SECONDS without one more. (paid, seconds waited)."""
    started = progressed = time.monotonic()
    paid = -1
    while True:
        now_paid = flash_orders(database, variant)["paid"]
        now = time.monotonic()
        if now_paid != paid:
            paid, progressed = now_paid, now
        if (
            paid >= expected
            or now - started > PAID_WAIT_SECONDS
            or now - progressed > PAID_STALL_SECONDS
        ):
            return paid, now - started
        time.sleep(0.2)


def payments_reconcile(service: Service, environment: dict[str, str]) -> int:
    """Checkout's safety net, once: `orders.services.payments_reconcile(older_than=0)`
    through `manage.py shell`. How many orders it changed."""
    finished = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from datetime import timedelta\n"
            "from orders.services import payments_reconcile\n"
            "print(payments_reconcile(older_than=timedelta(0)))",
        ],
        cwd=service.directory,
        env=environment,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return int(finished.stdout.split()[-1])


def webhook_events(database: str) -> tuple[Counter[str], float]:
    """Checkout's webhook log by status (processed, received …), and the seconds from the
    first event received to the last one applied."""
    rows = query(database, "SELECT status, count(*) FROM payments_webhookevent GROUP BY status")
    [(span,)] = query(
        database,
        "SELECT EXTRACT(EPOCH FROM max(processed_at) - min(received_at)) "
        "FROM payments_webhookevent",
    )
    return Counter({status: count for status, count in rows}), float(span or 0)


def variant_stock(database: str, variant: str) -> tuple[int, int]:
    """(on hand, reserved) of a catalog variant."""
    [(on_hand, reserved)] = query(
        database,
        "SELECT quantity_on_hand, quantity_reserved FROM products_variant WHERE id = %s",
        [variant],
    )
    return int(on_hand), int(reserved)


def webhook_deliveries(emulator_log: str) -> Counter[str]:
    """What the emulator logged of its webhook deliveries: delivered, failed."""
    return Counter(
        "delivered" if "successfully delivered" in line else "failed"
        for line in emulator_log.splitlines()
        if 'webhook "' in line
    )


def log_tail(log: str, lines: int = 25) -> str:
    return "\n".join("    " + line for line in log.strip().splitlines()[-lines:])


# --------------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured, per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded, per scenario")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--only", choices=PARTS, help="bench one service only")
    parser.add_argument(
        "--paid-by",
        choices=("reconcile", "webhooks"),
        default="reconcile",
        help="checkout: how the flash sale's orders get paid: checkout's reconciliation, run "
        "once after the sale (default), or the emulator's webhooks applied by a Celery "
        "worker (slower: see README)",
    )
    arguments = parser.parse_args(argv)
    if arguments.seconds <= 0 or arguments.warmup < 0 or not 1 <= arguments.concurrency <= 200:
        parser.error("need --seconds > 0, --warmup >= 0 and 1 <= --concurrency <= 200")
    return arguments


def run_catalog(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(CATALOG)
        seeded = Seeded(**answer)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2

    hot, distinct = seeded.hot_variant, seeded.distinct_variants
    try:
        with serving(CATALOG, environment) as port:
            check_endpoints(port, seeded.list_products)
            token = ServiceToken(environment["SERVICE_AUTH_KEYS"].split(",")[0].strip())
            run_id = uuid.uuid4().hex[:8]
            scenarios = [
                Scenario("bare DRF", get(BARE_PATH)),
                Scenario("product list", get(LIST_PATH)),
                Scenario("reserve: hot variant", reserve(token, run_id, "hot", lambda c: hot)),
                Scenario(
                    "reserve: distinct",
                    reserve(token, run_id, "distinct", lambda c: distinct[c % len(distinct)]),
                ),
            ]
            outcomes = run_scenarios(port, scenarios, arguments)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2

    bare, listing, hot_outcome, distinct_outcome = outcomes
    # Every 201 must show up in the counters, no more, no less.
    used = distinct[: min(arguments.concurrency, len(distinct))]
    database_url = environment[CATALOG.database_variable]
    counters = {
        "hot variant": (reserved_units(database_url, [hot]), hot_outcome.created_total),
        "distinct variants": (
            reserved_units(database_url, used),
            distinct_outcome.created_total,
        ),
    }
    mismatched = {k: v for k, v in counters.items() if v[0] != v[1]}

    ratio = listing.rate / bare.rate if bare.rate else math.nan
    contention = hot_outcome.rate / distinct_outcome.rate if distinct_outcome.rate else math.nan
    print()
    print(
        f"product list: {listing.summary()} | bare DRF: {bare.summary()} | "
        f"ratio {ratio:.2f} (aim >= {RATIO_AIM:.2f})"
    )
    print(
        f"reservations: hot variant {hot_outcome.summary()} | "
        f"distinct variants {distinct_outcome.summary()} | ratio hot/distinct {contention:.2f}"
    )
    failures = sum(outcome.failures for outcome in outcomes)
    print(
        f"non-2xx: {failures}; stock counters vs 201 answers: "
        + ", ".join(f"{k} {db} reserved / {ok} created" for k, (db, ok) in counters.items())
        + f"; took {time.monotonic() - began:.0f} s"
    )
    if failures or mismatched:
        print("bench: FAILED (see non-2xx answers / counters above)", file=sys.stderr)
        return 1
    return 0


def run_video(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(VIDEO)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2

    videos = [FeedVideo(v["id"], [(t[0], t[1]) for t in v["tags"]]) for v in answer["videos"]]
    database_url = environment[VIDEO.database_variable]
    # One mobile user per client, each with a token minted as the app's provider would.
    users = [f"bench-user-{client}" for client in range(arguments.concurrency)]
    authorizations = [bearer(user, environment["JWT_HS256_SECRET"]) for user in users]
    try:
        with serving(VIDEO, environment) as port:
            check_feed(port, videos)
            truncate_events(database_url)
            scenarios = [
                Scenario("bare DRF", get(BARE_PATH)),
                Scenario("feed", get(FEED_PATH)),
                Scenario(
                    f"events API ({EVENTS_PER_BATCH}/batch)",
                    post_events(videos, authorizations),
                    count_units=all_accepted,
                    unit="events",
                ),
            ]
            outcomes = run_scenarios(port, scenarios, arguments)
        bare, feed, events = outcomes
        stored = events_stored(database_url)
        # The floor: as many rows of the same kind, straight into the same (emptied) table.
        rows = copy_rows(videos, users, events.units)
        truncate_events(database_url)
        copy_seconds = copy_events(database_url, rows)
        copied = events_stored(database_url)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2

    ratio = feed.rate / bare.rate if bare.rate else math.nan
    copy_rate = len(rows) / copy_seconds if copy_seconds else math.nan
    ingest_ratio = events.unit_rate / copy_rate if rows else math.nan
    print()
    print(
        f"feed: {feed.summary()} | bare DRF: {bare.summary()} | "
        f"ratio {ratio:.2f} (aim >= {FEED_RATIO_AIM:.2f})"
    )
    print(
        f"events: API {events.unit_rate:,.0f} events/s ({events.rate:,.1f} batches/s, "
        f"p99 {events.percentile(0.99):.1f} ms) | COPY {copy_rate:,.0f} events/s "
        f"({len(rows):,} rows in {copy_seconds:.2f} s) | ratio API/COPY {ingest_ratio:.2f}"
    )
    # Warm-up included: every batch must have gone in whole, and nothing else.
    failures = sum(outcome.failed_total for outcome in outcomes)
    counters = {"accepted": (stored, events.units_total), "copied": (copied, len(rows))}
    mismatched = {k: v for k, v in counters.items() if v[0] != v[1]}
    print(
        f"failed answers (warm-up included): {failures}; events stored vs sent: "
        + ", ".join(f"{db:,} stored / {ok:,} {k}" for k, (db, ok) in counters.items())
        + f"; took {time.monotonic() - began:.0f} s"
    )
    if failures or mismatched or not rows:
        print("bench: FAILED (see failed answers / counters above)", file=sys.stderr)
        return 1
    return 0


def run_checkout(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    webhooks = arguments.paid_by == "webhooks"
    try:
        # Two databases to migrate and seed: side by side (separate processes).
        with ThreadPoolExecutor(2) as pool:
            catalog_job = pool.submit(prepare, CATALOG_FOR_CHECKOUT)
            checkout_job = pool.submit(prepare, CHECKOUT)
            catalog_environment, seeded = catalog_job.result()
            environment, _ = checkout_job.result()
        if webhooks:
            # A broker of its own, emptied each run: the bench's webhook tasks and order
            # events never reach `make run`'s workers, nor stale ones the bench's.
            ensure_database(environment["DATABASE_URL"], BROKER_DATABASE, fresh=True)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2

    from clipcart_tools.localstripe import LocalstripeError, register_webhook

    server = environment["DATABASE_URL"]
    # The transport `make run` uses (clipcart_shared.settings.broker_url), on that database.
    broker = database_at(server, BROKER_DATABASE, "sqla+postgresql+psycopg") if webhooks else None
    checkout_database = environment[CHECKOUT.database_variable]
    catalog_database = catalog_environment[CATALOG_FOR_CHECKOUT.database_variable]
    variants, flash, stock = seeded["variants"], seeded["flash_variant"], seeded["flash_stock"]
    secret = environment["JWT_HS256_SECRET"]
    # One user per client for scenario 1 (a Stripe customer from its first checkout on);
    # a user of their own for every buyer of the sale.
    buyers = [bearer(f"bench-buyer-{client}", secret) for client in range(arguments.concurrency)]
    crowd = [bearer(f"bench-flash-{n:03d}", secret) for n in range(FLASH_BUYERS)]
    emulator_log, worker_log = io.StringIO(), io.StringIO()
    try:
        with ExitStack() as stack:
            stripe_url = stack.enter_context(stripe_emulator(emulator_log))
            catalog_port, port = free_port(), free_port()
            while port == catalog_port:
                port = free_port()
            environment = checkout_environment(environment, catalog_port, stripe_url, broker)
            worker = None
            if webhooks:
                worker = stack.enter_context(
                    celery_worker(CHECKOUT, environment, CHECKOUT_QUEUES, worker_log)
                )
            # Both at once: checkout needs catalog only once requests come.
            stack.enter_context(
                serving_together(
                    [
                        (CATALOG_FOR_CHECKOUT, catalog_environment, catalog_port),
                        (CHECKOUT, environment, port),
                    ]
                )
            )
            if worker:
                register_webhook(
                    stripe_url,
                    "clipcart-bench",
                    f"http://{HOST}:{port}{WEBHOOK_PATH}",
                    WEBHOOK_SECRET,
                    events=["payment_intent.succeeded"],
                )
                wait_for_consumer(worker, database_at(server, BROKER_DATABASE), CHECKOUT_QUEUES)
            setup_seconds = time.monotonic() - began
            print(
                f"bench: catalog on {HOST}:{catalog_port}, localstripe on {stripe_url}"
                + (
                    f", checkout's Celery worker ({WORKERS} processes) on "
                    f"{', '.join(CHECKOUT_QUEUES)}, the emulator's webhook to checkout"
                    if worker
                    else ""
                ),
                flush=True,
            )
            [checkouts] = run_scenarios(
                port,
                [Scenario("checkout (buy now)", buy_now(variants, buyers), count_units=created)],
                arguments,
            )
            [(orders_stored,)] = query(checkout_database, "SELECT count(*) FROM orders_order")

            print(f"bench: flash sale, {FLASH_BUYERS} buyers for {stock} units …", flush=True)
            sale = flash_sale(port, stripe_url, flash, crowd)
            confirmed = sale.payments["succeeded"]
            by_webhooks, waited = 0, 0.0
            if worker:
                by_webhooks, waited = wait_until_paid(checkout_database, flash, confirmed)
            reconciled, reconcile_seconds = None, 0.0
            if by_webhooks < confirmed:
                # The flash orders are the newest pending ones: within the 500 it looks at.
                started = time.monotonic()
                reconciled = payments_reconcile(CHECKOUT, environment)
                reconcile_seconds = time.monotonic() - started
            orders = flash_orders(checkout_database, flash)
            events, applying = webhook_events(checkout_database)
            on_hand, reserved = variant_stock(catalog_database, flash)
    # RuntimeError: the emulator did not start (localstripe_server).
    except (BenchError, subprocess.CalledProcessError, LocalstripeError, RuntimeError) as error:
        print(f"bench: {error}", file=sys.stderr)
        if worker_log.getvalue():
            print(f"  checkout worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
        return 2

    paid = orders["paid"]
    oversold = paid - stock
    answers = sale.outcome.statuses
    print(
        f"  {sale.outcome.name:<22} {sale.outcome.rate:>8,.0f} checkouts/s over "
        f"{sale.outcome.seconds:.1f} s  p50 {sale.outcome.percentile(0.5):,.0f} ms"
        f"  p99 {sale.outcome.percentile(0.99):,.0f} ms  answers: "
        + ", ".join(f"{label}: {answers[label]}" for label in sorted(answers, key=str))
    )
    print()
    print(
        f"checkout: {checkouts.rate:,.1f} checkouts/s, p99 {checkouts.percentile(0.99):.1f} ms "
        f"(buy now, 1-3 lines, {arguments.concurrency} clients) | orders stored "
        f"{orders_stored} / {checkouts.created_total} created (warm-up included)"
    )
    print(
        f"flash sale: {FLASH_BUYERS} buyers for {stock} units | paid {paid} (must be {stock}), "
        f"oversold {oversold} | 409 out_of_stock {answers['409 out_of_stock']} "
        f"(must be {FLASH_BUYERS - stock}) | {sale.outcome.rate:,.1f} checkouts/s over the sale "
        f"| catalog variant: on hand {on_hand}, reserved {reserved} (must be 0, 0)"
    )
    paths = []
    if worker:
        deliveries = webhook_deliveries(emulator_log.getvalue())
        paths.append(
            f"emulator webhooks ({deliveries['delivered']} delivered, {deliveries['failed']} "
            f"failed) -> checkout -> Celery worker: {by_webhooks} of {confirmed} paid within "
            f"{waited:.0f} s after the sale (the worker applied {events['processed']} events "
            f"in {applying:.1f} s from the first received)"
        )
    if reconciled is not None:
        paths.append(
            ("then " if worker else "")
            + f"payments_reconcile(older_than=0) once, through manage.py shell: {reconciled} "
            f"orders changed in {reconcile_seconds:.1f} s"
            + ("" if worker else " (--paid-by reconcile: no webhook, no worker)")
        )
    print(f"paid through: {'; '.join(paths)}")
    print(
        "payments confirmed on the emulator: "
        + (", ".join(f"{n} {what}" for what, n in sale.payments.items()) or "none")
        + f"; webhook events: {dict(events) or 'none'}; flash orders: {dict(orders)}"
        + f"; took {time.monotonic() - began:.0f} s (setup {setup_seconds:.0f} s)"
    )
    problems = []
    if checkouts.failed_total or orders_stored != checkouts.created_total:
        problems.append("scenario 1: a checkout was not a 201, or the orders do not add up")
    if answers != Counter({201: stock, "409 out_of_stock": FLASH_BUYERS - stock}):
        problems.append(f"unexpected answers: {dict(answers)}; e.g. {sale.outcome.failure_sample}")
    if sale.payments != Counter({"succeeded": stock}):
        problems.append(f"payments: {dict(sale.payments)}")
    if paid != stock or oversold != 0 or (on_hand, reserved) != (0, 0):
        problems.append("paid orders or stock do not add up")
    if problems:
        for problem in problems:
            print(f"bench: FAILED: {problem}", file=sys.stderr)
        if worker_log.getvalue():
            print(f"  checkout worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
        return 1
    return 0


def order_paid_envelope(user_id: str, product_id: str, merchant_id: str) -> dict[str, Any]:
    """An `order.paid` as checkout's relay sends it, published now."""
    now = datetime.now(UTC).isoformat()
    order_id = str(uuid.uuid4())
    return {
        "id": str(uuid.uuid4()),
        "type": "order.paid",
        "source": "checkout",
        "time": now,
        "subject": order_id,
        "data": {
            "order_id": order_id,
            "user_id": user_id,
            "currency": "EUR",
            "paid_at": now,
            "lines": [
                {
                    "line_id": str(uuid.uuid4()),
                    "product_id": product_id,
                    "variant_id": str(uuid.uuid4()),
                    "merchant_id": merchant_id,
                    "quantity": 1,
                    "amount": 4990,
                    "source": None,
                }
            ],
        },
    }


def publish_orders(broker_url: str, sample: list[list[str]]) -> dict[str, float]:
    """Send one `order.paid` per (user, product, merchant) to the attribution queue, at
    DELAY_ORDERS_PER_SECOND, as the relay would. Returns {order id: publish time (epoch)}."""
    from celery import Celery

    app = Celery("bench", broker=broker_url)
    published: dict[str, float] = {}
    with app.producer_or_acquire() as producer:
        for user_id, product_id, merchant_id in sample:
            envelope = order_paid_envelope(user_id, product_id, merchant_id)
            published[envelope["data"]["order_id"]] = time.time()
            app.send_task(
                EVENT_TASK, args=[envelope], queue=ATTRIBUTION_QUEUES[0], producer=producer
            )
            time.sleep(1 / DELAY_ORDERS_PER_SECOND)
    return published


def attribution_delays(database: str, published: dict[str, float]) -> list[float]:
    """Seconds from each order's publication to its line being written, once all are (or
    DELAY_WAIT_SECONDS have passed)."""
    deadline = time.monotonic() + DELAY_WAIT_SECONDS
    while True:
        rows = query(
            database,
            "SELECT order_id::text, extract(epoch FROM recorded_at) FROM attribution_saleline "
            "WHERE order_id = ANY(%s::uuid[])",
            [list(published)],
        )
        if len(rows) == len(published) or time.monotonic() > deadline:
            return sorted(float(written) - published[order] for order, written in rows)
        time.sleep(0.2)


def run_attribution(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(ATTRIBUTION)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2
    floor, ours = answer["floor_seconds"], answer["attribution_seconds"]
    ratio = ours / floor if floor else math.nan
    print(
        f"attribution: {answer['lines']:,} paid lines against {answer['events']:,} events, "
        f"all five models: {ours:.2f} s ({answer['lines'] / ours:,.0f} lines/s, "
        f"{answer['credits']:,} credits written) | plain-SQL last touch {floor:.2f} s | "
        f"ratio attribution/last-touch SQL {ratio:.1f}x (aim: at most {ATTRIBUTION_RATIO_AIM:.0f}x)"
    )
    agreeing = answer["compared_with_floor"] - answer["disagreeing_with_floor"]
    print(
        f"checks: {answer['line_model_groups']:,} (line, model) sums, "
        f"{answer['wrong_sums']} not equal to the line amount (must be 0); last touch "
        f"agrees with the SQL floor on {agreeing:,} "
        f"of {answer['compared_with_floor']:,} lines with a click (must be all); "
        f"{answer['attributed_lines']:,} lines attributed"
    )

    server = environment["DATABASE_URL"]
    database = environment[ATTRIBUTION.database_variable]
    ensure_database(server, ATTRIBUTION_BROKER_DATABASE, fresh=True)
    broker = database_at(server, ATTRIBUTION_BROKER_DATABASE, "sqla+postgresql+psycopg")
    worker_environment = environment | {"CELERY_BROKER_URL": broker}
    worker_log = io.StringIO()
    try:
        with celery_worker(
            ATTRIBUTION, worker_environment, ATTRIBUTION_QUEUES, worker_log
        ) as worker:
            wait_for_consumer(
                worker, database_at(server, ATTRIBUTION_BROKER_DATABASE), ATTRIBUTION_QUEUES
            )
            print(
                f"bench: {len(answer['sample'])} order.paid events to video.attribution at "
                f"{DELAY_ORDERS_PER_SECOND}/s, Celery worker ({WORKERS} processes) on the "
                "PostgreSQL broker …",
                flush=True,
            )
            published = publish_orders(broker, answer["sample"])
            delays = attribution_delays(database, published)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        print(f"  attribution worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
        return 2
    written = len(delays)
    if delays:
        median = delays[len(delays) // 2]
        p99 = delays[min(len(delays) - 1, math.ceil(0.99 * len(delays)) - 1)]
        print(
            f"order.paid published -> credits written: median {median * 1000:,.0f} ms, "
            f"p99 {p99 * 1000:,.0f} ms over {written} orders (the PostgreSQL broker is polled "
            f"every 0.1 s) | took {time.monotonic() - began:.0f} s"
        )
    problems = []
    if answer["wrong_sums"] or answer["disagreeing_with_floor"]:
        problems.append("credits that do not add up, or last touch unlike the SQL floor")
    if written != len(published):
        problems.append(f"only {written} of {len(published)} orders attributed in time")
    for problem in problems:
        print(f"bench: FAILED: {problem}", file=sys.stderr)
    if problems and worker_log.getvalue():
        print(f"  attribution worker's log:\n{log_tail(worker_log.getvalue())}", file=sys.stderr)
    return 1 if problems else 0


def search_requests(queries: list[str]) -> Callable[[int, int], Request]:
    """`GET /api/v1/search/?q=…`, anonymous, the queries in turn (each client starting
    at a different one)."""
    paths = [f"{SEARCH_PATH}?{urlencode({'q': query})}" for query in queries]

    def request_for(client: int, n: int) -> Request:
        return "GET", paths[(client * 5 + n) % len(paths)], None, {}

    return request_for


def for_you_first_pages(authorizations: list[str]) -> Callable[[int, int], Request]:
    """A first page of "for you" for each user in turn: it ranks and keeps a snapshot."""

    def request_for(client: int, n: int) -> Request:
        user = (client * 37 + n) % len(authorizations)
        return "GET", FOR_YOU_PATH, None, {"Authorization": authorizations[user]}

    return request_for


def for_you_next_pages(pages: list[tuple[str, str]]) -> Callable[[int, int], Request]:
    """The second page of a kept snapshot, (path, user's Authorization) in turn: one read."""

    def request_for(client: int, n: int) -> Request:
        path, authorization = pages[(client * 7 + n) % len(pages)]
        return "GET", path, None, {"Authorization": authorization}

    return request_for


def fetch_as(port: int, path: str, authorization: str) -> Any:
    """GET `path` as a user: the JSON of a 200, else BenchError."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": authorization})
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body[:300]!r}")
    return json.loads(body)


def discovery_pages(port: int, queries: list[str], users: list[tuple[str, str]]) -> list[Any]:
    """Check that every query finds something and that "for you" pages; returns the
    second page (its path, the user's Authorization) of the first NEXT_PAGE_USERS users."""
    for query_text in queries:
        path = f"{SEARCH_PATH}?{urlencode({'q': query_text})}"
        if not fetch_json(port, path)["results"]:
            raise BenchError(f"GET {path} found nothing")
    pages = []
    for user_id, authorization in users[:NEXT_PAGE_USERS]:
        first = fetch_as(port, FOR_YOU_PATH, authorization)
        if len(first["results"]) != FEED_PAGE or not first["next"]:
            raise BenchError(f"for you of {user_id}: {len(first['results'])} videos, no next")
        parts = urlsplit(first["next"])
        pages.append((f"{parts.path}?{parts.query}", authorization))
    second = fetch_as(port, pages[0][0], pages[0][1])
    if len(second["results"]) != FEED_PAGE:
        raise BenchError(f"for you, second page: {len(second['results'])} videos")
    return pages


def run_discovery(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(DISCOVERY)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2
    evaluation = answer["evaluation"]
    evaluated, hits = evaluation["users"], evaluation["hits"]
    rates = {name: hits[name] / evaluated if evaluated else math.nan for name in hits}
    print(
        f"offline: {answer['videos']} videos, {len(answer['users'])} users, "
        f"{answer['events']:,} events in {answer['sessions']:,} sessions "
        f"({answer['taps']:,} taps); each user's last tap held out ({evaluated} users)"
    )
    print(
        f"hit@10: for you {rates['for_you']:.3f} ({hits['for_you']}/{evaluated}) | "
        f"chronological {rates['chronological']:.3f} ({hits['chronological']}/{evaluated}) | "
        f"trending {rates['trending']:.3f} ({hits['trending']}/{evaluated})"
    )
    matching, matching_hits = evaluation["matching_taste"], evaluation["hits_matching_taste"]
    print(
        f"  held-out videos by a favourite creator or with a favourite hashtag: {matching} of "
        f"{evaluated}; found among those: for you {matching_hits['for_you']}, chronological "
        f"{matching_hits['chronological']}, trending {matching_hits['trending']}"
    )
    print(
        f"  evaluation took {evaluation['seconds']:.1f} s: {evaluation['trending_recomputes']} "
        f"trending recomputes (one per hour holding an as_of) "
        f"{evaluation['trending_seconds']:.1f} s, {evaluated} for-you rankings "
        f"({evaluation['ranking_threads']} at a time) "
        f"{1000 * evaluation['for_you_seconds'] / max(evaluated, 1):.0f} ms each"
    )

    secret = environment["JWT_HS256_SECRET"]
    users = [(user, bearer(user, secret)) for user in answer["users"]]
    authorizations = [authorization for _, authorization in users]
    try:
        with serving(DISCOVERY, environment) as port:
            pages = discovery_pages(port, answer["queries"], users)
            scenarios = [
                Scenario("bare DRF", get(BARE_PATH)),
                Scenario("search", search_requests(answer["queries"])),
                Scenario("for you: first page", for_you_first_pages(authorizations)),
                Scenario("for you: next page", for_you_next_pages(pages)),
            ]
            outcomes = run_scenarios(port, scenarios, arguments)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2

    bare, searching, first, following = outcomes
    print()
    for outcome in (searching, first, following):
        ratio = outcome.rate / bare.rate if bare.rate else math.nan
        print(
            f"{outcome.name}: {outcome.summary()} | bare DRF: {bare.summary()} | ratio {ratio:.3f}"
        )
    failures = sum(outcome.failed_total for outcome in outcomes)
    print(f"failed answers (warm-up included): {failures}; took {time.monotonic() - began:.0f} s")
    if failures:
        print("bench: FAILED (see failed answers above)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    parts = {
        "catalog": run_catalog,
        "video": run_video,
        "checkout": run_checkout,
        "attribution": run_attribution,
        "discovery": run_discovery,
    }
    codes: list[int] = []
    for name in [arguments.only] if arguments.only else list(parts):
        if codes:
            print(flush=True)
        codes.append(parts[name](arguments))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
