"""What a verified Stripe event does to an order. An event is matched to its order by
PaymentIntent id first (metadata second), and applied only when what it says — the
PaymentIntent, its status, amount and currency — is the order's: a signature proves who
signed, not that the numbers are ours."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from orders import services
from orders.models import Order
from orders.payment_match import payment_intent_of, payment_mismatch

logger = logging.getLogger(__name__)

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


def stripe_event_apply(*, event_type: str, obj: Any) -> Outcome:
    """Apply one verified event to its order, if it matches. Raises what the order's
    services raise when they can recover later (catalog or Stripe unreachable)."""
    if event_type not in ORDER_EVENT_TYPES:
        return Outcome("ignored", f"{event_type} is not an order event")
    if not isinstance(obj, dict):
        return Outcome("ignored", "the event has no object")
    order, reason = _order_for(obj)
    if order is None:
        return Outcome("ignored", reason)
    mismatch = payment_mismatch(event_type=event_type, obj=obj, order=order)
    if mismatch:
        return Outcome("mismatch", mismatch, order.id)
    if event_type == "payment_intent.succeeded":
        services.order_payment_succeeded(order_id=order.id)
    elif event_type == "payment_intent.payment_failed":
        error = obj.get("last_payment_error") or {}
        message = error.get("message", "") if isinstance(error, dict) else ""
        services.order_payment_failed(order_id=order.id, message=str(message))
    elif event_type == "payment_intent.canceled":
        services.order_payment_cancelled(order_id=order.id, reason="payment cancelled")
    elif event_type == "charge.refunded":
        services.order_charge_refunded(order_id=order.id, amount_refunded=obj["amount_refunded"])
    else:
        services.order_dispute_opened(order_id=order.id)
    return Outcome("processed", order_id=order.id)


def _order_for(obj: dict[str, Any]) -> tuple[Order | None, str]:
    """The order, by the event's PaymentIntent, else by `metadata.order_id`; or None
    with the reason."""
    payment_intent_id = payment_intent_of(obj)
    if isinstance(payment_intent_id, str) and payment_intent_id:
        order = Order.objects.filter(payment_intent_id=payment_intent_id).first()
        if order is not None:
            return order, ""
    metadata = obj.get("metadata")
    named = metadata.get("order_id") if isinstance(metadata, dict) else None
    if named is None:
        return None, f"no order has PaymentIntent {payment_intent_id!r}"
    try:
        order_id = uuid.UUID(str(named))
    except ValueError:
        return None, f"metadata.order_id {str(named)[:60]!r} is not an order id"
    order = Order.objects.filter(id=order_id).first()
    if order is None:
        return None, f"metadata.order_id {order_id} is no order here (another environment?)"
    return order, ""
