"""Catalog and video throughput bench: `make bench` (ARGS="--seconds 3 --only video").

Runs under `clipcart exec`, which provides DATABASE_URL (the embedded PostgreSQL) and the
local secrets. In one run it benches the catalog, then the video service (`--only` picks
one). For each it migrates and seeds a separate database, `clipcart_<service>_bench` (demo
data untouched), and starts gunicorn (2 sync workers, 127.0.0.1, a free port) on the
service with a bench-only URLconf that adds `/bench/bare/`, a bare DRF view. Then:

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

It prints figures and asserts nothing about speed; it exits non-zero only when something
failed (the server did not start, a non-2xx answer, counters that do not add up).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import urlsplit, urlunsplit

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
    seed_script: Path
    secrets: tuple[str, ...]  # environment variables the bench needs from `clipcart exec`

    @property
    def directory(self) -> Path:
        return ROOT / "services" / self.name

    @property
    def database(self) -> str:
        return f"clipcart_{self.name}_bench"

    @property
    def database_variable(self) -> str:
        return f"{self.name.upper()}_DATABASE_URL"


CATALOG = Service("catalog", BENCH_DIR / "bench_seed.py", ("SERVICE_AUTH_KEYS",))
VIDEO = Service("video", BENCH_DIR / "bench_seed_video.py", ("JWT_HS256_SECRET",))
SERVICES = {service.name: service for service in (CATALOG, VIDEO)}


# --------------------------------------------------------------------------- setup


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
        }
    )
    return environment


def ensure_database(server_url: str, name: str) -> None:
    import psycopg

    parts = urlsplit(server_url)
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
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


def stop_gunicorn(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
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
    process = start_gunicorn(service, environment, port)
    try:
        wait_until_ready(process, port)
        check_bare(port)
        yield port
    finally:
        stop_gunicorn(process)


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
                method, path, body, headers = request_for(index, n)
                n += 1
                began = time.perf_counter()
                if began >= end:
                    break
                try:
                    connection.request(method, path, body=body, headers=headers)
                    response = connection.getresponse()
                    content = response.read()
                    status: int | str = response.status
                except (OSError, http.client.HTTPException) as error:
                    connection.close()
                    status, content = type(error).__name__, str(error).encode()
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
    import psycopg

    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT COALESCE(SUM(quantity_reserved), 0) FROM products_variant "
            "WHERE id = ANY(%s::uuid[])",
            [variant_ids],
        ).fetchone()
    return int(row[0]) if row else 0


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
    import psycopg

    with psycopg.connect(database_url) as connection:
        row = connection.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured, per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded, per scenario")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--only", choices=sorted(SERVICES), help="bench one service only")
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

    from clipcart_shared.tokens import user_token_mint

    videos = [FeedVideo(v["id"], [(t[0], t[1]) for t in v["tags"]]) for v in answer["videos"]]
    database_url = environment[VIDEO.database_variable]
    # One mobile user per client, each with a token minted as the app's provider would.
    users = [f"bench-user-{client}" for client in range(arguments.concurrency)]
    authorizations = [
        "Bearer " + user_token_mint(user_id=user, secret=environment["JWT_HS256_SECRET"])
        for user in users
    ]
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


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    parts = {"catalog": run_catalog, "video": run_video}
    codes: list[int] = []
    for name in [arguments.only] if arguments.only else list(parts):
        if codes:
            print(flush=True)
        codes.append(parts[name](arguments))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
