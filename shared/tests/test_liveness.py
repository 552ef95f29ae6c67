"""The liveness round trip (`clipcart_shared.liveness`) against a real Celery worker on the
embedded broker: its pool answers; another node name, or the same worker with its pool
stopped (alive, but taking nothing — a control ping would still pass), does not."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import pytest

from clipcart_shared.liveness import worker_alive

ROOT = Path(__file__).resolve().parents[2]
BROKER_DATABASE = "clipcart_liveness_test_broker"


@pytest.fixture(scope="module")
def broker_url() -> str:
    server = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(urlunsplit(server._replace(path="/postgres")), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{BROKER_DATABASE}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{BROKER_DATABASE}"')
    return urlunsplit(server._replace(scheme="sqla+postgresql+psycopg", path=f"/{BROKER_DATABASE}"))


@pytest.fixture(scope="module")
def worker(broker_url: str) -> Iterator[tuple[str, psutil.Process]]:
    node = f"probe@{socket.gethostname()}"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "tests.liveness_app", "worker"),
            *("--hostname", "probe@%h", "--concurrency", "1", "--loglevel", "WARNING"),
        ],
        cwd=ROOT / "shared",
        env={**os.environ, "LIVENESS_BROKER_URL": broker_url},
    )
    try:
        deadline = time.monotonic() + 90
        while not worker_alive(node=node, broker_url=broker_url, timeout=3):
            assert process.poll() is None, "the worker stopped"
            assert time.monotonic() < deadline, "the worker never ran the liveness task"
        yield node, psutil.Process(process.pid)
    finally:
        for child in psutil.Process(process.pid).children():
            child.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=30)


def test_a_worker_whose_pool_runs_tasks_is_alive(worker, broker_url):
    node, _ = worker
    assert worker_alive(node=node, broker_url=broker_url, timeout=10)


def test_another_node_name_is_not_answered_for(worker, broker_url):
    assert not worker_alive(node=f"other@{socket.gethostname()}", broker_url=broker_url, timeout=2)


def test_the_compose_health_check_runs_the_same_round_trip(worker, broker_url, monkeypatch):
    script = ROOT / "infra/docker/healthcheck.py"
    spec = importlib.util.spec_from_file_location("healthcheck", script)
    assert spec and spec.loader
    healthcheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(healthcheck)
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    node, _ = worker

    assert healthcheck.main(["worker", node, "--timeout", "10"]) == 0
    assert healthcheck.main(["worker", f"other@{socket.gethostname()}", "--timeout", "2"]) == 1


def test_a_worker_whose_pool_is_stopped_is_not_alive(worker, broker_url):
    node, main = worker
    pool = main.children()
    assert pool
    for child in pool:
        child.send_signal(signal.SIGSTOP)
    try:
        assert main.is_running()
        assert not worker_alive(node=node, broker_url=broker_url, timeout=3)
    finally:
        for child in pool:
            child.send_signal(signal.SIGCONT)
    assert worker_alive(node=node, broker_url=broker_url, timeout=10)


def test_an_unreachable_broker_is_not_alive():
    assert not worker_alive(node="probe@nowhere", broker_url="redis://127.0.0.1:9/0", timeout=2)
