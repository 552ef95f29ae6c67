"""Tests only: checkout's orders as other services' tests need them, paid and refunded by
checkout's own code (`manage.py testhook <hook> '<JSON>'`; clipcart_shared.testhook).
Refused under production settings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clipcart_shared.testhook import HookCommand
from orders.events import order_paid_event, order_refunded_event
from orders.models import Order, OrderLine
from orders.services import order_refund


def order_paid_create(*, user_id: str, lines: list[dict[str, Any]]) -> Any:
    """An order paid now (as if through Stripe) with these lines (`line_id`, `variant_id`,
    `product_id`, `merchant_id`, `quantity`, `amount`); returns the `order.paid` it published."""
    total = sum(line["amount"] for line in lines)
    with transaction.atomic():
        order = Order.objects.create(
            user_id=user_id,
            email="buyer@example.com",
            shipping_address={},
            currency="EUR",
            subtotal_amount=total,
            shipping_amount=0,
            total_amount=total,
            reservation_id=uuid.uuid4(),
            payment_intent_id="pi_" + uuid.uuid4().hex,
            stripe_customer_id="cus_video_tests",
            status="paid",
            paid_at=timezone.now(),
            expires_at=timezone.now() + timedelta(minutes=15),
        )
        for line in lines:
            OrderLine.objects.create(
                order=order,
                id=line["line_id"],
                variant_id=line["variant_id"],
                product_id=line["product_id"],
                merchant_id=line["merchant_id"],
                merchant_name="Merchant",
                sku="SKU",
                title="Thing",
                quantity=line["quantity"],
                unit_price_amount=line["amount"] // line["quantity"],
                line_total_amount=line["amount"],
            )
    return order_paid_event(order)


def order_refund_record(*, order_id: str, amount: int, created_by: str) -> Any:
    """Refund part of a paid order through checkout's own service (Stripe skipped: already
    refunded); returns the `order.refunded` it published."""
    order = order_refund(
        order=Order.objects.get(id=order_id),
        amount=amount,
        created_by=created_by,
        stripe_refund_id="re_video_tests",
    )
    return order_refunded_event(order, order.refunds.order_by("-created_at")[0])


class Command(HookCommand):
    hooks = {"order_paid_create": order_paid_create, "order_refund_record": order_refund_record}
