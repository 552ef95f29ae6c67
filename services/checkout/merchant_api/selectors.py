"""What a merchant's system reads: its orders (only its lines and shipments on them)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet

from orders.models import Order, OrderLine, Shipment
from orders.selectors import shipments_render

MERCHANT_ORDER_STATUSES = ("to_ship", "shipped", "delivered")


def merchant_orders(
    *,
    merchant_id: uuid.UUID,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Order]:
    """Paid orders holding a line of the merchant, with only its lines and shipments
    fetched. `status`, of the merchant's part: `to_ship` (units left to ship),
    `shipped` (units shipped, not yet delivered), `delivered` (every unit delivered).
    `since`/`until`: paid in [since, until)."""
    own = OrderLine.objects.filter(order=OuterRef("pk"), merchant_id=merchant_id)
    orders = Order.objects.filter(
        Exists(own), status__in=(*Order.AFTER_PAYMENT, Order.Status.REFUNDED)
    )
    if status == "to_ship":
        orders = orders.filter(
            Exists(own.filter(shipped_quantity__lt=F("quantity") - F("cancelled_quantity"))),
            status__in=Order.AFTER_PAYMENT,
        )
    elif status == "shipped":
        orders = orders.filter(Exists(own.filter(delivered_quantity__lt=F("shipped_quantity"))))
    elif status == "delivered":
        orders = orders.filter(Exists(own.filter(delivered_quantity__gt=0))).exclude(
            Exists(own.filter(delivered_quantity__lt=F("quantity") - F("cancelled_quantity")))
        )
    if since is not None:
        orders = orders.filter(paid_at__gte=since)
    if until is not None:
        orders = orders.filter(paid_at__lt=until)
    return orders.prefetch_related(
        Prefetch(
            "lines", queryset=OrderLine.objects.filter(merchant_id=merchant_id).order_by("title")
        ),
        Prefetch(
            "shipments",
            queryset=Shipment.objects.filter(merchant_id=merchant_id)
            .order_by("shipped_at", "id")
            .prefetch_related("lines"),
        ),
    )


def merchant_order(*, merchant_id: uuid.UUID, order_id: uuid.UUID) -> Order:
    """The order, if it holds a line of the merchant; `Order.DoesNotExist` (404) else."""
    return merchant_orders(merchant_id=merchant_id).get(id=order_id)


def merchant_shipment(*, merchant_id: uuid.UUID, shipment_id: uuid.UUID) -> Shipment:
    """The merchant's shipment with its lines; `Shipment.DoesNotExist` (404) else."""
    return Shipment.objects.prefetch_related("lines").get(id=shipment_id, merchant_id=merchant_id)


def merchant_order_render(order: Order) -> dict[str, Any]:
    """An order as its merchant sees it: where to ship, its own lines and shipments."""
    currency = order.currency
    return {
        "id": str(order.id),
        "status": order.status,
        "paid_at": order.paid_at,
        "shipping_address": order.shipping_address,
        "lines": [
            {
                "id": str(line.id),
                "variant_id": str(line.variant_id),
                "product_id": str(line.product_id),
                "sku": line.sku,
                "title": line.title,
                "quantity": line.quantity,
                "line_total": {"amount": line.line_total_amount, "currency": currency},
                "fulfilment_status": line.fulfilment_status,
                "shipped_quantity": line.shipped_quantity,
                "delivered_quantity": line.delivered_quantity,
                "cancelled_quantity": line.cancelled_quantity,
                "to_ship_quantity": line.quantity - line.cancelled_quantity - line.shipped_quantity,
            }
            for line in order.lines.all()
        ],
        "shipments": shipments_render(order),
    }


def merchant_shipment_render(shipment: Shipment) -> dict[str, Any]:
    return {
        "id": str(shipment.id),
        "order_id": str(shipment.order_id),
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
        "status": shipment.status,
        "shipped_at": shipment.shipped_at,
        "delivered_at": shipment.delivered_at,
        "lines": [
            {"line_id": str(line.line_id), "quantity": line.quantity}
            for line in shipment.lines.all()
        ],
    }
