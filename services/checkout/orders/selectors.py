from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import (
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

from orders.models import Order, OrderLine, OrderReturn, Refund, ReturnLine, Shipment
from orders.payment_match import payment_intent_of


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
        "discount_total": _money(order.discount_amount, currency),
        "discounts": [
            {
                "code": discount["code"],
                "kind": discount["kind"],
                "description": discount["description"],
                "amount": _money(discount["amount"], currency),
                "merchant_id": discount["merchant_id"],
                "shipping": _money(discount["shipping"], currency),
                "lines": [
                    {"line_id": line_id, "amount": _money(amount, currency)}
                    for line_id, amount in discount["lines"].items()
                ],
            }
            for discount in order.discounts
        ],
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
                "list_price": _money(line.unit_price_amount * line.quantity, currency),
                "discount": _money(line.discount_amount, currency),
                "line_total": _money(line.line_total_amount, currency),
                "source": None
                if line.source_video_id is None
                else {
                    "video_id": str(line.source_video_id),
                    "tag_id": None if line.source_tag_id is None else str(line.source_tag_id),
                },
                "fulfilment_status": line.fulfilment_status,
            }
            for line in order.lines.all()
        ],
        "shipments": shipments_render(order),
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "paid_at": order.paid_at,
        "cancelled_at": order.cancelled_at,
        "cancellation_reason": order.cancellation_reason,
        "returns": [return_render(order_return) for order_return in order.returns.all()],
    }


def return_render(order_return: OrderReturn) -> dict[str, Any]:
    """A return as its buyer (and its merchant) sees it."""
    return {
        "id": str(order_return.id),
        "order_id": str(order_return.order_id),
        "merchant_id": str(order_return.merchant_id),
        "status": order_return.status,
        "reason": order_return.reason,
        "note": order_return.note,
        "lines": [
            {"line_id": str(line.line_id), "quantity": line.quantity}
            for line in order_return.lines.all()
        ],
        "instructions": order_return.instructions,
        "rejection_reason": order_return.rejection_reason,
        "requested_at": order_return.requested_at,
        "decided_at": order_return.decided_at,
        "received_at": order_return.received_at,
        "closed_at": order_return.closed_at,
    }


def _returns_with_lines() -> QuerySet[OrderReturn]:
    return OrderReturn.objects.prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.order_by("id"))
    )


def returns_of_order(*, order: Order) -> QuerySet[OrderReturn]:
    return _returns_with_lines().filter(order=order)


def returns_of_merchant(
    *, merchant_id: uuid.UUID | None, status: str | None = None
) -> QuerySet[OrderReturn]:
    """A merchant's returns (every return for None, platform staff), newest first, with
    their lines; of one status if given."""
    returns = _returns_with_lines()
    if merchant_id is not None:
        returns = returns.filter(merchant_id=merchant_id)
    return returns if status is None else returns.filter(status=status)


def returns_requested_between(*, since: datetime, until: datetime) -> QuerySet[OrderReturn]:
    """Returns requested in [since, until), for `order_return_requested_event`."""
    return _returns_with_lines().filter(requested_at__gte=since, requested_at__lt=until)


def returns_closed_between(*, since: datetime, until: datetime) -> QuerySet[OrderReturn]:
    """Returns rejected or refunded in [since, until), for `order_return_closed_event`."""
    return _returns_with_lines().filter(closed_at__gte=since, closed_at__lt=until)


def shipments_render(order: Order, merchant_ids: list[uuid.UUID] | None = None) -> list[Any]:
    """The order's shipments (of these merchants; all for None), from what
    `SHIPMENTS_PREFETCH` fetched: no query per shipment."""
    names = {line.merchant_id: line.merchant_name for line in order.lines.all()}
    return [
        {
            "id": str(shipment.id),
            "merchant": {"id": str(shipment.merchant_id), "name": names.get(shipment.merchant_id)},
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "tracking_url": shipment.tracking_url,
            "status": shipment.status,
            "shipped_at": shipment.shipped_at,
            "delivered_at": shipment.delivered_at,
            "lines": [
                {"line_id": str(shipment_line.line_id), "quantity": shipment_line.quantity}
                for shipment_line in shipment.lines.all()
            ],
        }
        for shipment in order.shipments.all()
        if merchant_ids is None or shipment.merchant_id in merchant_ids
    ]


SHIPMENTS_PREFETCH = Prefetch(
    "shipments",
    queryset=Shipment.objects.order_by("shipped_at", "id").prefetch_related("lines"),
)


def orders_of_user(*, user_id: str) -> QuerySet[Order]:
    return Order.objects.filter(user_id=user_id).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("title", "id")),
        Prefetch("returns", queryset=_returns_with_lines().order_by("requested_at", "id")),
        SHIPMENTS_PREFETCH,
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


def shipments_delivered_between(*, since: datetime, until: datetime) -> QuerySet[Shipment]:
    """Shipments delivered in [since, until), with their lines, for
    `order_delivered_event`."""
    return Shipment.objects.filter(
        delivered_at__gte=since, delivered_at__lt=until
    ).prefetch_related("lines")


def order_for_stripe_object(*, obj: dict[str, Any]) -> tuple[Order | None, str]:
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


# --- the admin's reads ------------------------------------------------------------------

# An id typed in part must have this many hex digits, so that a short word searched for
# in emails ("face") does not also list every order whose id happens to start with it.
ID_PREFIX_MIN_DIGITS = 6
HEX_DIGITS = frozenset("0123456789abcdef")


def order_id_range(term: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The ids that begin with `term` (a whole id or its beginning, hyphens optional) as
    the first and the last id of that range: a range scan of the primary key instead of
    reading every id as text. None when the term cannot be (part of) an id."""
    digits = term.lower().replace("-", "")
    if not ID_PREFIX_MIN_DIGITS <= len(digits) <= 32 or not set(digits) <= HEX_DIGITS:
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def orders_of_merchants(orders: QuerySet[Order], merchant_ids: list[uuid.UUID]) -> QuerySet[Order]:
    """The orders holding a line of these merchants."""
    own_lines = OrderLine.objects.filter(order=OuterRef("pk"), merchant_id__in=merchant_ids)
    return orders.filter(Exists(own_lines))


def orders_with_merchant_share(
    orders: QuerySet[Order], merchant_ids: list[uuid.UUID]
) -> QuerySet[Order]:
    """Each order with `merchant_subtotal` and `merchant_refunded`: the sums over these
    merchants' lines (computed in the same query, whatever the number of orders)."""
    own_lines = (
        OrderLine.objects.filter(order=OuterRef("pk"), merchant_id__in=merchant_ids)
        .order_by()
        .values("order")
    )
    return orders.annotate(
        merchant_subtotal=Subquery(
            own_lines.annotate(amount=Sum("line_total_amount")).values("amount")
        ),
        merchant_refunded=Subquery(
            own_lines.annotate(amount=Sum("refunded_amount")).values("amount")
        ),
    )


def refunds_with_share_of_lines(
    refunds: QuerySet[Refund], line_ids: list[uuid.UUID]
) -> QuerySet[Refund]:
    """The refunds that gave money back on these lines, each with `line_share`: how much
    of it went to them (`Refund.lines` maps each line's id to its part)."""
    if not line_ids:
        return refunds.none()
    parts: list[Combinable] = [
        Coalesce(Cast(KeyTextTransform(str(line_id), "lines"), IntegerField()), Value(0))
        for line_id in line_ids
    ]
    share = parts[0]
    for part in parts[1:]:
        share = share + part
    return refunds.annotate(line_share=share).filter(line_share__gt=0)


def order_lines_of_merchants(
    *, order: Order, merchant_ids: list[uuid.UUID] | None
) -> QuerySet[OrderLine]:
    """The order's lines these merchants sold; every line for None (platform staff)."""
    lines = OrderLine.objects.filter(order=order).order_by("title", "id")
    return lines if merchant_ids is None else lines.filter(merchant_id__in=merchant_ids)
