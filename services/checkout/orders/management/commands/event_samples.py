"""`manage.py event_samples [--order JSON]`: the events checkout publishes, built by
`orders.events`, printed as the JSON list of envelopes their subscribers receive:
`order.paid` of a paid order, `order.refunded` of a refund of its first line, and
`order.cancelled` of another order of the same buyer. For the consumers' contract tests
(ADR 19), which run it in a checkout of their own and feed each envelope to their real
handler.

`--order` shapes the paid order so that a consumer can see the effect in its own data:
`{"user_id": str, "lines": [{"line_id"?, "product_id", "variant_id", "merchant_id",
"quantity", "amount", "source": {"video_id", "tag_id", "added_at"?} | null}],
"refund_amount"?: int}` (`amount` is the line's total; the refund, of the first line, is
half of it unless given). Everything is written in one transaction that is rolled back:
nothing is left behind and nothing is relayed.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import events_publish
from orders.events import order_cancelled_event, order_paid_event, order_refunded_event
from orders.models import Order, OrderLine, Refund

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
            envelopes = [
                event.envelope()
                for event in OutboxEvent.objects.filter(
                    subject__in=[str(paid.id), str(cancelled.id)]
                ).order_by("time", "id")
            ]
            transaction.set_rollback(True)
        self.stdout.write(json.dumps(envelopes, indent=2))


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
