"""Whether what Stripe says is about this order: its PaymentIntent, status, amount and
currency. Every amount Stripe sends is checked against the order's own."""

from __future__ import annotations

import logging
from typing import Any

from clipcart_shared.errors import ApplicationError
from core.errors import CheckoutErrorCode
from orders.models import Order

logger = logging.getLogger(__name__)


def payment_intent_of(obj: dict[str, Any]) -> Any:
    """PaymentIntents are their own; charges and disputes name theirs."""
    return obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")


def _amount(value: Any) -> int | None:
    """A whole, non-negative amount in minor units, or None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def payment_mismatch(*, event_type: str, obj: dict[str, Any], order: Order) -> str:
    """Why Stripe's object (an event's, or a PaymentIntent we retrieved, as
    `payment_intent.<status>`) cannot be the order's; "" when it matches."""
    payment_intent_id = payment_intent_of(obj)
    if payment_intent_id != order.payment_intent_id:
        return (
            f"PaymentIntent {str(payment_intent_id)[:80]!r} is not the order's "
            f"({order.payment_intent_id})"
        )
    currency = obj.get("currency")
    if event_type in ("payment_intent.succeeded", "charge.refunded") and (
        not isinstance(currency, str) or currency.lower() != order.currency.lower()
    ):
        return f"currency {str(currency)[:10]!r} is not the order's {order.currency}"
    if event_type == "payment_intent.succeeded":
        if obj.get("status") != "succeeded":
            return f"status {str(obj.get('status'))[:30]!r} is not succeeded"
        received = _amount(obj.get("amount_received"))
        if received != order.total_amount:
            return (
                f"amount received {str(obj.get('amount_received'))[:20]} is not the order's "
                f"total {order.total_amount}"
            )
    if event_type == "payment_intent.canceled" and obj.get("status") != "canceled":
        return f"status {str(obj.get('status'))[:30]!r} is not canceled"
    if event_type == "charge.refunded":
        refunded = _amount(obj.get("amount_refunded"))
        if refunded is None or refunded > order.total_amount:
            return (
                f"amount refunded {str(obj.get('amount_refunded'))[:20]} is not within the "
                f"order's total {order.total_amount}"
            )
    return ""


def payment_intent_check(*, order: Order, intent: dict[str, Any]) -> None:
    """Raise 409 `payment_mismatch` (logged as an error) when the PaymentIntent Stripe
    gave us is not the order's: its id, status, amount or currency."""
    mismatch = payment_mismatch(
        event_type=f"payment_intent.{intent.get('status')}", obj=intent, order=order
    )
    if mismatch:
        logger.error(
            "Stripe's PaymentIntent does not match its order; not applied",
            extra={"order_id": str(order.id), "reason": mismatch},
        )
        raise ApplicationError(
            CheckoutErrorCode.PAYMENT_MISMATCH,
            "The payment does not match the order; platform staff were told.",
            status=409,
        )
