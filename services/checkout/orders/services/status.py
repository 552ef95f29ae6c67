"""What every change of an order shares: its row locked, its status after refunds, and
its cancellation (recorded with `order.cancelled`)."""

from __future__ import annotations

import logging
import uuid

from django.utils import timezone

from clipcart_shared.outbox.services import events_publish
from orders.events import order_cancelled_event
from orders.models import Order

logger = logging.getLogger(__name__)

STOCK_GONE = "stock gone before payment"


def status_after_refunds(order: Order) -> str:
    if order.refunded_amount >= order.total_amount:
        return Order.Status.REFUNDED
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
