"""The whole stack for the end-to-end tests: every process of `infra/Procfile` (three
gunicorn servers, the Celery workers with their schedulers, the attribution worker, the
Stripe emulator) on free ports, fresh databases and a broker in PostgreSQL, started once
for the session with `clipcart_tools.stack.Stack` — under supervisord and its liveness
watchdog, as `make run` runs them — and seeded with the demo data.

Runs under `make test`, which provides DATABASE_URL (the embedded PostgreSQL unless one
is given) and the local secrets (`clipcart exec`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from clipcart_tools.demo_after_payment import DEMO_ENVIRONMENT
from clipcart_tools.journey import Endpoints, Journey
from clipcart_tools.stack import ROOT, Stack
from clipcart_tools.testing.services import free_port

SERVICES = ("catalog", "video", "checkout")
# Short enough to watch expiry and the lost-task sweep happen within a test.
RESERVATION_SECONDS = 60  # catalog holds stock for at least 60 s
SWEEP_SECONDS = 2
# Attribution reconciliation every few seconds, of events older than a few seconds.
RECONCILE_SECONDS = 2
CONSOLE_RECHECK_SECONDS = 2
# The liveness watchdog checks every few seconds and restarts a worker after two misses.
LIVENESS = {
    "WORKER_LIVENESS_SECONDS": "3",
    "WORKER_LIVENESS_TIMEOUT_SECONDS": "5",
    "WORKER_LIVENESS_FAILURES": "2",
    "WORKER_LIVENESS_GRACE_SECONDS": "30",
}


def database_url(server: str, name: str, scheme: str = "postgresql") -> str:
    return urlunsplit(urlsplit(server)._replace(scheme=scheme, path=f"/{name}"))


@dataclass
class RunningStack:
    stack: Stack
    environment: dict[str, str]
    endpoints: Endpoints
    databases: dict[str, str]  # service (and "broker") → URL

    def journey(self) -> Journey:
        return Journey(
            self.endpoints,
            jwt_secret=self.environment["JWT_HS256_SECRET"],
            stripe_key="sk_test_clipcart_e2e",
            say=lambda text: None,
            tracking_secret=self.environment.get(
                "TRACKING_WEBHOOK_SECRET", "tracking_clipcart_local"
            ),
        )

    def admin_bases(self) -> dict[str, str]:
        return {
            "catalog": f"{self.endpoints.catalog}/catalog/admin",
            "video": f"{self.endpoints.video}/video/admin",
            "checkout": f"{self.endpoints.checkout}/checkout/admin",
        }

    def connect(self, service: str) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection to the database of `service` (or "broker"); commits on exit."""
        return psycopg.connect(self.databases[service])

    def query(self, service: str, statement: str, *parameters: Any) -> list[tuple[Any, ...]]:
        with self.connect(service) as connection:
            return connection.execute(statement, parameters).fetchall()


def _fresh_databases(server: str, names: list[str]) -> None:
    with psycopg.connect(database_url(server, "postgres"), autocommit=True) as connection:
        for name in names:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')


@pytest.fixture(scope="package")  # stopped before the other packages' tests run
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    server = os.environ.get("DATABASE_URL")
    if not server:
        pytest.fail("DATABASE_URL is not set: run through `make test` (clipcart exec).")
    names = {service: f"clipcart_e2e_{service}" for service in SERVICES}
    _fresh_databases(server, [*names.values(), "clipcart_e2e_broker"])
    ports = {service: free_port() for service in (*SERVICES, "stripe")}
    databases = {service: database_url(server, name) for service, name in names.items()}
    environment = {
        **os.environ,
        **{f"{service.upper()}_DATABASE_URL": url for service, url in databases.items()},
        **{f"{service.upper()}_PORT": str(port) for service, port in ports.items()},
        "STRIPE_EMULATOR_PORT": str(ports["stripe"]),
        "STRIPE_API_BASE": f"http://127.0.0.1:{ports['stripe']}",
        "STRIPE_SECRET_KEY": "sk_test_clipcart_e2e",
        "CELERY_BROKER_URL": database_url(server, "clipcart_e2e_broker", "sqla+postgresql+psycopg"),
        "CLIPCART_DATA_DIR": str(tmp_path_factory.mktemp("e2e-data")),
        "WEB_CONCURRENCY": "1",
        "CHECKOUT_RESERVATION_SECONDS": str(RESERVATION_SECONDS),
        "WEBHOOK_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "ORDER_EXPIRY_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "ATTRIBUTION_RECONCILE_SECONDS": str(RECONCILE_SECONDS),
        "ATTRIBUTION_RECONCILE_DELAY_SECONDS": str(RECONCILE_SECONDS),
        "LOG_JSON": "false",
        # Every return window this short: the journey sees a delivered line settle; and
        # the transfer sweep and the creators' payout batches as short (money out).
        **DEMO_ENVIRONMENT,
        # The trusting admins ask catalog again this often: removals show within a test.
        "CONSOLE_RECHECK_SECONDS": str(CONSOLE_RECHECK_SECONDS),
        **LIVENESS,
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"

    def migrate_and_seed(service: str) -> None:
        for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT / "services" / service,
                env=environment,
                check=True,
                stdout=subprocess.DEVNULL,
            )

    # Each service has a database of its own and seeds only it: the three side by side.
    with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
        for done in [pool.submit(migrate_and_seed, service) for service in SERVICES]:
            done.result()
    stack = Stack(environment, Path(environment["CLIPCART_DATA_DIR"]) / "logs")
    endpoints = Endpoints(
        *(f"http://127.0.0.1:{ports[service]}" for service in SERVICES),
        stripe=f"http://127.0.0.1:{ports['stripe']}",
    )
    try:
        stack.start()
        stack.wait_ready(
            [f"{getattr(endpoints, service)}/readyz" for service in SERVICES] + [endpoints.stripe],
            # A 2-core machine shared by several suites starts a dozen processes slowly.
            timeout=240,
        )
        broker = database_url(server, "clipcart_e2e_broker")
        yield RunningStack(stack, environment, endpoints, {**databases, "broker": broker})
    finally:
        stack.stop_all()


@pytest.fixture
def stack(running_stack: RunningStack) -> Iterator[RunningStack]:
    """The running stack; a test that fails shows the tail of every process's log."""
    yield running_stack
    if dead := running_stack.stack.exited():
        logs = "\n".join(f"--- {name}\n{running_stack.stack.log(name)}" for name in dead)
        pytest.fail(f"Processes stopped during the test: {dead}\n{logs}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    running = item.funcargs.get("stack") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(running, RunningStack):
        for name in [*running.stack.commands, "liveness", "supervisord"]:
            report.sections.append((f"log of {name}", running.stack.log(name, 40)))
