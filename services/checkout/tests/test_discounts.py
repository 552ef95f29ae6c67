"""Discount codes on the cart and in checkout, against the real catalog (which owns the
promotions and their uses) and the Stripe emulator."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from carts.models import CartDiscount
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import stripe_client
from orders.models import Order, OrderLine
from orders.services import orders_expire
from orders.services.units import unit_share, units_refunded
from payments.models import LedgerPosting
from tests.conftest import ADDRESS, STRIPE_KEY, intent_object, stripe_event, webhook_post

pytestmark = pytest.mark.django_db


def _code(catalog, merchant_id: str, **fields: Any) -> dict[str, str]:
    """A code promotion of the merchant in the real catalog (a fresh code each time: the
    catalog process is shared by every test)."""
    fields.setdefault("kind", "percent")
    fields.setdefault("percent_off", 10)
    return catalog.hook(
        "promotion_create",
        merchant_id=merchant_id,
        code=f"T{uuid.uuid4().hex[:10].upper()}",
        **fields,
    )


def _cart_with(client, variant, quantity=1) -> None:
    response = client.post(
        "/api/v1/cart/lines/", {"variant_id": variant["id"], "quantity": quantity}, format="json"
    )
    assert response.status_code == 201, response.json()


def _checkout(client):
    return client.post(
        "/api/v1/checkouts/",
        {"email": "ada@example.com", "shipping_address": ADDRESS},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


def test_an_unknown_code_is_422_promotion_unknown_and_nothing_is_written(
    client_for, catalog, variants
):
    client = client_for("u1")
    _cart_with(client, variants[0])

    response = client.post("/api/v1/cart/discount/", {"code": "NOPE123"}, format="json")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "promotion_unknown"
    assert not CartDiscount.objects.exists()
    cart = client.get("/api/v1/cart/").json()
    assert cart["discounts"] == [] and cart["codes"] == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"usage_limit": 0}, "promotion_exhausted"),
        ({"minimum_spend_amount": 10_000_000}, "promotion_minimum_not_met"),
        ({"starts_at": "2999-01-01T00:00:00Z"}, "promotion_not_started"),
    ],
)
def test_a_code_that_cannot_apply_is_422_with_its_reason(
    client_for, catalog, variants, fields, reason
):
    client = client_for("u1")
    _cart_with(client, variants[0])
    promotion = _code(catalog, variants[0]["merchant_id"], **fields)

    response = client.post("/api/v1/cart/discount/", {"code": promotion["code"]}, format="json")

    assert (response.status_code, response.json()["code"]) == (422, reason)
    assert not CartDiscount.objects.exists()


def test_a_code_shows_on_the_cart_with_its_amount_per_line(client_for, catalog, variants):
    client = client_for("u1")
    _cart_with(client, variants[0], quantity=2)
    _cart_with(client, variants[1])
    promotion = _code(catalog, variants[0]["merchant_id"])

    response = client.post(
        "/api/v1/cart/discount/", {"code": promotion["code"].lower()}, format="json"
    )

    assert response.status_code == 200, response.json()
    cart = response.json()
    prices = [2 * variants[0]["price"]["amount"], variants[1]["price"]["amount"]]
    total_off = (sum(prices) * 10 + 50) // 100
    [discount] = cart["discounts"]
    assert (discount["code"], discount["kind"]) == (promotion["code"], "percent")
    assert discount["amount"]["amount"] == total_off
    per_line = {share["line_id"]: share["amount"]["amount"] for share in discount["lines"]}
    assert sum(per_line.values()) == total_off
    for line, list_price in zip(cart["lines"], prices, strict=True):
        assert line["list_price"]["amount"] == list_price
        assert line["discount"]["amount"] == per_line[line["id"]]
        assert line["line_total"]["amount"] == list_price - per_line[line["id"]]
    assert cart["subtotal"]["amount"] == sum(prices) - total_off


def test_a_second_code_of_the_merchant_replaces_the_first_and_delete_takes_it_off(
    client_for, catalog, variants
):
    client = client_for("u1")
    _cart_with(client, variants[0])
    first = _code(catalog, variants[0]["merchant_id"])
    second = _code(catalog, variants[0]["merchant_id"], percent_off=20)
    client.post("/api/v1/cart/discount/", {"code": first["code"]}, format="json")

    replaced = client.post("/api/v1/cart/discount/", {"code": second["code"]}, format="json")
    removed = client.delete(f"/api/v1/cart/discount/{second['code']}/")
    again = client.delete(f"/api/v1/cart/discount/{second['code']}/")

    assert replaced.json()["codes"] == [second["code"]]
    assert [d["code"] for d in replaced.json()["discounts"]] == [second["code"]]
    assert removed.status_code == 200 and removed.json()["discounts"] == []
    assert again.status_code == 404


def _uses(catalog, promotion) -> tuple[int, int]:
    reserved, consumed = catalog.hook("promotion_uses", promotion_id=promotion["id"])
    return reserved, consumed


def test_checkout_charges_the_discounted_total_and_holds_the_use_with_the_stock(
    client_for, api_client, catalog, stripe_emulator, variants
):
    client = client_for("u1")
    _cart_with(client, variants[0], quantity=3)
    promotion = _code(
        catalog, variants[0]["merchant_id"], kind="fixed_amount", percent_off=None, amount_off=100
    )
    client.post("/api/v1/cart/discount/", {"code": promotion["code"]}, format="json")

    response = _checkout(client)

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    line = order.lines.get()
    list_total = 3 * variants[0]["price"]["amount"]
    assert (line.discount_amount, line.line_total_amount) == (100, list_total - 100)
    assert order.subtotal_amount == list_total - 100
    assert order.discount_amount == 100
    assert order.total_amount == order.subtotal_amount + order.shipping_amount
    assert order.discounts[0]["lines"] == {str(line.id): 100}
    body = response.json()["order"]
    assert body["discounts"][0]["code"] == promotion["code"]
    assert body["lines"][0]["list_price"]["amount"] == list_total
    assert body["lines"][0]["discount"]["amount"] == 100
    intent = stripe_client(stripe_emulator, STRIPE_KEY).v1.payment_intents.retrieve(
        order.payment_intent_id
    )
    assert intent.amount == order.total_amount
    assert _uses(catalog, promotion) == (1, 0)
    assert client.get("/api/v1/cart/").json()["codes"] == []

    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))

    order.refresh_from_db()
    assert order.status == "paid"
    assert _uses(catalog, promotion) == (0, 1)
    paid = OutboxEvent.objects.get(type="order.paid")
    assert paid.data["lines"][0]["amount"] == list_total - 100  # attribution gets the net
    # The merchant is owed its net lines and its shipping (ADR 30): the discount is theirs.
    postings = dict(
        LedgerPosting.objects.filter(entry__order_id=order.id).values_list("account", "amount")
    )
    assert postings == {
        "platform_cash": order.total_amount,
        "merchant_pending": -(list_total - 100 + order.shipping_amount),
    }


def test_an_unpaid_checkout_that_expires_gives_the_use_back(
    client_for, catalog, stripe_emulator, variants
):
    client = client_for("u1")
    _cart_with(client, variants[0])
    promotion = _code(catalog, variants[0]["merchant_id"], usage_limit=1)
    client.post("/api/v1/cart/discount/", {"code": promotion["code"]}, format="json")
    assert _checkout(client).status_code == 201
    assert _uses(catalog, promotion) == (1, 0)

    Order.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    orders_expire()

    assert Order.objects.get().status == "cancelled"
    assert _uses(catalog, promotion) == (0, 0)


def test_a_code_used_up_since_it_was_applied_stops_the_checkout_with_nothing_charged(
    client_for, catalog, stripe_emulator, variants
):
    promotion = _code(catalog, variants[0]["merchant_id"], usage_limit=1)
    first, second = client_for("u1"), client_for("u2")
    for client in (first, second):
        _cart_with(client, variants[0])
        client.post("/api/v1/cart/discount/", {"code": promotion["code"]}, format="json")
    assert _checkout(first).status_code == 201

    response = _checkout(second)

    assert (response.status_code, response.json()["code"]) == (422, "promotion_exhausted")
    assert Order.objects.count() == 1
    assert _uses(catalog, promotion) == (1, 0)


def test_free_shipping_takes_the_merchants_fee_off_the_charge(
    client_for, catalog, stripe_emulator, variants
):
    variant = variants[0]
    price = variant["price"]["amount"]
    old_price, old_fee = catalog.hook(
        "variant_price_and_shipping_set", variant_id=variant["id"], price=price, shipping=490
    )
    try:
        client = client_for("u1")
        _cart_with(client, variant, quantity=2)
        free = _code(catalog, variant["merchant_id"], kind="free_shipping", percent_off=None)
        client.post("/api/v1/cart/discount/", {"code": free["code"]}, format="json")

        response = _checkout(client)
    finally:
        catalog.hook(
            "variant_price_and_shipping_set",
            variant_id=variant["id"],
            price=old_price,
            shipping=old_fee,
        )

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert (order.shipping_amount, order.total_amount) == (0, 2 * price)
    assert order.discount_amount == order.discounts[0]["shipping"] == 490
    assert response.json()["order"]["discounts"][0]["kind"] == "free_shipping"


def test_unit_share_of_a_discounted_line_adds_up_to_its_net_total():
    line = OrderLine(
        quantity=3, unit_price_amount=1000, discount_amount=100, line_total_amount=2900
    )

    assert [unit_share(line, units) for units in (1, 2, 3)] == [966, 1933, 2900]
    # One unit at a time, each after the last was paid back: 966 + 967 + 967, the whole
    # net total, not a minor unit kept.
    assert [unit_share(line, 1, before=before) for before in (0, 1, 2)] == [966, 967, 967]
    assert unit_share(line, 2, before=1) == 1934
    # Refunds reserved side by side each take the first unit's 966: 3 x 966 = 2898 still
    # pays back all three units.
    for refunded, units in ((0, 0), (966, 1), (1900, 1), (1932, 2), (2898, 3), (2900, 3)):
        line.refunded_amount = refunded
        assert units_refunded(line) == units


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_checkouts_of_a_code_with_ten_uses_make_ten_orders_with_it(
    client_for, catalog, stripe_emulator, variants
):
    variant = variants[4]
    promotion = _code(catalog, variants[0]["merchant_id"], usage_limit=10)
    for index in range(50):
        client = client_for(f"race-{index}")
        _cart_with(client, variant)
        applied = client.post("/api/v1/cart/discount/", {"code": promotion["code"]}, format="json")
        assert applied.status_code == 200, applied.json()
    barrier = threading.Barrier(50)
    results: list[tuple[int, str | None]] = []

    def buy(index: int) -> None:
        try:
            barrier.wait()
            response = _checkout(client_for(f"race-{index}"))
            results.append((response.status_code, response.json().get("code")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(index,)) for index in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    # A buyer who lost the race learns it at the reservation (409) or, later, already
    # from the quote (422): the same code, and nothing charged.
    assert len(results) == 50
    assert Counter(status for status, _ in results if status == 201) == {201: 10}
    assert {code for status, code in results if status != 201} == {"promotion_exhausted"}
    assert Order.objects.count() == 10
    assert all(order.discounts[0]["code"] == promotion["code"] for order in Order.objects.all())
    assert _uses(catalog, promotion) == (10, 0)

    Order.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    orders_expire()

    assert _uses(catalog, promotion) == (0, 0)
