"""The events checkout consumes, each with the function that applies it.

Every event delivered to `checkout.events` is looked up here by
`clipcart_shared.outbox.services.event_consume`; a type missing here is logged and dropped.
A route to `checkout.events` needs a line here (`tests/infra/test_event_routes.py`). ADR 19.
"""

from __future__ import annotations

from collections.abc import Mapping

from clipcart_shared.outbox.services import EventHandler
from orders.events import ORDER_DELIVERED, ORDER_PAID, ORDER_REFUNDED, ORDER_SHIPPED
from orders.services import order_fulfilment_start, refund_restock
from orders.services.fulfilment import order_delivered_notify, order_shipped_notify

EVENT_HANDLERS: Mapping[str, EventHandler] = {
    # Its own `order.paid`, on `checkout.events`: fulfilment pending, the buyer emailed.
    ORDER_PAID: order_fulfilment_start,
    # Its own `order.refunded`: a cancel's or a return's units (if ticked) back to stock.
    ORDER_REFUNDED: refund_restock,
    # Its own `order.shipped` / `order.delivered`: the buyer emailed (tracking link).
    ORDER_SHIPPED: order_shipped_notify,
    ORDER_DELIVERED: order_delivered_notify,
}
