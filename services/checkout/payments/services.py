"""Stripe's webhooks: verified and logged at once, applied once by the worker."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from payments import stripe_api
from payments.models import WebhookEvent

logger = logging.getLogger(__name__)

_LOG_ONCE = f"""
INSERT INTO {WebhookEvent._meta.db_table} (event_id, type, payload, status, error, received_at)
VALUES (%s, %s, %s::jsonb, 'received', '', now())
ON CONFLICT (event_id) DO NOTHING
RETURNING id
"""


def webhook_receive(*, payload: bytes, signature: str) -> tuple[str, bool]:
    """Verify the signature on the raw body and log the event by Stripe's id. Returns
    (event id, whether it is new); a new event is processed by the worker after commit.
    Raises `stripe_api.InvalidSignature` with nothing written."""
    event = stripe_api.webhook_event_verify(payload=payload, signature=signature)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOG_ONCE, [event["id"], event["type"], json.dumps(event)])
        is_new = cursor.fetchone() is not None
        if is_new:
            transaction.on_commit(lambda: _process_soon(event["id"]))
    return event["id"], is_new


def _process_soon(event_id: str) -> None:
    # The broker may be down: the event is logged, and the periodic sweep applies it.
    from payments.tasks import webhook_event_process

    try:
        webhook_event_process.delay(event_id)
    except Exception:
        logger.warning(
            "Could not queue a Stripe event; the sweep will", extra={"event_id": event_id}
        )


def webhook_events_sweep(*, older_than: timedelta | None = None) -> int:
    """Apply logged events still waiting (their task was lost: broker down, worker gone)
    after `older_than` (default `WEBHOOK_SWEEP_SECONDS`), oldest first, each on its own:
    one that fails is backed off and the others still applied. Returns how many it
    applied."""
    if older_than is None:
        older_than = timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    waiting = (
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.RECEIVED, received_at__lt=timezone.now() - older_than
        )
        .exclude(event_id__in=rows_backed_off(task=SWEEP_TASK))
        .order_by("received_at", "id")
        .values_list("event_id", flat=True)
    )
    statuses = rows_each(
        task=SWEEP_TASK,
        rows=list(waiting[:500]),
        handle=lambda event_id: webhook_event_process(event_id=event_id),
    )
    return sum(status != WebhookEvent.Status.RECEIVED for status in statuses)


SWEEP_TASK = "payments.webhook_events_sweep"


def webhook_event_process(*, event_id: str) -> str:
    """Apply one logged event, once. Returns the event's final status. A failure that
    can recover (catalog or Stripe unreachable) raises, leaving the event to retry; an
    event that is not about an order of ours is `ignored`, and one that does not match
    its order is a `mismatch`, each with the reason."""
    from orders.stripe_events import stripe_event_apply

    with transaction.atomic():
        logged = WebhookEvent.objects.select_for_update().get(event_id=event_id)
        if logged.status != WebhookEvent.Status.RECEIVED:
            return logged.status
        data = logged.payload.get("data") if isinstance(logged.payload, dict) else None
        outcome = stripe_event_apply(
            event_type=logged.type, obj=data.get("object") if isinstance(data, dict) else None
        )
        logged.status = outcome.status
        logged.error = outcome.reason
        logged.processed_at = timezone.now()
        logged.save(update_fields=["status", "error", "processed_at"])
    extra = {
        "event_id": event_id,
        "event_type": logged.type,
        "status": outcome.status,
        "reason": outcome.reason,
        "order_id": str(outcome.order_id) if outcome.order_id else None,
    }
    if outcome.status == WebhookEvent.Status.MISMATCH:
        logger.error("Stripe event does not match its order; not applied", extra=extra)
    else:
        logger.info("Stripe event applied", extra=extra)
    return outcome.status
