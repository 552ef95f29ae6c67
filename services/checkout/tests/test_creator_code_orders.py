"""Creator codes through checkout, against the real catalog: the order keeps the code's
creator with its discount, and `order.paid` names the code and the creator on each line
of that merchant (with the line's net amount), so attribution can credit the creator."""

from __future__ import annotations

import uuid

import pytest

from clipcart_shared.outbox.models import OutboxEvent
from orders.models import Order
from tests.conftest import intent_object, stripe_event, webhook_post
from tests.test_discounts import _cart_with, _checkout

pytestmark = pytest.mark.django_db


def test_a_creator_codes_order_paid_names_the_creator_on_the_merchants_lines(
    client_for, api_client, catalog, stripe_emulator, variants
):
    creator_id = str(uuid.uuid4())
    merchant_id = variants[0]["merchant_id"]
    code = f"TQ{uuid.uuid4().hex[:8].upper()}"
    catalog.hook(
        "promotion_create",
        merchant_id=merchant_id,
        code=code,
        kind="percent",
        percent_off=10,
        creator_id=creator_id,
        creator_handle="trailqueen",
    )
    others = [v for v in variants if v["merchant_id"] != merchant_id]
    client = client_for("u-creator-code")
    _cart_with(client, variants[0], quantity=2)
    if others:
        _cart_with(client, others[0])
    applied = client.post("/api/v1/cart/discount/", {"code": code.lower()}, format="json")
    assert applied.status_code == 200, applied.json()

    response = _checkout(client)

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert [(d["code"], d["creator_id"]) for d in order.discounts] == [(code, creator_id)]
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    paid = OutboxEvent.objects.get(type="order.paid")
    by_line = {line.id: line for line in order.lines.all()}
    for sent in paid.data["lines"]:
        line = by_line[uuid.UUID(sent["line_id"])]
        assert sent["amount"] == line.line_total_amount  # the net
        if sent["merchant_id"] == merchant_id:
            assert line.discount_amount > 0
            assert sent["creator_code"] == {"code": code, "creator_id": creator_id}
        else:
            assert sent["creator_code"] is None


def test_an_order_without_a_creator_code_names_none(
    client_for, api_client, catalog, stripe_emulator, variants
):
    catalog.hook(
        "promotion_create",
        merchant_id=variants[0]["merchant_id"],
        code=(code := f"PLAIN{uuid.uuid4().hex[:8].upper()}"),
        kind="percent",
        percent_off=10,
    )
    client = client_for("u-plain-code")
    _cart_with(client, variants[0])
    client.post("/api/v1/cart/discount/", {"code": code}, format="json")
    assert _checkout(client).status_code == 201
    order = Order.objects.get()

    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))

    [line] = OutboxEvent.objects.get(type="order.paid").data["lines"]
    assert line["creator_code"] is None
    assert order.discounts[0]["creator_id"] is None
