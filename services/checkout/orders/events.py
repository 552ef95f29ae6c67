"""The events an order publishes, built in one place: the outbox (`orders.services`) and
the order-events API that lets subscribers reconcile (`orders.selectors`) send the same
payloads."""

from __future__ import annotations

from typing import Any

from orders.models import Order, OrderLine, Refund

ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"


def _line_data(line: OrderLine) -> dict[str, Any]:
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


def order_paid_event(order: Order) -> dict[str, Any]:
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


def order_refunded_event(order: Order, refund: Refund) -> dict[str, Any]:
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
