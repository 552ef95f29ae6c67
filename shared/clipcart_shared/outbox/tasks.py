from __future__ import annotations

from typing import Any

from celery import shared_task

from clipcart_shared.outbox.services import (
    EVENT_TASK_NAME,
    RELAY_TASK_NAME,
    event_consume,
    outbox_prune,
    outbox_relay,
    processed_events_prune,
)


@shared_task(name=RELAY_TASK_NAME, time_limit=60, soft_time_limit=50)
def relay() -> int:
    return outbox_relay()


@shared_task(name="clipcart.outbox.prune", time_limit=300)
def prune() -> int:
    return outbox_prune()


@shared_task(name="clipcart.outbox.processed_events_prune", time_limit=300)
def prune_processed_events() -> int:
    return processed_events_prune()


@shared_task(
    name=EVENT_TASK_NAME,
    # Safe to redeliver: event_consume applies each event id once.
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
    time_limit=120,
)
def receive(envelope: dict[str, Any]) -> bool:
    return event_consume(envelope=envelope)
