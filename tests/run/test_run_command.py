"""`clipcart run` itself (what `make run` starts), twice side by side on the embedded default,
each with its own data folder and only the port variables moved (issue 13):

- one setting moves one thing everywhere: a payment on each stack lands on its own Stripe
  emulator and pays its own order (checkout's STRIPE_API_BASE and the emulator's webhook
  follow the ports; nothing points at the defaults);
- SIGTERM to the command's process group (as CI, `timeout` or systemd stop it) stops every
  process it started and its embedded PostgreSQL within the bound, and a second start on
  the same data folder works.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests

from clipcart_shared.tokens import user_token_mint
from clipcart_tools.cli import LOCAL_DEFAULTS
from clipcart_tools.journey import Endpoints, Journey
from clipcart_tools.stack import ROOT
from clipcart_tools.testing.services import free_port
from tests.e2e.test_journey import _checkout

pytestmark = pytest.mark.e2e

STOPPED_WITHIN_SECONDS = 20
STARTED_WITHIN_SECONDS = 420  # a fresh data folder: initdb, migrations, demo data


@dataclass
class RunCommand:
    data_dir: Path
    ports: dict[str, int]
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoints(self) -> Endpoints:
        base = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        return Endpoints(base["catalog"], base["video"], base["checkout"], base["stripe"])

    def environment(self) -> dict[str, str]:
        environment = {
            name: value
            for name, value in os.environ.items()
            if name not in {"DATABASE_URL", "CELERY_BROKER_URL", "STRIPE_API_BASE"}
            and name not in {"XDG_RUNTIME_DIR", "DJANGO_SETTINGS_MODULE"}
            and not name.endswith(("_DATABASE_URL", "_PORT", "_URL"))
        }
        environment.update(
            CLIPCART_DATA_DIR=str(self.data_dir),
            CATALOG_PORT=str(self.ports["catalog"]),
            VIDEO_PORT=str(self.ports["video"]),
            CHECKOUT_PORT=str(self.ports["checkout"]),
            STRIPE_EMULATOR_PORT=str(self.ports["stripe"]),
            WEB_CONCURRENCY="1",
        )
        return environment

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clipcart_tools.cli", "run"],
            cwd=ROOT,
            env=self.environment(),
            stdout=(self.data_dir.parent / f"{self.data_dir.name}.out").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, deadline: float) -> None:
        services = ("catalog", "video", "checkout")
        urls = [f"{getattr(self.endpoints, name)}/readyz" for name in services]
        waiting = [*urls, self.endpoints.stripe]
        while waiting:
            assert self.process and self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"not ready: {waiting}\n{self.output()}"
            for url in list(waiting):
                try:
                    if requests.get(url, timeout=2).status_code < 500:
                        waiting.remove(url)
                except requests.RequestException:
                    pass
            time.sleep(1)

    def processes(self) -> list[psutil.Process]:
        """Everything this run started (whatever session it is in), and its PostgreSQL."""
        assert self.process is not None
        found = [psutil.Process(self.process.pid)]
        found += found[0].children(recursive=True)
        found += [p for p in psutil.process_iter(["cmdline"]) if self._is_ours(p)]
        return list({p.pid: p for p in found}.values())

    def _is_ours(self, process: psutil.Process) -> bool:
        return str(self.data_dir) in " ".join(process.info.get("cmdline") or [])

    def terminate(self) -> float:
        """SIGTERM to the command's process group; seconds until all of it was gone."""
        assert self.process is not None
        started = self.processes()
        assert any("postgres" in " ".join(p.cmdline()) for p in started)
        began = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(started, timeout=STOPPED_WITHIN_SECONDS)
        left = [p for p in psutil.process_iter(["cmdline"]) if self._is_ours(p)]
        assert alive == [] and left == [], (alive, left, self.output())
        self.process.wait(timeout=5)
        return time.monotonic() - began

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            for process in self.processes():
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()

    def output(self) -> str:
        path = self.data_dir.parent / f"{self.data_dir.name}.out"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def journey(self) -> Journey:
        return Journey(
            self.endpoints,
            jwt_secret=LOCAL_DEFAULTS["JWT_HS256_SECRET"],
            stripe_key="sk_test_clipcart_local",
            say=lambda text: None,
        )


@pytest.fixture
def two_runs(tmp_path: Path) -> Iterator[tuple[RunCommand, RunCommand]]:
    runs = tuple(
        RunCommand(
            tmp_path / f"data-{index}",
            {name: free_port() for name in ("catalog", "video", "checkout", "stripe")},
        )
        for index in (1, 2)
    )
    try:
        yield runs  # type: ignore[misc]
    finally:
        for run in runs:
            run.kill()


def _token(user: str) -> str:
    return user_token_mint(user_id=user, secret=LOCAL_DEFAULTS["JWT_HS256_SECRET"], ttl_seconds=600)


def _payment_intent_on(run: RunCommand, payment_intent: str) -> int:
    return requests.get(
        f"{run.endpoints.stripe}/v1/payment_intents/{payment_intent}",
        auth=("sk_test_clipcart_local", ""),
        timeout=10,
    ).status_code


def test_two_stacks_side_by_side_pay_on_their_own_emulators_and_stop_cleanly(two_runs):
    first, second = two_runs
    first.start()
    second.start()
    deadline = time.monotonic() + STARTED_WITHIN_SECONDS
    first.wait_ready(deadline)
    second.wait_ready(deadline)

    for run, other, user in ((first, second, "run-a"), (second, first, "run-b")):
        journey = run.journey()
        checkout = _checkout(journey, user)
        payment_intent = checkout["payment"]["client_secret"].split("_secret_")[0]
        assert _payment_intent_on(run, payment_intent) == 200
        assert _payment_intent_on(other, payment_intent) == 404
        assert journey.pay(checkout) == "succeeded"
        # The emulator's webhook reached this stack's checkout: its own order is paid.
        journey.wait_for_status(user, checkout["order"]["id"], "paid", timeout=60)
        assert (
            requests.get(
                f"{other.endpoints.checkout}/api/v1/orders/{checkout['order']['id']}/",
                headers={"Authorization": f"Bearer {_token(user)}"},
                timeout=10,
            ).status_code
            == 404
        )

    assert first.terminate() < STOPPED_WITHIN_SECONDS
    # The same data folder starts again (while the other stack keeps running).
    first.start()
    first.wait_ready(time.monotonic() + 180)
    assert first.terminate() < STOPPED_WITHIN_SECONDS
    assert second.terminate() < STOPPED_WITHIN_SECONDS
