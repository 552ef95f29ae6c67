"""`manage.py event_samples [--order JSON]`: the events checkout publishes, built by
`orders.events`, printed as the JSON list of envelopes their subscribers receive:
`order.paid` of a paid order, `order.refunded` of a refund of its first line,
`order.cancelled` of another order of the same buyer, then, for the paid order, one
shipment per merchant of all its lines, `order.shipped` and `order.delivered`, and a
return of one unit of its first line, `order.return_requested` and
`order.return_closed`. For the consumers' contract tests (ADR 19), which run it in a
checkout of their own and feed each envelope to their real handler.

`--order` shapes the paid order so that a consumer can see the effect in its own data:
`{"user_id": str, "lines": [{"line_id"?, "product_id", "variant_id", "merchant_id",
"quantity", "amount", "source": {"video_id", "tag_id", "added_at"?} | null,
"creator_code"?: {"code", "creator_id"}}],
"refund_amount"?: int, "delivered_at"?: ISO time, "returns_close_at"?: ISO time,
"return_status"?: "rejected" | "refunded"}` (`amount` is the line's total; the refund, of
the first line, is half of it unless given; delivered now, the return window the
merchant's default after it, the return rejected, unless given). Everything is written in
one transaction that is rolled back: nothing is left behind and nothing is relayed.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import events_publish
from orders.events import (
    order_cancelled_event,
    order_delivered_event,
    order_paid_event,
    order_refunded_event,
    order_return_closed_event,
    order_return_requested_event,
    order_shipped_event,
)
from orders.models import (
    MerchantPolicy,
    Order,
    OrderLine,
    OrderReturn,
    Refund,
    ReturnLine,
    Shipment,
    ShipmentLine,
)

DEFAULT_ORDER: dict[str, Any] = {
    "user_id": "sample-buyer",
    "lines": [
        {
            "product_id": str(uuid.UUID(int=1)),
            "variant_id": str(uuid.UUID(int=2)),
            "merchant_id": str(uuid.UUID(int=3)),
            "quantity": 2,
            "amount": 5_000,
            "source": {"video_id": str(uuid.UUID(int=4)), "tag_id": str(uuid.UUID(int=5))},
        }
    ],
}


class Command(BaseCommand):
    help = "Print sample events checkout publishes (as subscribers receive them) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--order", type=json.loads, default=DEFAULT_ORDER)

    def handle(self, *args: Any, **options: Any) -> None:
        request = copy.deepcopy(options["order"])
        with transaction.atomic():
            paid = _order_create(request, status=Order.Status.PAID)
            events_publish(events=[order_paid_event(paid)])
            first = paid.lines.get(id=_lines(request)[0]["line_id"])
            amount = int(request.get("refund_amount", first.line_total_amount // 2))
            refund = Refund.objects.create(
                order=paid, amount=amount, lines={str(first.id): amount}, created_by="samples"
            )
            events_publish(events=[order_refunded_event(paid, refund)])
            cancelled = _order_create(request, status=Order.Status.CANCELLED)
            events_publish(events=[order_cancelled_event(cancelled, reason="expired")])
            for shipment in _shipments_deliver(paid, request):
                events_publish(events=[order_shipped_event(shipment)])
                events_publish(events=[order_delivered_event(shipment)])
            order_return = _return_close(first, request, refund)
            events_publish(events=[order_return_requested_event(order_return)])
            events_publish(events=[order_return_closed_event(order_return)])
            envelopes = [
                event.envelope()
                for event in OutboxEvent.objects.filter(
                    subject__in=[str(paid.id), str(cancelled.id)]
                ).order_by("time", "id")
            ]
            transaction.set_rollback(True)
        self.stdout.write(json.dumps(envelopes, indent=2))


def _time(request: dict[str, Any], field: str, default: datetime) -> datetime:
    value = request.get(field)
    parsed = parse_datetime(value) if value else default
    if parsed is None:
        raise CommandError(f"{field} is not an ISO time: {value!r}")
    return parsed


def _shipments_deliver(order: Order, request: dict[str, Any]) -> list[Shipment]:
    """One shipment per merchant of all its lines, shipped and delivered."""
    delivered_at = _time(request, "delivered_at", timezone.now())
    window = timedelta(days=MerchantPolicy().return_window_days)
    returns_close_at = _time(request, "returns_close_at", delivered_at + window)
    shipments = []
    for merchant_id in sorted({str(line.merchant_id) for line in order.lines.all()}):
        shipment = Shipment.objects.create(
            order=order,
            merchant_id=merchant_id,
            status=Shipment.Status.DELIVERED,
            carrier="Sample carrier",
            tracking_number=f"SAMPLE{uuid.uuid4().hex[:10].upper()}",
            tracking_url="https://track.example.com/sample",
            shipped_at=delivered_at - timedelta(days=2),
            delivered_at=delivered_at,
            delivered_by=Shipment.DeliveredBy.CARRIER,
            returns_close_at=returns_close_at,
            created_by="samples",
        )
        for line in order.lines.filter(merchant_id=merchant_id):
            ShipmentLine.objects.create(shipment=shipment, line=line, quantity=line.quantity)
        shipments.append(shipment)
    return shipments


def _return_close(line: OrderLine, request: dict[str, Any], refund: Refund) -> OrderReturn:
    """A return of one unit of `line`, requested, then closed as `return_status` says
    (refunded: by the sample refund)."""
    status = request.get("return_status", OrderReturn.Status.REJECTED)
    if status not in (OrderReturn.Status.REJECTED, OrderReturn.Status.REFUNDED):
        raise CommandError(f"return_status is rejected or refunded, not {status!r}")
    order_return = OrderReturn.objects.create(
        order=line.order,
        merchant_id=line.merchant_id,
        user_id=line.order.user_id,
        reason=OrderReturn.Reason.CHANGED_MIND,
        idempotency_key=f"sample-{uuid.uuid4()}",
    )
    ReturnLine.objects.create(order_return=order_return, line=line, quantity=1)
    order_return.status = status
    order_return.decided_at = order_return.closed_at = timezone.now()
    order_return.decided_by = "samples"
    order_return.refund = refund if status == OrderReturn.Status.REFUNDED else None
    order_return.save(update_fields=["status", "decided_at", "closed_at", "decided_by", "refund"])
    return order_return


def _lines(request: dict[str, Any]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = request["lines"]
    for line in lines:
        line.setdefault("line_id", str(uuid.uuid4()))
        if line["amount"] % line["quantity"]:
            raise CommandError(f"A line's amount must be a multiple of its quantity: {line}")
    return lines


def _order_create(request: dict[str, Any], *, status: str) -> Order:
    now = timezone.now()
    lines = _lines(request) if status == Order.Status.PAID else []
    total = sum(line["amount"] for line in lines)
    order = Order.objects.create(
        user_id=request["user_id"],
        email="buyer@example.com",
        shipping_address={},
        currency="EUR",
        subtotal_amount=total,
        shipping_amount=0,
        total_amount=total,
        reservation_id=uuid.uuid4(),
        payment_intent_id=f"pi_sample_{uuid.uuid4().hex}",
        stripe_customer_id="cus_sample",
        status=status,
        paid_at=now if status == Order.Status.PAID else None,
        cancelled_at=now if status == Order.Status.CANCELLED else None,
        cancellation_reason="expired" if status == Order.Status.CANCELLED else "",
        expires_at=now + timedelta(minutes=15),
    )
    # A line's creator code is a discount of its merchant part, as a checkout keeps it.
    order.discounts = [
        {
            "promotion_id": str(uuid.uuid4()),
            "merchant_id": line["merchant_id"],
            "code": line["creator_code"]["code"],
            "creator_id": line["creator_code"]["creator_id"],
            "kind": "percent",
            "description": "Sample creator code",
            "amount": 0,
            "shipping": 0,
            "lines": {},
        }
        for line in lines
        if line.get("creator_code")
    ]
    if order.discounts:
        order.save(update_fields=["discounts"])
    for line in lines:
        source = line.get("source") or {}
        added_at = source.get("added_at")
        OrderLine.objects.create(
            order=order,
            id=line["line_id"],
            variant_id=line["variant_id"],
            product_id=line["product_id"],
            merchant_id=line["merchant_id"],
            merchant_name="Sample merchant",
            sku="SAMPLE",
            title="Sample thing",
            quantity=line["quantity"],
            unit_price_amount=line["amount"] // line["quantity"],
            line_total_amount=line["amount"],
            source_video_id=source.get("video_id"),
            source_tag_id=source.get("tag_id"),
            source_added_at=parse_datetime(added_at) if added_at else None,
        )
    return order
