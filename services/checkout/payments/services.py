"""Stripe's webhooks: verified and logged at once, applied once by the worker."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

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
    after `older_than` (default `WEBHOOK_SWEEP_SECONDS`). Returns how many it applied."""
    if older_than is None:
        older_than = timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    waiting = WebhookEvent.objects.filter(
        status=WebhookEvent.Status.RECEIVED, received_at__lt=timezone.now() - older_than
    ).values_list("event_id", flat=True)
    return sum(
        webhook_event_process(event_id=event_id) != WebhookEvent.Status.RECEIVED
        for event_id in list(waiting[:500])
    )


def _order_id(event: dict[str, Any]) -> uuid.UUID | None:
    """The order an event is about: PaymentIntents carry it in metadata; charges and
    disputes name their PaymentIntent."""
    from orders.models import Order

    obj = event["data"]["object"]
    order_id = (obj.get("metadata") or {}).get("order_id")
    if order_id:
        return uuid.UUID(order_id)
    payment_intent_id = obj.get("payment_intent") or (
        obj.get("id") if obj.get("object") == "payment_intent" else None
    )
    found = Order.objects.filter(payment_intent_id=payment_intent_id).values_list("id", flat=True)
    return found[0] if found else None


def webhook_event_process(*, event_id: str) -> str:
    """Apply one logged event, once. Returns the event's final status. A failure that
    can recover (catalog or Stripe unreachable) raises, leaving the event to retry."""
    from orders import services as orders

    with transaction.atomic():
        logged = WebhookEvent.objects.select_for_update().get(event_id=event_id)
        if logged.status != WebhookEvent.Status.RECEIVED:
            return logged.status
        event = logged.payload
        order_id = _order_id(event)
        status = WebhookEvent.Status.PROCESSED
        if order_id is None:
            status = WebhookEvent.Status.IGNORED
        elif logged.type == "payment_intent.succeeded":
            orders.order_payment_succeeded(order_id=order_id)
        elif logged.type == "payment_intent.payment_failed":
            error = event["data"]["object"].get("last_payment_error") or {}
            orders.order_payment_failed(order_id=order_id, message=error.get("message", ""))
        elif logged.type == "payment_intent.canceled":
            orders.order_payment_cancelled(order_id=order_id, reason="payment cancelled")
        elif logged.type == "charge.refunded":
            orders.order_charge_refunded(
                order_id=order_id, amount_refunded=event["data"]["object"]["amount_refunded"]
            )
        elif logged.type == "charge.dispute.created":
            orders.order_dispute_opened(order_id=order_id)
        else:
            status = WebhookEvent.Status.IGNORED
        logged.status = status
        logged.processed_at = timezone.now()
        logged.save(update_fields=["status", "processed_at"])
    logger.info("Stripe event applied", extra={"event_id": event_id, "status": status})
    return status
