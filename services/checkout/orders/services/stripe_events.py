"""Stripe's events, applied to orders. `payments` verifies and logs each event (knowing
no orders); here a logged event is claimed, matched to its order by PaymentIntent id first
(metadata second), applied only when what it says — the PaymentIntent, its status, amount
and currency — is the order's (a signature proves who signed, not that the numbers are
ours), and settled. No row stays locked while an event is applied: the order's services
are idempotent and take their own short locks."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from orders.payment_match import payment_mismatch
from orders.selectors import order_for_stripe_object
from orders.services import payment_events, refunds
from payments.models import WebhookEvent
from payments.payouts import ACCOUNT_EVENT_TYPES, merchant_payout_account_updated
from payments.selectors import webhook_events_waiting
from payments.services import (
    webhook_event_claim,
    webhook_event_settle,
    webhook_event_unclaim,
    webhook_receive,
)

logger = logging.getLogger(__name__)

SWEEP_TASK = "orders.stripe_events_sweep"


def stripe_webhook_accept(*, payload: bytes, signature: str) -> tuple[str, bool]:
    """Stripe's webhook: verified and logged by `payments` (400 `invalid_signature`,
    nothing written), and a new event queued for the worker once the log commits.
    Returns (event id, whether it is new)."""
    event_id, is_new = webhook_receive(payload=payload, signature=signature)
    if is_new:
        transaction.on_commit(lambda: _apply_soon(event_id))
    return event_id, is_new


def _apply_soon(event_id: str) -> None:
    # The broker may be down: the event is logged, and the periodic sweep applies it.
    # orders.tasks imports this module, so the task is looked up when it is sent.
    from orders.tasks import stripe_event_apply

    try:
        stripe_event_apply.delay(event_id)
    except Exception:
        logger.warning(
            "Could not queue a Stripe event; the sweep will", extra={"event_id": event_id}
        )


def stripe_events_sweep(*, older_than: timedelta | None = None) -> int:
    """Apply logged events still waiting (their task was lost: broker down, worker gone)
    after `older_than` (default `WEBHOOK_SWEEP_SECONDS`), oldest first, each on its own:
    one that fails is backed off and the others still applied. Returns how many it
    applied."""
    if older_than is None:
        older_than = timedelta(seconds=settings.WEBHOOK_SWEEP_SECONDS)
    waiting = webhook_events_waiting(
        older_than=older_than, excluded=rows_backed_off(task=SWEEP_TASK)
    )
    statuses = rows_each(
        task=SWEEP_TASK,
        rows=waiting,
        handle=lambda event_id: stripe_logged_event_apply(event_id=event_id),
    )
    return sum(status != WebhookEvent.Status.RECEIVED for status in statuses)


def stripe_logged_event_apply(*, event_id: str) -> str:
    """Apply one logged event, once. Returns the event's final status. A failure that
    can recover (catalog or Stripe unreachable) raises, leaving the event to retry; an
    event that is not about an order of ours is `ignored`, and one that does not match
    its order is a `mismatch`, each with the reason. An event another worker is applying
    right now is left to it (its status, `received`, is returned)."""
    status, logged = webhook_event_claim(event_id=event_id)
    if logged is None:
        return status
    payload = logged.payload if isinstance(logged.payload, dict) else {}
    data = payload.get("data")
    created = payload.get("created")
    try:
        outcome = stripe_event_apply(
            event_type=logged.type,
            obj=data.get("object") if isinstance(data, dict) else None,
            created=created if isinstance(created, int) else 0,
        )
    except BaseException:
        webhook_event_unclaim(event_id=event_id)
        raise
    webhook_event_settle(event_id=event_id, status=outcome.status, reason=outcome.reason)
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


# The event types that concern an order; others are acknowledged and ignored.
ORDER_EVENT_TYPES = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "charge.refunded",
        "charge.dispute.created",
    }
)


@dataclass(frozen=True)
class Outcome:
    """What became of an event: `processed`, `ignored` (not about an order of ours) or
    `mismatch` (about one, but not matching it), with the reason."""

    status: str
    reason: str = ""
    order_id: uuid.UUID | None = None


def stripe_event_apply(*, event_type: str, obj: Any, created: int = 0) -> Outcome:
    """Apply one verified event to its order, if it matches; an `account.updated` (a
    merchant's payout account, `created` ordering them) to `payments`. Raises what the
    order's services raise when they can recover later (catalog or Stripe unreachable)."""
    if event_type in ACCOUNT_EVENT_TYPES:
        return Outcome(*merchant_payout_account_updated(created=created, account=obj))
    if event_type not in ORDER_EVENT_TYPES:
        return Outcome("ignored", f"{event_type} is not an order event")
    if not isinstance(obj, dict):
        return Outcome("ignored", "the event has no object")
    order, reason = order_for_stripe_object(obj=obj)
    if order is None:
        return Outcome("ignored", reason)
    mismatch = payment_mismatch(event_type=event_type, obj=obj, order=order)
    if mismatch:
        return Outcome("mismatch", mismatch, order.id)
    if event_type == "payment_intent.succeeded":
        payment_events.order_payment_succeeded(order_id=order.id)
    elif event_type == "payment_intent.payment_failed":
        error = obj.get("last_payment_error") or {}
        message = error.get("message", "") if isinstance(error, dict) else ""
        payment_events.order_payment_failed(order_id=order.id, message=str(message))
    elif event_type == "payment_intent.canceled":
        payment_events.order_payment_cancelled(order_id=order.id, reason="payment cancelled")
    elif event_type == "charge.refunded":
        refunds.order_charge_refunded(order_id=order.id, amount_refunded=obj["amount_refunded"])
    else:
        payment_events.order_dispute_opened(order_id=order.id)
    return Outcome("processed", order_id=order.id)
