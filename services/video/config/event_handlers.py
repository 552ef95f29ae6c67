"""The events video consumes, each with the function that applies it.

Every event delivered to this service's queues (`video.events`, `video.attribution`) is
looked up here by `clipcart_shared.outbox.services.event_consume`; a type missing here is
logged and dropped. A producer's route to one of these queues needs a line here
(`tests/infra/test_event_routes.py`); the payloads are those of the producers' `events.py`
(`tests/test_event_contracts.py`). ADR 19.
"""

from __future__ import annotations

from collections.abc import Mapping

from attribution.services import (
    order_delivered_apply,
    order_paid_apply,
    order_refunded_apply,
    order_return_closed_apply,
    order_return_requested_apply,
)
from clipcart_shared.outbox.services import EventHandler
from productcards.services import product_changed_apply

EVENT_HANDLERS: Mapping[str, EventHandler] = {
    # catalog's products/events.py, on `video.events`: the product-card read model.
    "product.changed": product_changed_apply,
    # checkout's orders/events.py, on `video.attribution`: credits to videos and creators.
    "order.paid": order_paid_apply,
    "order.refunded": order_refunded_apply,
    # The same, after payment: settlement follows delivery and waits on open returns.
    "order.delivered": order_delivered_apply,
    "order.return_requested": order_return_requested_apply,
    "order.return_closed": order_return_closed_apply,
    # Not handled here: `order.shipped` (nothing settles on shipping; its delivery tells
    # all attribution needs) and `order.cancelled` (ADR 19): checkout routes neither to
    # video's queues.
}
