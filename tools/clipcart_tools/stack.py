"""The whole stack as separate processes, from the commands in `infra/Procfile`, supervised.

`make run`, `make demo` and the end-to-end tests all start the stack through `Stack`, so
what is tested is what runs: supervisord (configured by `clipcart_tools.supervision`)
runs every process, restarts one that exits, and a watchdog restarts a worker whose pool
takes no task (ADR 15). `Stack` also stops one process for good, kills one as a crash
would (supervisord then starts it again), and stops everything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from clipcart_tools.supervision import GROUP, config_render

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "infra" / "Procfile"
# Each process's grace period between SIGTERM and SIGKILL: a Celery worker's warm
# shutdown lets its running tasks end; the whole stack still stops within ~20 s.
STOP_SECONDS = 10


def procfile_commands(path: Path = PROCFILE) -> dict[str, str]:
    """{process name: shell command}, in the file's order."""
    commands = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


@dataclass
class Stack:
    """The Procfile's processes under one supervisord, each logging to `log_dir/<name>.log`."""

    environment: dict[str, str]
    log_dir: Path
    commands: dict[str, str] = field(default_factory=procfile_commands)
    stop_seconds: int = STOP_SECONDS
    supervisord: subprocess.Popen[bytes] | None = None
    _run_dir: Path | None = None

    def _rpc(self) -> Any:
        from supervisor import childutils

        assert self._run_dir is not None
        url = f"unix://{self._run_dir / 'supervisor.sock'}"
        return childutils.getRPCInterface({"SUPERVISOR_SERVER_URL": url}).supervisor

    def start(self, *names: str) -> None:
        """Start the supervisor and every process; or, once it runs, these processes
        (stopped with `stop`) again."""
        if self.supervisord is None:
            self._supervisor_start()
            return
        for name in names:
            if self.state(name) not in {"RUNNING", "STARTING", "BACKOFF"}:
                self._rpc().startProcess(f"{GROUP}:{name}", True)

    def _supervisor_start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # A short path of its own: a unix socket's path has at most 107 bytes.
        self._run_dir = Path(tempfile.mkdtemp(prefix="clipcart-"))
        config = self._run_dir / "supervisord.conf"
        config.write_text(
            config_render(
                self.commands,
                root=ROOT,
                log_dir=self.log_dir,
                run_dir=self._run_dir,
                stop_seconds=self.stop_seconds,
            )
        )
        self.supervisord = subprocess.Popen(
            [str(Path(sys.executable).parent / "supervisord"), "-c", str(config)],
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C or a signal to our group reaches only us, and we
            # stop it (and it stops everything) in order.
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if self._rpc().getState()["statename"] == "RUNNING":
                    return
            except Exception:  # the socket is not there yet
                pass
            if self.supervisord.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"supervisord did not start:\n{self.log('supervisord')}")
            time.sleep(0.2)

    def info(self, name: str) -> dict[str, Any]:
        return dict(self._rpc().getProcessInfo(f"{GROUP}:{name}"))

    def state(self, name: str) -> str:
        return str(self.info(name)["statename"])

    def pid(self, name: str) -> int:
        return int(self.info(name)["pid"])

    def stop(self, name: str) -> None:
        """Stop one process and keep it stopped (SIGTERM, SIGKILL after the grace period)."""
        if self.state(name) in {"RUNNING", "STARTING", "BACKOFF"}:
            self._rpc().stopProcess(f"{GROUP}:{name}", True)

    def kill(self, name: str) -> int:
        """SIGKILL one process and its children, as a crash or an out-of-memory kill would
        end it; supervisord starts it again. Returns the pid it had."""
        pid = self.pid(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        return pid

    def stop_all(self) -> None:
        """Stop every process and the supervisor; SIGKILL what is left after the bound."""
        if self.supervisord is None:
            return
        if self.supervisord.poll() is None:
            self.supervisord.send_signal(signal.SIGTERM)
            try:
                self.supervisord.wait(timeout=self.stop_seconds + 8)
            except subprocess.TimeoutExpired:
                os.killpg(self.supervisord.pid, signal.SIGKILL)
                self.supervisord.wait()
        self.supervisord = None
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)

    def exited(self) -> dict[str, int]:
        """Processes supervisord gave up on (they kept exiting): {name: exit status}; every
        process when supervisord itself has ended."""
        if self.supervisord is None or self.supervisord.poll() is not None:
            return dict.fromkeys(self.commands, -1)
        return {
            item["name"]: item["exitstatus"]
            for item in self._rpc().getAllProcessInfo()
            if item["statename"] == "FATAL"
        }

    def log(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def follow(self, write: Callable[[str], None], stopped: threading.Event) -> None:
        """Write each new line of every log as `name | line`, until `stopped` is set."""
        offsets = {path: path.stat().st_size for path in self.log_dir.glob("*.log")}
        width = max(len(name) for name in [*self.commands, "supervisord"])
        while not stopped.wait(0.3):
            for path in sorted(self.log_dir.glob("*.log")):
                with path.open("rb") as log:
                    log.seek(offsets.get(path, 0))
                    chunk = log.read()
                end = chunk.rfind(b"\n") + 1
                offsets[path] = offsets.get(path, 0) + end
                for line in chunk[:end].decode(errors="replace").splitlines():
                    write(f"{path.stem:<{width}} | {line}")

    def wait_ready(
        self,
        urls: list[str],
        *,
        timeout: float = 240,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Until every URL answers below 500 (a service's `/readyz` is 503 until its
        database and broker answer); RuntimeError, with the log of what died, when a
        process exits for good or time runs out."""
        deadline = time.monotonic() + timeout
        waiting = list(urls)
        while waiting:
            if dead := self.exited():
                details = "\n".join(f"--- {name}:\n{self.log(name)}" for name in dead)
                raise RuntimeError(f"Stopped while starting: {dead}\n{details}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Not ready after {timeout:.0f} s: {', '.join(waiting)}")
            for url in list(waiting):
                try:
                    # Generous: on a loaded machine a first answer can take seconds.
                    if requests.get(url, timeout=10).status_code < 500:
                        waiting.remove(url)
                        if progress:
                            progress(url)
                except requests.RequestException:
                    pass
            time.sleep(0.3)
