"""Helpers for the tests of what follows a payment (cancels, returns, restocks): a paid
order of the real catalog's variants, paid at the Stripe emulator; its lines marked
shipped or delivered by writing the unit counts as a shipment does (the shipping service
is another module's); checkout's own `order.refunded` consumed as its worker does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import event_consume
from clipcart_tools.localstripe import stripe_client
from orders.models import Order, OrderLine
from orders.services.status import line_fulfilment_status, order_locked, order_status_derive
from tests.conftest import ADDRESS, STRIPE_KEY, intent_object, stripe_event, webhook_post
from tests.test_webhooks_and_orders import _pay_on_the_emulator


def paid_order(
    client_for: Any,
    api_client: Any,
    emulator: str,
    lines: list[tuple[dict[str, Any], int]],
    *,
    user: str = "u1",
) -> Order:
    """An order of `lines` ((variant, quantity)), checked out and paid."""
    response = client_for(user).post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": v["id"], "quantity": quantity} for v, quantity in lines],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["order"]["id"])
    _pay_on_the_emulator(emulator, order)
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def ship(order_id: uuid.UUID, units: dict[uuid.UUID, int] | None = None) -> dict[uuid.UUID, int]:
    """What a shipment does under the order's lock: bump `shipped_quantity` of the lines
    by `units` (default: every unit left), at most what is left (neither shipped nor
    cancelled). Returns the units it shipped."""
    with transaction.atomic():
        order = order_locked(order_id)
        shipped = {}
        lines = list(OrderLine.objects.select_for_update().filter(order=order).order_by("id"))
        for line in lines:
            left = line.quantity - line.cancelled_quantity - line.shipped_quantity
            count = left if units is None else min(left, units.get(line.id, 0))
            if count > 0:
                line.shipped_quantity += count
                line.fulfilment_status = line_fulfilment_status(line)
                line.save(update_fields=["shipped_quantity", "fulfilment_status"])
                shipped[line.id] = count
        order.status = order_status_derive(order, lines)
        order.save(update_fields=["status", "updated_at"])
    return shipped


def deliver(
    order: Order,
    *,
    units: dict[uuid.UUID, int] | None = None,
    window: timedelta = timedelta(days=30),
    delivered_ago: timedelta = timedelta(0),
) -> Order:
    """Ship and deliver `units` of the order's lines (default all) as a delivery does:
    the counts, `delivered_at`, `returns_close_at` (delivery plus the window)."""
    ship(order.id, units)
    delivered_at = timezone.now() - delivered_ago
    lines = list(order.lines.order_by("id"))
    for line in lines:
        if units is None or line.id in units:
            line.delivered_quantity = line.shipped_quantity
            line.delivered_at = delivered_at
            line.returns_close_at = delivered_at + window
            line.fulfilment_status = line_fulfilment_status(line)
            line.save()
    order.refresh_from_db()
    order.status = order_status_derive(order, lines)
    order.save(update_fields=["status", "updated_at"])
    return order


def refunded_events_consume() -> int:
    """Checkout's worker applying every `order.refunded` in the outbox (each once)."""
    return sum(
        event_consume(envelope=event.envelope())
        for event in OutboxEvent.objects.filter(type="order.refunded").order_by("id")
    )


def stripe_refunds(emulator: str, order: Order) -> list[int]:
    refunds = stripe_client(emulator, STRIPE_KEY).v1.refunds.list(
        {"payment_intent": order.payment_intent_id}
    )
    return sorted(refund.amount for refund in refunds.data)
