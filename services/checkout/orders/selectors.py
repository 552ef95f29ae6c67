from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderLine, Refund


def order_lines_refundable(*, order: Order, lines: Iterable[OrderLine]) -> list[int]:
    """What is left to refund on each of these lines of the order: its total, less what
    was refunded on it and what the order's pending refunds hold on it."""
    held: dict[str, int] = {}
    for shares in order.refunds.filter(status=Refund.Status.PENDING).values_list(
        "lines", flat=True
    ):
        for line_id, share in shares.items():
            held[line_id] = held.get(line_id, 0) + share
    return [
        line.line_total_amount - line.refunded_amount - held.get(str(line.id), 0) for line in lines
    ]


def order_refundable_amount(*, order: Order, lines: Iterable[OrderLine] | None) -> int:
    """What is left to refund, in minor units, beside pending refunds: on these lines, or
    on the whole order, shipping included, for None. `orders.services.order_refund`
    checks against it under the order's lock."""
    if lines is None:
        pending = order.refunds.filter(status=Refund.Status.PENDING)
        held = sum(pending.values_list("amount", flat=True))
        return order.total_amount - order.refunded_amount - held
    return sum(order_lines_refundable(order=order, lines=lines))


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def order_render(order: Order) -> dict[str, Any]:
    """An order as its buyer sees it."""
    currency = order.currency
    return {
        "id": str(order.id),
        "status": order.status,
        "email": order.email,
        "shipping_address": order.shipping_address,
        "subtotal": _money(order.subtotal_amount, currency),
        "shipping": _money(order.shipping_amount, currency),
        "total": _money(order.total_amount, currency),
        "refunded": _money(order.refunded_amount, currency),
        "lines": [
            {
                "id": str(line.id),
                "variant_id": str(line.variant_id),
                "product_id": str(line.product_id),
                "merchant": {"id": str(line.merchant_id), "name": line.merchant_name},
                "title": line.title,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price_amount, currency),
                "line_total": _money(line.line_total_amount, currency),
                "source": None
                if line.source_video_id is None
                else {
                    "video_id": str(line.source_video_id),
                    "tag_id": None if line.source_tag_id is None else str(line.source_tag_id),
                },
            }
            for line in order.lines.all()
        ],
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "paid_at": order.paid_at,
        "cancelled_at": order.cancelled_at,
        "cancellation_reason": order.cancellation_reason,
    }


def orders_of_user(*, user_id: str) -> QuerySet[Order]:
    return Order.objects.filter(user_id=user_id).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("title", "id"))
    )


def order_of_user(*, user_id: str, order_id: uuid.UUID) -> Order:
    """The user's own order; `Order.DoesNotExist` (a 404) for anyone else's."""
    return orders_of_user(user_id=user_id).get(id=order_id)


def orders_paid_between(*, since: datetime, until: datetime) -> QuerySet[Order]:
    """Orders paid in [since, until), with their lines, for `order_paid_event`."""
    return Order.objects.filter(paid_at__gte=since, paid_at__lt=until).prefetch_related("lines")


def refunds_published_between(*, since: datetime, until: datetime) -> QuerySet[Refund]:
    """Refunds made in [since, until) that were published as `order.refunded`: those of
    orders that were paid (a refund recorded before the payment is published with it; a
    cancelled order's money sent back is not; a pending or failed one is not either), for
    `order_refunded_event`."""
    return Refund.objects.filter(
        created_at__gte=since,
        created_at__lt=until,
        order__paid_at__isnull=False,
        status=Refund.Status.SUCCEEDED,
    ).select_related("order")
