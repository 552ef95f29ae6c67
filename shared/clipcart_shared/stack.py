"""The whole stack as separate processes, from the commands in `infra/Procfile`.

`make run` hands the Procfile to honcho. The demo and the end-to-end tests need more
control: start every process, wait until the services answer, stop or kill one process
(a worker in the middle of its work) and start it again. `Stack` does that with the same
commands, so what is tested is what runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "infra" / "Procfile"


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
    """The Procfile's processes, each in a session of its own, logging to `log_dir`."""

    environment: dict[str, str]
    log_dir: Path
    commands: dict[str, str] = field(default_factory=procfile_commands)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: dict[str, IO[bytes]] = field(default_factory=dict)

    def start(self, *names: str) -> None:
        """Start these processes (all of them when none is named)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in names or tuple(self.commands):
            if name in self.processes and self.processes[name].poll() is None:
                continue
            log = self._logs.get(name) or open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115
            self._logs[name] = log
            self.processes[name] = subprocess.Popen(
                ["bash", "-c", self.commands[name]],
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, name: str, *, kill: bool = False, timeout: float = 15) -> None:
        """Stop one process: SIGTERM and a grace period, or straight SIGKILL (`kill`), as a
        crash or an out-of-memory kill would end it."""
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop(name)
        for log in self._logs.values():
            log.close()
        self._logs.clear()

    def exited(self) -> dict[str, int]:
        """Processes that have ended by themselves: {name: exit status}."""
        return {
            name: code
            for name, process in self.processes.items()
            if (code := process.poll()) is not None
        }

    def log(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(
        self,
        urls: list[str],
        *,
        timeout: float = 90,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Until every URL answers below 500 (a service's `/readyz` is 503 until its
        database and broker answer); RuntimeError, with the log of what died, when a
        process exits or time runs out."""
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
                    if requests.get(url, timeout=2).status_code < 500:
                        waiting.remove(url)
                        if progress:
                            progress(url)
                except requests.RequestException:
                    pass
            time.sleep(0.3)
