"""Supervision of the embedded run: supervisord's configuration, and the liveness watchdog.

Every process of `infra/Procfile` runs under supervisord (ADR 15): one that exits is
started again — at once after it had been up for `startsecs`, with a growing delay (1 s,
2 s, 3 s …) while it keeps failing sooner — and supervisord logs each exit and start. All
are in one group, so a stop signals them together; each gets SIGTERM alone (a Celery
worker then finishes its tasks: a warm shutdown) and its whole process group SIGKILL after
the grace period.

A worker whose pool no longer takes tasks does not exit, so a watchdog (itself a
supervised program, `python -m clipcart_tools.supervision`) sends each worker the
liveness round trip of `clipcart_shared.liveness` every `WORKER_LIVENESS_SECONDS` and has
supervisord restart the one that failed `WORKER_LIVENESS_FAILURES` times in a row.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

logger = logging.getLogger("clipcart.liveness")

GROUP = "clipcart"
WATCHDOG = "liveness"
# A program must stay up this long to count as started; a sooner exit is retried with a
# backoff, at most this many times in a row, before supervisord gives up on it (FATAL).
START_SECONDS = 3
START_RETRIES = 8


def worker_node(command: str) -> str | None:
    """The Celery node name a Procfile command runs (`--hostname name@%h`), or None when
    the command is no Celery worker."""
    words = shlex.split(command)
    if "celery" not in words or "worker" not in words:
        return None
    if "--hostname" not in words:
        raise ValueError(f"A worker needs a node name of its own (--hostname): {command}")
    name = words[words.index("--hostname") + 1]
    return name.replace("%h", socket.gethostname())


def _escape(value: str) -> str:
    # supervisord expands %(name)s in its values: a literal % is %%.
    return value.replace("%", "%%")


def config_render(
    commands: dict[str, str],
    *,
    root: Path,
    log_dir: Path,
    run_dir: Path,
    stop_seconds: int,
) -> str:
    """supervisord's configuration for these {name: shell command} programs and the
    watchdog of their Celery workers."""
    socket_path = run_dir / "supervisor.sock"
    sections = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={log_dir / 'supervisord.log'}",
        "logfile_maxbytes=0",
        f"pidfile={run_dir / 'supervisord.pid'}",
        f"childlogdir={log_dir}",
        "",
        "[unix_http_server]",
        f"file={socket_path}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{socket_path}",
        "",
    ]
    workers = {name: node for name, command in commands.items() if (node := worker_node(command))}
    programs = dict(commands)
    watch = " ".join(f"--worker {shlex.quote(f'{name}={node}')}" for name, node in workers.items())
    python = shlex.quote(sys.executable)
    programs[WATCHDOG] = f"exec {python} -m clipcart_tools.supervision {watch}"
    for name, command in programs.items():
        sections += [
            f"[program:{name}]",
            f"command=bash -c {_escape(shlex.quote(command))}",
            f"directory={root}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={START_SECONDS}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={stop_seconds}",
            "stopasgroup=false",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={log_dir / f'{name}.log'}",
            "stdout_logfile_maxbytes=0",
            "stdout_logfile_backups=0",
            "",
        ]
    sections += [f"[group:{GROUP}]", f"programs={','.join(programs)}", ""]
    return "\n".join(sections)


def _rpc():  # type: ignore[no-untyped-def]
    from supervisor import childutils

    return childutils.getRPCInterface(os.environ).supervisor


def _restart(supervisor, name: str) -> None:  # type: ignore[no-untyped-def]
    from xmlrpc.client import Fault

    try:
        supervisor.stopProcess(name)
    except Fault as fault:  # it stopped by itself meanwhile: supervisord restarts it
        logger.info("liveness: %s was not running (%s)", name, fault.faultString)
    try:
        supervisor.startProcess(name, False)
    except Fault as fault:
        logger.info("liveness: %s is starting already (%s)", name, fault.faultString)


def watch(
    workers: dict[str, str],
    *,
    broker_url: str,
    interval: float,
    timeout: float,
    failures_allowed: int,
    grace: float,
) -> None:
    """Forever: check every running worker, restart the one that failed too often."""
    from clipcart_shared.liveness import worker_alive

    failures = dict.fromkeys(workers, 0)
    alive_since: dict[str, int] = {}  # the start time of the process that answered
    started = time.time()
    supervisor = _rpc()

    def check(name: str) -> bool:
        return worker_alive(node=workers[name], broker_url=broker_url, timeout=timeout)

    with ThreadPoolExecutor(max_workers=max(1, len(workers))) as pool:
        while True:
            time.sleep(interval)
            # The XML-RPC proxy is not thread-safe: only the round trips run in parallel.
            infos = {
                item["name"]: item
                for item in supervisor.getAllProcessInfo()
                if item["group"] == GROUP
            }
            running = {
                name: infos[name]
                for name in workers
                if name in infos and infos[name]["statename"] == "RUNNING"
            }
            for name in set(workers) - set(running):
                failures[name] = 0
            for name, alive in zip(running, pool.map(check, running), strict=True):
                info = running[name]
                if alive:
                    failures[name] = 0
                    alive_since[name] = info["start"]
                    continue
                # Still starting (it has not answered once since): not judged yet. Longer
                # while the whole stack starts at once, on a busy machine.
                allowed = grace * 4 if info["start"] - started < grace else grace
                if alive_since.get(name) != info["start"] and info["now"] - info["start"] < allowed:
                    continue
                failures[name] += 1
                logger.warning(
                    "liveness: %s (%s) ran no task in %.0f s (%d of %d)",
                    name,
                    workers[name],
                    timeout,
                    failures[name],
                    failures_allowed,
                    extra={"worker": name, "failures": failures[name]},
                )
                if failures[name] >= failures_allowed:
                    logger.error("liveness: restarting %s", name, extra={"worker": name})
                    _restart(supervisor, f"{GROUP}:{name}")
                    failures[name] = 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The liveness watchdog of the embedded run.")
    parser.add_argument("--worker", action="append", default=[], help="program=node name")
    arguments = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    from clipcart_shared.settings import broker_url

    workers = dict(item.split("=", 1) for item in arguments.worker)
    environ = os.environ
    interval = float(environ.get("WORKER_LIVENESS_SECONDS", "15"))
    logger.info("liveness: watching %s every %.0f s", ", ".join(workers) or "nothing", interval)
    watch(
        workers,
        broker_url=broker_url(),
        interval=interval,
        timeout=float(environ.get("WORKER_LIVENESS_TIMEOUT_SECONDS", "10")),
        failures_allowed=int(environ.get("WORKER_LIVENESS_FAILURES", "2")),
        grace=float(environ.get("WORKER_LIVENESS_GRACE_SECONDS", "30")),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
