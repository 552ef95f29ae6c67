"""Write, relay and consume events.

A producer builds each event it publishes in its `events.py` (the type as a constant, the
payload as a type) and records it with `events_publish`. A consumer lists the handlers it
registers in one table, named by the setting `EVENT_HANDLERS` (every service's is
`config/event_handlers.py`); `event_consume` looks each delivered type up there (ADR 19).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Generic, TypedDict, TypeVar

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
from clipcart_shared.retention import rows_delete, rows_retire

logger = logging.getLogger(__name__)

EVENT_TASK_NAME = "clipcart.events.receive"
RELAY_TASK_NAME = "clipcart.outbox.relay"

EventHandler = Callable[[dict[str, Any]], None]

DataT = TypeVar("DataT")


class Event(TypedDict, Generic[DataT]):
    """An event as its producer's `events.py` builds it: the type (a constant there), the
    id of what it is about, and the payload (a type declared there)."""

    type: str
    subject: str
    data: DataT


def events_publish(*, events: Sequence[Event[Any]]) -> list[OutboxEvent]:
    """Record events (`type`, `subject`, `data` each) in the caller's transaction; they are
    relayed once it commits. One INSERT however many events.

    Must run inside `transaction.atomic()`: an event outside the transaction of the
    change it reports could be sent for a change that was rolled back, or lost.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("events_publish must be called inside transaction.atomic().")
    created = OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                type=event["type"],
                source=settings.SERVICE_NAME,
                subject=event["subject"],
                data=event["data"],
            )
            for event in events
        ]
    )
    transaction.on_commit(_relay_soon)
    return created


def event_publish(*, type: str, subject: str, data: dict[str, Any]) -> OutboxEvent:
    """Record one event in the caller's transaction (see `events_publish`)."""
    return events_publish(events=[{"type": type, "subject": subject, "data": data}])[0]


def _relay_soon() -> None:
    # The broker may be down: the periodic relay picks the event up later.
    try:
        current_app.send_task(RELAY_TASK_NAME, queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    except Exception:
        logger.warning("Could not ask for an outbox relay; the periodic relay will", exc_info=True)


def outbox_relay(*, batch_size: int = 200) -> int:
    """Send unpublished events to every subscribed queue, at least once. Returns how many.

    Rows are locked with SKIP LOCKED so several relays never send the same batch at the
    same time; a failed send rolls the batch back so it is sent again later.
    """
    routes: dict[str, list[str]] = settings.EVENT_ROUTES
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True)
            .order_by("time")[:batch_size]
        )
        if not events:
            return 0
        with current_app.producer_or_acquire() as producer:
            for event in events:
                for queue in routes.get(event.type, []):
                    current_app.send_task(
                        EVENT_TASK_NAME,
                        args=[event.envelope()],
                        queue=queue,
                        producer=producer,
                        retry=False,
                    )
        OutboxEvent.objects.filter(id__in=[event.id for event in events]).update(
            published_at=timezone.now()
        )
    logger.info("Relayed outbox events", extra={"count": len(events)})
    return len(events)


def outbox_prune(*, batch_size: int = 500) -> int:
    """Delete events relayed more than `OUTBOX_RETENTION_DAYS` ago, in batches; unrelayed
    ones are never pruned. Returns how many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    return rows_retire(
        queryset=OutboxEvent.objects.filter(published_at__lt=cutoff),
        retire=rows_delete,
        name="outbox",
        batch_size=batch_size,
    )


def processed_events_prune(*, batch_size: int = 500) -> int:
    """Delete the consumer's processed-event rows older than
    `PROCESSED_EVENT_RETENTION_DAYS`, in batches. A row is what makes a redelivered event
    a no-op, so the setting must stay longer than any redelivery: the broker's, the
    outbox relay's (minutes) and attribution's reconciliation window (a day)."""
    cutoff = timezone.now() - timedelta(days=settings.PROCESSED_EVENT_RETENTION_DAYS)
    return rows_retire(
        queryset=ProcessedEvent.objects.filter(processed_at__lt=cutoff),
        retire=rows_delete,
        name="processed_events",
        batch_size=batch_size,
    )


def event_handlers() -> Mapping[str, EventHandler]:
    """This service's table of handlers, {event type: function}: the object the setting
    `EVENT_HANDLERS` names by its dotted path (empty when it names none). The one place a
    service says which events it consumes."""
    path: str = settings.EVENT_HANDLERS
    if not path:
        return {}
    table: Mapping[str, EventHandler] = import_string(path)
    return table


def event_consume(*, envelope: dict[str, Any], consumer: str | None = None) -> bool:
    """Apply an event once per consumer. Returns False for a duplicate or unknown type.

    The processed-event row and the handler's writes commit together: a redelivered or
    concurrently delivered event finds the row and does nothing.
    """
    consumer = consumer or settings.SERVICE_NAME
    handler = event_handlers().get(envelope["type"])
    if handler is None:
        logger.info("No handler for event type", extra={"event_type": envelope["type"]})
        return False
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ProcessedEvent._meta.db_table} "
                "(event_id, consumer, event_type, processed_at) VALUES (%s, %s, %s, now()) "
                "ON CONFLICT (event_id, consumer) DO NOTHING RETURNING id",
                [envelope["id"], consumer, envelope["type"]],
            )
            is_first_delivery = cursor.fetchone() is not None
        if not is_first_delivery:
            logger.info("Duplicate event ignored", extra={"event_id": envelope["id"]})
            return False
        handler(envelope)
    return True
