"""The real checkout service for the video tests (its order-events API over HTTP), with
orders paid and refunded by its own code in its own database, as if through Stripe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from clipcart_tools.testing.services import RunningService, running_service
from tests.catalog_server import SERVICE_KEY

# Run by checkout's `manage.py shell`: an order paid now (lines as `paid_line` makes them),
# printed as the `order.paid` it published.
_PAY = """
import json, uuid
from datetime import timedelta
from django.db import transaction
from django.utils import timezone
from orders.events import order_paid_event
from orders.models import Order, OrderLine
request = json.loads({request!r})
lines = request["lines"]
total = sum(line["amount"] for line in lines)
with transaction.atomic():
    order = Order.objects.create(
        user_id=request["user_id"], email="buyer@example.com", shipping_address={{}},
        currency="EUR", subtotal_amount=total, shipping_amount=0, total_amount=total,
        reservation_id=uuid.uuid4(), payment_intent_id="pi_" + uuid.uuid4().hex,
        stripe_customer_id="cus_video_tests", status="paid", paid_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=15))
    for line in lines:
        OrderLine.objects.create(
            order=order, id=line["line_id"], variant_id=line["variant_id"],
            product_id=line["product_id"], merchant_id=line["merchant_id"],
            merchant_name="Merchant", sku="SKU", title="Thing", quantity=line["quantity"],
            unit_price_amount=line["amount"] // line["quantity"],
            line_total_amount=line["amount"])
print(json.dumps(order_paid_event(order)))
"""

# An order refunded now through checkout's own service (Stripe skipped: already refunded),
# printed as the `order.refunded` it published.
_REFUND = """
import json
from orders.events import order_refunded_event
from orders.models import Order
from orders.services import order_refund
request = json.loads({request!r})
order = order_refund(order=Order.objects.get(id=request["order_id"]), amount=request["amount"],
                     created_by="video-tests", stripe_refund_id="re_video_tests")
print(json.dumps(order_refunded_event(order, order.refunds.order_by("-created_at").first())))
"""


@dataclass
class CheckoutServer:
    service: RunningService

    @property
    def url(self) -> str:
        return self.service.url

    def _run(self, script: str, **request: Any) -> dict[str, Any]:
        out = self.service.manage("shell", "-c", script.format(request=json.dumps(request)))
        return dict(json.loads(out.strip().splitlines()[-1]))

    def pay(self, *, user_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        """A paid order in checkout; returns its `order.paid` (type, subject, data)."""
        return self._run(_PAY, user_id=user_id, lines=lines)

    def refund(self, *, order_id: str, amount: int) -> dict[str, Any]:
        """Refund part of a paid order; returns its `order.refunded` (type, subject, data)."""
        return self._run(_REFUND, order_id=order_id, amount=amount)


@contextmanager
def checkout_server() -> Iterator[CheckoutServer]:
    with running_service(
        "checkout",
        database="clipcart_checkout_for_video_tests",
        environment={"SERVICE_AUTH_KEYS": SERVICE_KEY},
    ) as service:
        yield CheckoutServer(service)
