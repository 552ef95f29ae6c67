"""Seed checkout's shipping bench database: paid orders of one merchant (3 lines each,
2 units a line), and a merchant API key; print them. Run by run.py (parts/shipping.py)
with CHECKOUT_DATABASE_URL pointing at `clipcart_checkout_shipping_bench` (it refuses any
other). Prints one JSON object on its last stdout line: `{key, lines: [[order, line]]}`.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import timedelta

import django

BENCH_DATABASE = "clipcart_checkout_shipping_bench"
ORDERS = 6000
LINES_PER_ORDER = 3


def main() -> int:
    url = os.environ.get("CHECKOUT_DATABASE_URL", "")
    if not url.rstrip("/").split("?")[0].endswith(f"/{BENCH_DATABASE}"):
        print(f"refusing to seed {url!r}: not the bench database", file=sys.stderr)
        return 2
    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from merchant_api.services import merchant_api_key_create
    from orders.models import Order, OrderLine

    merchant = uuid.uuid4()
    now = timezone.now()
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            [
                Order(
                    user_id=f"bench-{n}",
                    email="bench@example.com",
                    shipping_address={"name": "Bench", "line1": "1 St", "city": "Berlin",
                                      "postal_code": "10115", "country": "DE"},
                    status="paid",
                    currency="EUR",
                    subtotal_amount=6000,
                    shipping_amount=0,
                    total_amount=6000,
                    reservation_id=uuid.uuid4(),
                    payment_intent_id=f"pi_bench_{n}_{uuid.uuid4().hex}",
                    stripe_customer_id="cus_bench",
                    expires_at=now + timedelta(minutes=15),
                    paid_at=now,
                )
                for n in range(ORDERS)
            ]
        )  # fmt: skip
        lines = OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    variant_id=uuid.uuid4(),
                    product_id=uuid.uuid4(),
                    merchant_id=merchant,
                    merchant_name="Bench shop",
                    sku=f"B-{k}",
                    title=f"Bench item {k}",
                    quantity=2,
                    unit_price_amount=1000,
                    line_total_amount=2000,
                )
                for order in orders
                for k in range(LINES_PER_ORDER)
            ]
        )
        _, key = merchant_api_key_create(merchant_id=merchant, name="bench", created_by="bench")
    by_order: dict[str, list[str]] = {}
    for line in lines:
        by_order.setdefault(str(line.order_id), []).append(str(line.id))
    print(json.dumps({"key": key, "orders": by_order}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
