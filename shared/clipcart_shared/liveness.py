"""Is a Celery worker's pool still taking tasks? A round trip through that very worker.

A control ping (`celery inspect ping`) is answered by the worker's main process, so it
passes while the pool under it takes nothing (its processes killed, or stuck), and the
embedded broker in PostgreSQL has no broadcast to carry it anyway. So the check sends a
task instead, to the worker's own queue (`worker_direct`: every worker also consumes
`<node name>.dq`, which no other worker reads), and waits for the pool to run it: the task
writes a nonce to a file the check then reads. The checker and the worker share a file
system — the same container at scale, the same machine in the embedded run.

Used by the embedded run's supervisor (`clipcart_tools.supervision`) on a schedule, and by
the compose health check of every worker (`infra/docker/healthcheck.py worker`).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from celery import Celery
from celery.utils.nodenames import worker_direct

logger = logging.getLogger("clipcart.liveness")

TASK_NAME = "clipcart.liveness"


def liveness_task_register(app: Any) -> None:
    """Register the task the check sends on `app` (every service's Celery app)."""

    @app.task(name=TASK_NAME, ignore_result=True, acks_late=False)
    def liveness(path: str, nonce: str) -> None:
        temporary = f"{path}.tmp"
        Path(temporary).write_text(nonce)
        os.replace(temporary, path)


def worker_alive(
    *,
    node: str,
    broker_url: str,
    timeout: float = 10.0,
    directory: str | None = None,
) -> bool:
    """True when a pool process of the worker named `node` (e.g. `checkout@host`) ran a
    task sent to it within `timeout` seconds."""
    nonce = uuid.uuid4().hex
    path = Path(directory or tempfile.gettempdir()) / f"clipcart-liveness-{nonce}"
    app = Celery("liveness", broker=broker_url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = False
    app.conf.broker_connection_timeout = timeout
    deadline = time.monotonic() + timeout
    try:
        app.send_task(
            TASK_NAME,
            args=[str(path), nonce],
            queue=worker_direct(node),
            expires=timeout,
            retry=False,
        )
        while time.monotonic() < deadline:
            if path.exists() and path.read_text() == nonce:
                return True
            time.sleep(0.2)
        return False
    except Exception:  # the broker is unreachable: no round trip, not alive
        logger.warning("liveness: no round trip to %s", node, exc_info=True, extra={"node": node})
        return False
    finally:
        path.unlink(missing_ok=True)
        app.close()
