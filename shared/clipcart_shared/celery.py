"""The Celery app every service builds the same way."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, task_prerun, worker_init
from kombu.transport import sqlalchemy as sqlalchemy_transport
from sqlalchemy.exc import IntegrityError

from clipcart_shared.liveness import liveness_task_register
from clipcart_shared.request_id import HEADER, get_request_id, set_request_id

# Celery's Django fixup closes the DB connection after every task unless this is set;
# reuse tripled task throughput here (DESIGN.md, measured).
os.environ.setdefault("CELERY_DB_REUSE_MAX", "100")


def celery_app(service: str) -> Celery:
    """A Celery app configured from Django settings (`CELERY_*`), tasks autodiscovered."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    app = Celery(service)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    app.autodiscover_tasks(["clipcart_shared.outbox", "clipcart_shared.idempotency"])
    # Each worker also consumes a queue of its own (`<node>.dq`): the liveness check sends
    # its round trip there, so it reaches exactly the worker it asks about (ADR 15).
    app.conf.worker_direct = True
    liveness_task_register(app)
    return app


@worker_init.connect
def _poll_the_embedded_broker_often(**_: Any) -> None:
    # kombu's SQLAlchemy transport hands every transport option to create_engine(), so
    # its polling interval can only be set on the transport class.
    from django.conf import settings

    sqlalchemy_transport.Transport.polling_interval = settings.CELERY_BROKER_POLLING_SECONDS


_kombu_get_or_create = sqlalchemy_transport.Channel._get_or_create


def _queue_get_or_create(channel: Any, queue: str) -> Any:
    """kombu's lookup-or-insert of a queue in the embedded broker, safe across processes:
    its lock is per process, so two processes declaring a new queue at once (a worker
    consuming it, another publishing to it) could both insert it, and the loser crashed
    on the unique name. The loser now reads the winner's row."""
    try:
        return _kombu_get_or_create(channel, queue)
    except IntegrityError:
        channel.session.rollback()
        queues = channel.session.query(channel.queue_cls)
        return queues.filter(channel.queue_cls.name == queue).one()


sqlalchemy_transport.Channel._get_or_create = _queue_get_or_create


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    # The request id follows the work into the worker's logs.
    request_id = get_request_id()
    if headers is not None and request_id:
        headers[HEADER] = request_id


@task_prerun.connect
def _bind_request_id(task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    set_request_id(getattr(request, HEADER, None) if request else None)
