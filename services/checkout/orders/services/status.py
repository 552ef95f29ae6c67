"""What every change of an order shares: its row locked, its status after refunds, and
its cancellation (recorded with `order.cancelled`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from django.utils import timezone

from clipcart_shared.outbox.services import events_publish
from orders.events import order_cancelled_event
from orders.models import Order, OrderLine

logger = logging.getLogger(__name__)

STOCK_GONE = "stock gone before payment"


def line_fulfilment_status(line: OrderLine) -> str:
    """What a line's unit counts add up to: every unit left (not cancelled) returned, or
    delivered; some shipped; or none."""
    left = line.quantity - line.cancelled_quantity
    if left > 0 and line.returned_quantity == left:
        return OrderLine.Fulfilment.RETURNED
    if left > 0 and line.delivered_quantity == left:
        return OrderLine.Fulfilment.DELIVERED
    if line.shipped_quantity > 0:
        return OrderLine.Fulfilment.SHIPPED
    return OrderLine.Fulfilment.UNFULFILLED


def order_status_derive(order: Order, lines: Iterable[OrderLine] | None = None) -> str:
    """The status of a paid order as its refunds and its lines say: refunded whole; else
    where its units are (delivered, shipped, partly shipped); else partly refunded or
    paid. Lines cancelled whole do not count."""
    if order.refunded_amount >= order.total_amount:
        return Order.Status.REFUNDED
    left = [
        line
        for line in (order.lines.all() if lines is None else lines)
        if line.quantity > line.cancelled_quantity
    ]
    if any(line.shipped_quantity for line in left):
        if all(line.delivered_quantity == line.quantity - line.cancelled_quantity for line in left):
            return Order.Status.DELIVERED
        if all(line.shipped_quantity == line.quantity - line.cancelled_quantity for line in left):
            return Order.Status.SHIPPED
        return Order.Status.PARTIALLY_SHIPPED
    if order.refunded_amount > 0:
        return Order.Status.PARTIALLY_REFUNDED
    return Order.Status.PAID


def order_locked(order_id: uuid.UUID) -> Order:
    return Order.objects.select_for_update().get(id=order_id)


def order_cancelled_record(order: Order, *, reason: str) -> None:
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancellation_reason = reason[:200]
    order.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])
    events_publish(events=[order_cancelled_event(order, reason=reason)])
    logger.info("Order cancelled", extra={"order_id": str(order.id), "reason": reason})
