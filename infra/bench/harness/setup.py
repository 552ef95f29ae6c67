"""The bench's ground: where things are, the services under bench, their bench
databases (created, migrated, seeded by a bench_*.py script, or emptied).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[3]
BENCH_DIR = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
WORKERS = 2
BARE_PATH = "/bench/bare/"
# The engagement events table's columns, in the order the benches COPY rows into it
# (parts/video.py; bench_discovery.py's log).
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
# Payouts: the video service's code on a database of its own, where bench_payouts.py
# seeds settled sales and times the creators' payout batch against plain SQL.
PAYOUTS = Service(
    "video",
    BENCH_DIR / "bench_payouts.py",
    ("JWT_HS256_SECRET",),
    database_name="clipcart_video_payouts_bench",
)
# Merchant payouts: the checkout service's code on a database of its own, where
# bench_merchant_payouts.py seeds settled parts and times the merchants' batches.
MERCHANT_PAYOUTS = Service(
    "checkout",
    BENCH_DIR / "bench_merchant_payouts.py",
    ("SERVICE_AUTH_KEYS", "JWT_HS256_SECRET"),
    database_name="clipcart_checkout_payouts_bench",
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


def log_tail(log: str, lines: int = 25) -> str:
    return "\n".join("    " + line for line in log.strip().splitlines()[-lines:])
