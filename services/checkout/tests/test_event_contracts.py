"""Checkout's events as contracts (ADR 19): what `orders.events` builds is what its
consumers' handlers accept. Checkout consumes its own `order.paid` (fulfilment); video's
contract tests run `manage.py event_samples` tested here."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import event_consume
from orders.events import (
    ORDER_CANCELLED,
    ORDER_DELIVERED,
    ORDER_PAID,
    ORDER_REFUNDED,
    ORDER_RETURN_CLOSED,
    ORDER_RETURN_REQUESTED,
    ORDER_SHIPPED,
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderRefunded,
    OrderReturnClosed,
    OrderReturnRequested,
    OrderShipped,
    PaidLine,
    UnitsLine,
)
from orders.models import Order
from tests.conftest import ADDRESS, intent_object, stripe_event, webhook_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(client_for, catalog, stripe_emulator, variants) -> Order:
    response = client_for("u1").post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variants[0]["id"], "quantity": 2}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    return Order.objects.get(id=response.json()["order"]["id"])


def test_order_paid_as_published_starts_fulfilment_and_emails_the_buyer_once(
    api_client, order, mailoutbox
):
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    published = OutboxEvent.objects.get(type=ORDER_PAID)
    mailoutbox.clear()  # what the payment itself sent

    assert event_consume(envelope=published.envelope()) is True
    assert event_consume(envelope=published.envelope()) is False  # redelivered

    order.refresh_from_db()
    assert [line.fulfilment_status for line in order.lines.all()] == ["unfulfilled"]
    [mail] = mailoutbox
    line = order.lines.get()
    assert (mail.to, mail.subject) == (
        ["ada@example.com"],
        f"Your clipcart order {str(order.id)[:8]} is confirmed",
    )
    assert f"  2 x {line.title}\n" in mail.body


def test_event_samples_prints_each_type_as_declared_and_leaves_nothing_behind():
    out = io.StringIO()
    order = {
        "user_id": "buyer-7",
        "lines": [
            {
                "line_id": str(uuid.uuid4()),
                "product_id": str(uuid.uuid4()),
                "variant_id": str(uuid.uuid4()),
                "merchant_id": str(uuid.uuid4()),
                "quantity": 3,
                "amount": 3000,
                "source": None,
            }
        ],
        "refund_amount": 700,
        "returns_close_at": "2026-01-31T10:00:00+00:00",
        "return_status": "refunded",
    }

    call_command("event_samples", "--order", json.dumps(order), stdout=out)

    printed = json.loads(out.getvalue())
    paid, refunded, cancelled, shipped, delivered, requested, closed = printed
    assert [sample["type"] for sample in printed] == [
        ORDER_PAID,
        ORDER_REFUNDED,
        ORDER_CANCELLED,
        ORDER_SHIPPED,
        ORDER_DELIVERED,
        ORDER_RETURN_REQUESTED,
        ORDER_RETURN_CLOSED,
    ]
    assert set(paid) == {"id", "type", "source", "time", "subject", "data"}
    assert set(paid["data"]) == OrderPaid.__required_keys__
    assert set(paid["data"]["lines"][0]) == PaidLine.__required_keys__
    assert set(refunded["data"]) == OrderRefunded.__required_keys__
    assert set(cancelled["data"]) == OrderCancelled.__required_keys__
    assert (paid["data"]["user_id"], paid["data"]["lines"][0]["amount"]) == ("buyer-7", 3000)
    assert refunded["data"]["order_id"] == paid["subject"]
    assert refunded["data"]["lines"] == [{"line_id": order["lines"][0]["line_id"], "amount": 700}]
    assert cancelled["data"]["reason"] == "expired"
    assert set(shipped["data"]) == OrderShipped.__required_keys__
    assert set(delivered["data"]) == OrderDelivered.__required_keys__
    assert set(requested["data"]) == OrderReturnRequested.__required_keys__
    assert set(closed["data"]) == OrderReturnClosed.__required_keys__
    assert set(delivered["data"]["lines"][0]) == UnitsLine.__required_keys__
    line = order["lines"][0]["line_id"]
    assert shipped["data"]["shipment_id"] == delivered["data"]["shipment_id"]
    assert delivered["data"]["lines"] == [{"line_id": line, "quantity": 3}]
    assert delivered["data"]["returns_close_at"] == order["returns_close_at"]
    assert (
        requested["data"]["lines"] == closed["data"]["lines"] == [{"line_id": line, "quantity": 1}]
    )
    assert requested["data"]["return_id"] == closed["data"]["return_id"]
    assert closed["data"]["status"] == "refunded"
    assert {sample["subject"] for sample in printed if sample is not cancelled} == {paid["subject"]}
    assert Order.objects.count() == 0
    assert OutboxEvent.objects.count() == 0


def test_every_routed_type_is_one_orders_events_builds():
    assert set(settings.EVENT_ROUTES) <= {
        ORDER_PAID,
        ORDER_REFUNDED,
        ORDER_CANCELLED,
        ORDER_RETURN_REQUESTED,
        ORDER_RETURN_CLOSED,
        ORDER_SHIPPED,
        ORDER_DELIVERED,
    }
    # Nobody consumes `order.cancelled` (tests/infra/test_event_routes.py): routed nowhere.
    assert ORDER_CANCELLED not in settings.EVENT_ROUTES
