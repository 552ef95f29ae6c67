"""Catalog throughput bench: `make bench` (ARGS="--seconds 3 --concurrency 8").

Runs under `clipcart exec`, which provides DATABASE_URL (the embedded PostgreSQL) and the
local secrets. In one run it:

1. migrates and seeds a separate database, `clipcart_catalog_bench` (demo data untouched);
2. starts gunicorn (2 sync workers, 127.0.0.1, a free port) on the catalog with a bench-only
   URLconf that adds `/bench/bare/`, a bare DRF view;
3. measures `GET /api/v1/products/?limit=20` against that bare view, served by the same
   processes, and prints the ratio list/bare;
4. measures reservations on one hot variant and on distinct variants, and prints the ratio;
5. checks the stock counters against the reservations answered, and stops gunicorn.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
CATALOG_DIR = ROOT / "services" / "catalog"
BENCH_DATABASE = "clipcart_catalog_bench"
HOST = "127.0.0.1"
WORKERS = 2
LIST_PATH = "/api/v1/products/?limit=20"
BARE_PATH = "/bench/bare/"
RESERVE_PATH = "/internal/v1/reservations/"
RATIO_AIM = 0.50
# clipcart_shared.auth.SERVICE_TOKEN_SECONDS is 60: re-mint well before expiry.
TOKEN_REFRESH_SECONDS = 30

# (method, path, body, headers) for one request.
Request = tuple[str, str, bytes | None, dict[str, str]]


class BenchError(Exception):
    """The bench could not run (as opposed to: it ran and printed slow figures)."""


# --------------------------------------------------------------------------- setup


def bench_environment() -> dict[str, str]:
    server = os.environ.get("DATABASE_URL", "")
    if not server:
        raise BenchError(
            "DATABASE_URL is not set: run through `make bench` or "
            "`.venv/bin/clipcart exec -- .venv/bin/python infra/bench/run.py`."
        )
    if not os.environ.get("SERVICE_AUTH_KEYS"):
        raise BenchError("SERVICE_AUTH_KEYS is not set (clipcart exec sets a local one).")
    parts = urlsplit(server)
    environment = dict(os.environ)
    python_path = [str(BENCH_DIR), str(CATALOG_DIR), environment.get("PYTHONPATH", "")]
    environment.update(
        {
            "CATALOG_DATABASE_URL": urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")),
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join(p for p in python_path if p),
            "LOG_LEVEL": "WARNING",
            # Keep the bench off the shared broker database; events are rare here anyway
            # (a product's card changes only on its first reservation, during warm-up).
            "CELERY_BROKER_URL": "memory://localhost/",
        }
    )
    return environment


def ensure_database(server_url: str) -> None:
    import psycopg

    parts = urlsplit(server_url)
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE]
        ).fetchone()
        if found is None:
            connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')


@dataclass(frozen=True)
class Seeded:
    hot_variant: str
    distinct_variants: list[str]
    list_products: int


def migrate_and_seed(environment: dict[str, str]) -> Seeded:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=CATALOG_DIR,
        env=environment,
        check=True,
    )
    seeded = subprocess.run(
        [sys.executable, str(BENCH_DIR / "bench_seed.py")],
        cwd=CATALOG_DIR,
        env=environment,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return Seeded(**json.loads(seeded.stdout.strip().splitlines()[-1]))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def start_gunicorn(environment: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--chdir",
        str(CATALOG_DIR),
        "--pythonpath",
        f"{BENCH_DIR},{CATALOG_DIR}",
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


def check_endpoints(port: int, expected_products: int) -> None:
    status, body = fetch(port, LIST_PATH)
    if status != 200:
        raise BenchError(f"GET {LIST_PATH} answered {status}: {body[:300]!r}")
    results = json.loads(body)["results"]
    if len(results) != min(20, expected_products):
        raise BenchError(f"GET {LIST_PATH} listed {len(results)} products, expected 20")
    status, body = fetch(port, BARE_PATH)
    if status != 200 or json.loads(body) != {"ok": True}:
        raise BenchError(f"GET {BARE_PATH} answered {status}: {body[:300]!r}")


# --------------------------------------------------------------------------- load


@dataclass
class Outcome:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # measured window only
    statuses: Counter[int | str] = field(default_factory=Counter)  # measured window only
    created_total: int = 0  # 201 answers, warm-up included (for the stock check)
    failure_sample: str = ""
    client_cpu: float = 0.0  # share of one core used by this (load-generating) process

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> int:
        return sum(n for s, n in self.statuses.items() if not (isinstance(s, int) and s < 300))

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
) -> Outcome:
    """`concurrency` threads, each with its own connection, send requests back to back:
    `warmup` seconds unrecorded, then `seconds` recorded. `request_for(client, n)` builds
    the n-th request of a client."""
    outcome = Outcome(name=name, seconds=seconds)
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    window: dict[str, float] = {}

    def client(index: int) -> None:
        latencies: list[float] = []
        statuses: Counter[int | str] = Counter()
        created = 0
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
                if finished < start or finished > end:
                    continue
                latencies.append(finished - began)
                statuses[status] += 1
                if not (isinstance(status, int) and status < 300) and not sample:
                    sample = f"{status}: {content[:300].decode(errors='replace')}"
        finally:
            connection.close()
            with lock:
                outcome.latencies.extend(latencies)
                outcome.statuses.update(statuses)
                outcome.created_total += created
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


# --------------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured, per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded, per scenario")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    arguments = parser.parse_args(argv)
    if arguments.seconds <= 0 or arguments.warmup < 0 or not 1 <= arguments.concurrency <= 200:
        parser.error("need --seconds > 0, --warmup >= 0 and 1 <= --concurrency <= 200")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    began = time.monotonic()
    try:
        environment = bench_environment()
        ensure_database(environment["DATABASE_URL"])
        print(f"bench: migrating and seeding {BENCH_DATABASE} …", flush=True)
        seeded = migrate_and_seed(environment)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2

    hot, distinct = seeded.hot_variant, seeded.distinct_variants
    port = free_port()
    gunicorn = start_gunicorn(environment, port)
    outcomes: list[Outcome] = []
    try:
        wait_until_ready(gunicorn, port)
        check_endpoints(port, seeded.list_products)
        print(
            f"bench: gunicorn ({WORKERS} sync workers) on {HOST}:{port}, "
            f"{arguments.concurrency} clients, {arguments.warmup:g} s warm-up + "
            f"{arguments.seconds:g} s per scenario",
            flush=True,
        )
        token = ServiceToken(environment["SERVICE_AUTH_KEYS"].split(",")[0].strip())
        run_id = uuid.uuid4().hex[:8]
        scenarios: list[tuple[str, Callable[[int, int], Request]]] = [
            ("bare DRF", get(BARE_PATH)),
            ("product list", get(LIST_PATH)),
            ("reserve: hot variant", reserve(token, run_id, "hot", lambda client: hot)),
            (
                "reserve: distinct",
                reserve(token, run_id, "distinct", lambda c: distinct[c % len(distinct)]),
            ),
        ]
        for name, request_for in scenarios:
            outcome = run_load(
                name,
                port,
                request_for,
                concurrency=arguments.concurrency,
                warmup=arguments.warmup,
                seconds=arguments.seconds,
            )
            outcomes.append(outcome)
            print(outcome.detail(), flush=True)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    finally:
        stop_gunicorn(gunicorn)

    bare, listing, hot_outcome, distinct_outcome = outcomes
    # Every 201 must show up in the counters, no more, no less.
    used = distinct[: min(arguments.concurrency, len(distinct))]
    database_url = environment["CATALOG_DATABASE_URL"]
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


if __name__ == "__main__":
    sys.exit(main())
