"""Paid orders made as rows for the shipping tests (no catalog or Stripe needed: shipping
starts from a paid order), and merchant API keys."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from merchant_api.services import merchant_api_key_create
from orders.models import Order, OrderLine
from tests.conftest import ADDRESS

MERCHANT_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
MERCHANT_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")


def paid_order(
    *lines: tuple[uuid.UUID, int], user_id: str = "buyer-1", status: str = "paid"
) -> Order:
    """A paid order with one line per (merchant, quantity), €10.00 a unit."""
    subtotal = sum(quantity * 1000 for _, quantity in lines)
    order = Order.objects.create(
        user_id=user_id,
        email="ada@example.com",
        shipping_address=ADDRESS,
        status=status,
        currency="EUR",
        subtotal_amount=subtotal,
        shipping_amount=490,
        total_amount=subtotal + 490,
        reservation_id=uuid.uuid4(),
        payment_intent_id=f"pi_rows_{uuid.uuid4().hex}",
        stripe_customer_id="cus_rows",
        expires_at=timezone.now() + timedelta(minutes=15),
        paid_at=timezone.now() if status != "pending_payment" else None,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                variant_id=uuid.uuid4(),
                product_id=uuid.uuid4(),
                merchant_id=merchant_id,
                merchant_name=f"Shop {str(merchant_id)[-1].upper()}",
                sku=f"SKU-{index}",
                title=f"Item {index}",
                quantity=quantity,
                unit_price_amount=1000,
                line_total_amount=1000 * quantity,
            )
            for index, (merchant_id, quantity) in enumerate(lines)
        ]
    )
    return order


def merchant_key(merchant_id: uuid.UUID) -> str:
    return merchant_api_key_create(merchant_id=merchant_id, name="warehouse", created_by="t")[1]
