"""Every event checkout publishes, built here and nowhere else: its type as a constant and
its payload as a type. The outbox (`orders.services`) and the order-events API that lets
subscribers reconcile (`orders.selectors`, `orders.apis`) send the same payloads.

Who receives each type is in `EVENT_ROUTES` (config/settings/base.py); who applies it is
in each consumer's `config/event_handlers.py` (ADR 19). Changing a payload is changing a
contract: the consumers' contract tests feed them what these functions build
(`manage.py event_samples`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from clipcart_shared.outbox.services import Event
from orders.models import Order, OrderLine, OrderReturn, Refund, Shipment

ORDER_PAID = "order.paid"
ORDER_REFUNDED = "order.refunded"
ORDER_CANCELLED = "order.cancelled"
ORDER_SHIPPED = "order.shipped"
ORDER_DELIVERED = "order.delivered"
ORDER_RETURN_REQUESTED = "order.return_requested"
ORDER_RETURN_CLOSED = "order.return_closed"


class LineSource(TypedDict):
    """The video tag a line was added from."""

    video_id: str
    tag_id: str | None
    added_at: str | None


class CreatorCode(TypedDict):
    """The creator code applied to the line's merchant part: attribution counts it as a
    click for the creator (video's id)."""

    code: str
    creator_id: str


class PaidLine(TypedDict):
    line_id: str
    product_id: str
    variant_id: str
    merchant_id: str
    quantity: int
    amount: int  # minor units, the line's total (net of its discounts)
    source: LineSource | None
    creator_code: CreatorCode | None


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


class UnitsLine(TypedDict):
    line_id: str
    quantity: int


class OrderShipped(TypedDict):
    order_id: str
    shipment_id: str
    merchant_id: str
    lines: list[UnitsLine]
    at: str


class OrderDelivered(OrderShipped):
    # When the merchant's return window after this delivery closes: the lines' sales
    # settle then, unless a return is open.
    returns_close_at: str


class OrderReturnRequested(TypedDict):
    order_id: str
    return_id: str
    merchant_id: str
    lines: list[UnitsLine]
    at: str


class OrderReturnClosed(OrderReturnRequested):
    status: str  # "rejected" (the units settle as before) or "refunded"


def _creator_codes(order: Order) -> dict[str, CreatorCode]:
    """The order's creator codes by merchant (at most one code per merchant part)."""
    return {
        str(discount["merchant_id"]): {
            "code": str(discount["code"]),
            "creator_id": str(discount["creator_id"]),
        }
        for discount in order.discounts or []
        if discount.get("creator_id") and discount.get("code")
    }


def _line_data(line: OrderLine, creator_codes: dict[str, CreatorCode]) -> PaidLine:
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
        "creator_code": creator_codes.get(str(line.merchant_id)),
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
            "lines": [_line_data(line, _creator_codes(order)) for line in order.lines.all()],
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


def _shipment_data(shipment: Shipment, at: datetime) -> OrderShipped:
    return {
        "order_id": str(shipment.order_id),
        "shipment_id": str(shipment.id),
        "merchant_id": str(shipment.merchant_id),
        "lines": [
            {"line_id": str(line.line_id), "quantity": line.quantity}
            for line in shipment.lines.all()
        ],
        "at": at.isoformat(),
    }


def order_shipped_event(shipment: Shipment) -> Event[OrderShipped]:
    """`order.shipped` of one shipment (its lines and units)."""
    return {
        "type": ORDER_SHIPPED,
        "subject": str(shipment.order_id),
        "data": _shipment_data(shipment, shipment.shipped_at),
    }


def order_delivered_event(shipment: Shipment) -> Event[OrderDelivered]:
    """`order.delivered` of one delivered shipment, with the end of its return window."""
    assert shipment.delivered_at is not None and shipment.returns_close_at is not None
    return {
        "type": ORDER_DELIVERED,
        "subject": str(shipment.order_id),
        "data": {
            **_shipment_data(shipment, shipment.delivered_at),
            "returns_close_at": shipment.returns_close_at.isoformat(),
        },
    }


def _return_data(order_return: OrderReturn, at: datetime) -> OrderReturnRequested:
    return {
        "order_id": str(order_return.order_id),
        "return_id": str(order_return.id),
        "merchant_id": str(order_return.merchant_id),
        "lines": [
            {"line_id": str(line.line_id), "quantity": line.quantity}
            for line in order_return.lines.all()
        ],
        "at": at.isoformat(),
    }


def order_return_requested_event(order_return: OrderReturn) -> Event[OrderReturnRequested]:
    """`order.return_requested`: these units are held from settling until it closes."""
    return {
        "type": ORDER_RETURN_REQUESTED,
        "subject": str(order_return.order_id),
        "data": _return_data(order_return, order_return.requested_at),
    }


def order_return_closed_event(order_return: OrderReturn) -> Event[OrderReturnClosed]:
    """`order.return_closed`: rejected (its units settle as if never asked) or refunded
    (the refund itself is `order.refunded`)."""
    assert order_return.closed_at is not None
    return {
        "type": ORDER_RETURN_CLOSED,
        "subject": str(order_return.order_id),
        "data": {
            **_return_data(order_return, order_return.closed_at),
            "status": order_return.status,
        },
    }
