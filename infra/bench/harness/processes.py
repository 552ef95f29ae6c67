"""The processes a part runs: gunicorn on a free port, a Celery worker, the Stripe
emulator; and the first checks that they answer.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, redirect_stderr
from typing import IO, Any

from harness.setup import BARE_PATH, BENCH_DIR, HOST, WORKERS, BenchError, Service


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
        # On a loaded machine (other suites running) a worker may take over 30 s, gunicorn's
        # default, to import Django and the service: not killed for that.
        "--timeout",
        "120",
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


def wait_until_ready(process: subprocess.Popen[bytes], port: int, timeout: float = 120) -> None:
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
