"""Another clipcart service running for real, for tests that talk to it over HTTP: its own
database (created fresh on the test server), migrated, optionally seeded, served by
gunicorn on a free local port. A service's tests never import another service's code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

SERVICES_DIR = Path(__file__).resolve().parents[3] / "services"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url(database: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}"))


@dataclass
class RunningService:
    url: str
    directory: Path
    environment: dict[str, str]
    # Once the service runs: its manage.py commands go to one Django process started once
    # (clipcart_tools.testing.manage_server), not to a new Python and Django per command.
    _commands: subprocess.Popen[str] | None = field(default=None, repr=False)
    _commands_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def manage(self, *arguments: str) -> str:
        """Run a `manage.py` command of that service against its test database; its
        stdout. A failing command raises CalledProcessError, as `check=True` does."""
        if self._commands is None:
            finished = subprocess.run(
                [sys.executable, "manage.py", *arguments],
                cwd=self.directory,
                env=self.environment,
                check=True,
                capture_output=True,
                text=True,
            )
            return finished.stdout
        with self._commands_lock:
            assert self._commands.stdin is not None and self._commands.stdout is not None
            self._commands.stdin.write(json.dumps(list(arguments)) + "\n")
            self._commands.stdin.flush()
            line = self._commands.stdout.readline()
        if not line:
            raise RuntimeError(f"The manage.py process of {self.directory.name} stopped.")
        answer = json.loads(line)
        if answer["status"] != 0:
            raise subprocess.CalledProcessError(
                answer["status"],
                ["manage.py", *arguments],
                output=answer["stdout"],
                stderr=answer["stderr"],
            )
        return str(answer["stdout"])

    def commands_start(self) -> None:
        self._commands = subprocess.Popen(
            [sys.executable, "-m", "clipcart_tools.testing.manage_server"],
            cwd=self.directory,
            env=self.environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def commands_stop(self) -> None:
        if self._commands is not None:
            assert self._commands.stdin is not None
            self._commands.stdin.close()
            try:
                self._commands.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._commands.kill()
                self._commands.wait()
            self._commands = None


@contextmanager
def running_service(
    service: str,
    *,
    database: str,
    setup: Sequence[Sequence[str]] = (),
    environment: dict[str, str] | None = None,
) -> Iterator[RunningService]:
    """Start `service` (e.g. "catalog") on a fresh database named `database`, after running
    `migrate` and each `setup` command; stop it and drop nothing on exit (the next run
    recreates the database)."""
    with psycopg.connect(_database_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    port = free_port()
    running = RunningService(
        url=f"http://127.0.0.1:{port}",
        directory=SERVICES_DIR / service,
        environment={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            f"{service.upper()}_DATABASE_URL": _database_url(database),
            "CELERY_BROKER_URL": "memory://",
            "LOG_LEVEL": "WARNING",
            **(environment or {}),
        },
    )
    running.manage("migrate", "--noinput")
    for command in setup:
        running.manage(*command)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            "python:clipcart_shared.gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=running.directory,
        env=running.environment,
    )
    try:
        running.commands_start()  # Django starts there while gunicorn starts
        # Generous: a loaded 2-core machine starts gunicorn and Django slowly.
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{running.url}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"The {service} service did not start.")
            time.sleep(0.1)
        yield running
    finally:
        process.terminate()
        process.wait(timeout=15)
        running.commands_stop()
