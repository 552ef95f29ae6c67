"""Every event checkout publishes, built here and nowhere else: its type as a constant and
its payload as a type. The outbox (`orders.services`) and the order-events API that lets
subscribers reconcile (`orders.selectors`, `orders.apis`) send the same payloads.

Who receives each type is in `EVENT_ROUTES` (config/settings/base.py); who applies it is
in each consumer's `config/event_handlers.py` (ADR 19). Changing a payload is changing a
contract: the consumers' contract tests feed them what these functions build
(`manage.py event_samples`).
"""

from __future__ import annotations

from typing import TypedDict

from clipcart_shared.outbox.services import Event
from orders.models import Order, OrderLine, Refund

ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
ORDER_CANCELLED = "order.cancelled"


class LineSource(TypedDict):
    """The video tag a line was added from."""

    video_id: str
    tag_id: str | None
    added_at: str | None


class PaidLine(TypedDict):
    line_id: str
    product_id: str
    variant_id: str
    merchant_id: str
    quantity: int
    amount: int  # minor units, the line's total
    source: LineSource | None


class OrderPaid(TypedDict):
    order_id: str
    user_id: str
    currency: str
    paid_at: str | None
    lines: list[PaidLine]


class RefundedLine(TypedDict):
    line_id: str
    amount: int


class OrderRefunded(TypedDict):
    order_id: str
    refund_id: str
    refunded_at: str
    lines: list[RefundedLine]


class OrderCancelled(TypedDict):
    order_id: str
    user_id: str
    cancelled_at: str | None
    reason: str


def _line_data(line: OrderLine) -> PaidLine:
    return {
        "line_id": str(line.id),
        "product_id": str(line.product_id),
        "variant_id": str(line.variant_id),
        "merchant_id": str(line.merchant_id),
        "quantity": line.quantity,
        "amount": line.line_total_amount,
        "source": None
        if line.source_video_id is None
        else {
            "video_id": str(line.source_video_id),
            "tag_id": None if line.source_tag_id is None else str(line.source_tag_id),
            "added_at": line.source_added_at.isoformat() if line.source_added_at else None,
        },
    }


def order_paid_event(order: Order) -> Event[OrderPaid]:
    """`order.paid` (type, subject, data) of a paid order; its lines in their order."""
    return {
        "type": ORDER_PAID,
        "subject": str(order.id),
        "data": {
            "order_id": str(order.id),
            "user_id": order.user_id,
            "currency": order.currency,
            "paid_at": order.paid_at.isoformat() if order.paid_at else None,
            "lines": [_line_data(line) for line in order.lines.all()],
        },
    }


def order_refunded_event(order: Order, refund: Refund) -> Event[OrderRefunded]:
    """`order.refunded` (type, subject, data) of one refund of the order."""
    return {
        "type": ORDER_REFUNDED,
        "subject": str(order.id),
        "data": {
            "order_id": str(order.id),
            "refund_id": str(refund.id),
            "refunded_at": refund.created_at.isoformat(),
            "lines": [
                {"line_id": line_id, "amount": amount} for line_id, amount in refund.lines.items()
            ],
        },
    }


def order_cancelled_event(order: Order, *, reason: str) -> Event[OrderCancelled]:
    """`order.cancelled` (type, subject, data) of an order just cancelled; `reason` as the
    canceller gave it (the order keeps its first 200 characters)."""
    return {
        "type": ORDER_CANCELLED,
        "subject": str(order.id),
        "data": {
            "order_id": str(order.id),
            "user_id": order.user_id,
            "cancelled_at": order.cancelled_at.isoformat() if order.cancelled_at else None,
            "reason": reason,
        },
    }
