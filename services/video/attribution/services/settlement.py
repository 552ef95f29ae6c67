"""What checkout's after-payment events do here: `order.delivered` (per shipment) and
`order.return_requested` / `order.return_closed` are kept as received, then summed onto
the order's sale lines (`order_settlement_refresh`), which is what settlement reads
(`attribution.selectors`: a line settles once delivered, its latest return window
closed and no return open on it; ADR 26).

Each event is kept once by its id (shipment, return), and the lines are always summed
again from everything received for the order, under the order's lock: a redelivered
event changes nothing, and events in any order — a delivery before its `order.paid`, a
return closed before it was heard requested — end as if they had come in order.
`order_paid_apply` sums them too, for the deliveries and returns that came first.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from django.db import transaction

from attribution.models import DeliveryReceived, ReturnReceived, SaleLine
from attribution.services.locks import event_time, order_lock

logger = logging.getLogger(__name__)

CLOSED_STATUSES = (ReturnReceived.Status.REJECTED, ReturnReceived.Status.REFUNDED)


def _lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The event's `[{line_id, quantity}]`, checked and typed (ValueError otherwise)."""
    lines: list[dict[str, Any]] = [
        {"line_id": str(uuid.UUID(str(line["line_id"]))), "quantity": int(line["quantity"])}
        for line in data["lines"]
    ]
    if any(line["quantity"] <= 0 for line in lines):
        raise ValueError(f"A line quantity is not positive: {data['lines']!r}")
    return lines


def order_settlement_refresh(*, order_id: uuid.UUID | str, new_lines: bool = False) -> int:
    """Sum the deliveries and open returns received for an order onto its sale lines
    (the caller holds the order's lock). Lines not recorded yet are left for their
    `order.paid`, which calls this again with `new_lines` (its lines start at nothing
    delivered or held, so with nothing received there is nothing to read). Returns the
    number of lines changed."""
    deliveries = list(DeliveryReceived.objects.filter(order_id=order_id))
    open_returns = list(ReturnReceived.objects.filter(order_id=order_id, closed_at__isnull=True))
    if new_lines and not deliveries and not open_returns:
        return 0
    lines = {line.line_id: line for line in SaleLine.objects.filter(order_id=order_id)}
    delivered: dict[uuid.UUID, int] = {}
    first: dict[uuid.UUID, datetime] = {}
    closes: dict[uuid.UUID, datetime] = {}
    held: dict[uuid.UUID, int] = {}
    for delivery in deliveries:
        for item in delivery.lines:
            line_id = uuid.UUID(item["line_id"])
            delivered[line_id] = delivered.get(line_id, 0) + item["quantity"]
            first[line_id] = min(first.get(line_id, delivery.delivered_at), delivery.delivered_at)
            closes[line_id] = max(
                closes.get(line_id, delivery.returns_close_at), delivery.returns_close_at
            )
    for order_return in open_returns:
        for item in order_return.lines:
            line_id = uuid.UUID(item["line_id"])
            held[line_id] = held.get(line_id, 0) + item["quantity"]
    changed = []
    for line_id, line in lines.items():
        state = (
            delivered.get(line_id, 0),
            first.get(line_id),
            closes.get(line_id),
            held.get(line_id, 0),
        )
        now = (
            line.delivered_quantity,
            line.delivered_at,
            line.returns_close_at,
            line.held_quantity,
        )
        if state != now:
            (
                line.delivered_quantity,
                line.delivered_at,
                line.returns_close_at,
                line.held_quantity,
            ) = state
            changed.append(line)
    SaleLine.objects.bulk_update(
        changed, ["delivered_quantity", "delivered_at", "returns_close_at", "held_quantity"]
    )
    return len(changed)


def order_delivered_apply(envelope: dict[str, Any]) -> None:
    """Handler of checkout's `order.delivered`: one shipment's units delivered, with the
    end of their return window."""
    data = envelope["data"]
    with transaction.atomic():
        order_lock(data["order_id"])
        _, created = DeliveryReceived.objects.get_or_create(
            shipment_id=uuid.UUID(str(data["shipment_id"])),
            defaults={
                "order_id": uuid.UUID(str(data["order_id"])),
                "delivered_at": event_time(data.get("at"), envelope["time"]),
                "returns_close_at": event_time(data["returns_close_at"], ""),
                "lines": _lines(data),
            },
        )
        if not created:
            logger.info("Delivery already received", extra={"shipment_id": data["shipment_id"]})
            return
        changed = order_settlement_refresh(order_id=data["order_id"])
    logger.info(
        "Delivery received",
        extra={"shipment_id": data["shipment_id"], "order_id": data["order_id"], "lines": changed},
    )


def order_return_requested_apply(envelope: dict[str, Any]) -> None:
    """Handler of checkout's `order.return_requested`: its lines are held from settling
    until the return closes (nothing, when its close was heard first)."""
    data = envelope["data"]
    with transaction.atomic():
        order_lock(data["order_id"])
        _, created = ReturnReceived.objects.get_or_create(
            return_id=uuid.UUID(str(data["return_id"])),
            defaults={
                "order_id": uuid.UUID(str(data["order_id"])),
                "status": ReturnReceived.Status.REQUESTED,
                "lines": _lines(data),
                "requested_at": event_time(data.get("at"), envelope["time"]),
            },
        )
        if not created:
            logger.info("Return already received", extra={"return_id": data["return_id"]})
            return
        changed = order_settlement_refresh(order_id=data["order_id"])
    logger.info("Return holds its lines", extra={"return_id": data["return_id"], "lines": changed})


def order_return_closed_apply(envelope: dict[str, Any]) -> None:
    """Handler of checkout's `order.return_closed`: the hold is released (a refunded
    return's money comes back as its own `order.refunded`)."""
    data = envelope["data"]
    status = data["status"]
    if status not in CLOSED_STATUSES:
        raise ValueError(f"Unknown closed return status {status!r}.")
    closed_at = event_time(data.get("at"), envelope["time"])
    with transaction.atomic():
        order_lock(data["order_id"])
        order_return, created = ReturnReceived.objects.get_or_create(
            return_id=uuid.UUID(str(data["return_id"])),
            defaults={
                "order_id": uuid.UUID(str(data["order_id"])),
                "status": status,
                "lines": _lines(data),
                # Its request was never heard: its close is the earliest time known.
                "requested_at": closed_at,
                "closed_at": closed_at,
            },
        )
        if not created:
            if order_return.closed_at is not None:
                logger.info("Return already closed", extra={"return_id": data["return_id"]})
                return
            order_return.status = status
            order_return.closed_at = closed_at
            order_return.save(update_fields=["status", "closed_at"])
        changed = order_settlement_refresh(order_id=data["order_id"])
    logger.info(
        "Return closed",
        extra={"return_id": data["return_id"], "status": status, "lines": changed},
    )
