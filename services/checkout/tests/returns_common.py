"""What the returns tests share: a paid and delivered order of the real catalog's variants,
the buyer's return request over the API, and the check that a refusal wrote nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from clipcart_shared.outbox.models import OutboxEvent
from orders.models import Order, OrderReturn, ReturnLine
from tests.after_payment import deliver, paid_order


@pytest.fixture(name="order")
def delivered_order(client_for, api_client, stripe_emulator, variants) -> Order:
    """Paid and delivered: 2 of variants[0], 1 of variants[1]."""
    return deliver(
        paid_order(client_for, api_client, stripe_emulator, [(variants[0], 2), (variants[1], 1)])
    )


def line_of(order: Order, variant: dict[str, Any]):
    return order.lines.get(variant_id=variant["id"])


def ask_return(client, order: Order, lines, *, key: str | None = None, **body: Any):
    return client.post(
        f"/api/v1/orders/{order.id}/returns/",
        {"lines": lines, "reason": "damaged", **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def units_of(line, quantity: int) -> list[dict[str, Any]]:
    return [{"line_id": str(line.id), "quantity": quantity}]


def assert_nothing_written() -> None:
    assert not OrderReturn.objects.exists()
    assert not ReturnLine.objects.exists()
    assert not OutboxEvent.objects.filter(type__startswith="order.return").exists()
