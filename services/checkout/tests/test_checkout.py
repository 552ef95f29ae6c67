from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from carts.models import CartLine
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import stripe_client
from orders.models import Order, OrderLine
from payments.models import StripeCustomer
from tests.conftest import ADDRESS, STRIPE_KEY

pytestmark = pytest.mark.django_db


def _checkout(client, key=None, **body):
    return client.post(
        "/api/v1/checkouts/",
        {"email": "ada@example.com", "shipping_address": ADDRESS, **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def _lines(variants, count=1, quantity=1):
    return [{"variant_id": variant["id"], "quantity": quantity} for variant in variants[:count]]


def _intents_made(stripe) -> int:
    """How many PaymentIntents the (session-wide) emulator holds: its list's
    `total_count`, as a page of 100 stops counting once the suite has made more."""
    return int(stripe.v1.payment_intents.list({"limit": 1})["total_count"])


def test_checkout_from_the_cart_reserves_stock_and_creates_one_payment_intent(
    client_for, catalog, stripe_emulator, variants, source
):
    client = client_for("u1")
    variant = variants[0]
    client.post(
        "/api/v1/cart/lines/",
        {"variant_id": variant["id"], "quantity": 2, "source": source},
        format="json",
    )
    before = catalog.stock(variant["id"])
    added_at = CartLine.objects.get().added_at

    response = _checkout(client)

    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    price = variant["price"]["amount"]
    assert body["order"]["status"] == "pending_payment"
    assert body["order"]["lines"][0]["source"] == source
    # Attribution counts the source as a click when the line was put in the cart.
    assert order.lines.get().source_added_at == added_at
    assert order.subtotal_amount == 2 * price
    assert order.total_amount == order.subtotal_amount + order.shipping_amount
    assert body["order"]["total"] == {"amount": order.total_amount, "currency": order.currency}
    payment = body["payment"]
    assert payment["provider"] == "stripe"
    assert payment["client_secret"].startswith(order.payment_intent_id)
    assert payment["customer"] == order.stripe_customer_id
    intent = stripe_client(stripe_emulator, STRIPE_KEY).v1.payment_intents.retrieve(
        order.payment_intent_id
    )
    assert (intent.amount, intent.metadata["order_id"]) == (order.total_amount, str(order.id))
    assert catalog.stock(variant["id"]) == (before[0], before[1] + 2)
    assert client.get("/api/v1/cart/").json()["lines"] == []


def test_checkout_with_an_empty_cart_is_422(client_for, catalog, stripe_emulator):
    response = _checkout(client_for("u1"))
    assert (response.status_code, response.json()["code"]) == (422, "cart_empty")


def test_mass_assignment_of_prices_status_or_user_changes_nothing(
    client_for, catalog, stripe_emulator, variants
):
    response = _checkout(
        client_for("u1"),
        lines=_lines(variants),
        status="paid",
        total={"amount": 1, "currency": "EUR"},
        amount=1,
        price=1,
        user_id="someone-else",
    )
    order = Order.objects.get()
    assert response.status_code == 201
    assert (order.status, order.user_id) == ("pending_payment", "u1")
    assert order.subtotal_amount == variants[0]["price"]["amount"]


def test_the_same_key_replays_and_another_body_with_it_is_422(
    client_for, catalog, stripe_emulator, variants
):
    client = client_for("u1")
    first = _checkout(client, key="k1", lines=_lines(variants))
    again = _checkout(client, key="k1", lines=_lines(variants))
    assert again.content == first.content
    other = _checkout(client, key="k1", lines=_lines(variants, quantity=2))
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert Order.objects.count() == 1


def test_catalog_down_is_503_and_nothing_is_written(client_for, catalog_down, stripe_emulator):
    response = _checkout(client_for("u1"), lines=[{"variant_id": str(uuid.uuid4()), "quantity": 1}])
    assert (response.status_code, response.json()["code"]) == (503, "catalog_unavailable")
    assert Order.objects.count() == 0


def test_stripe_down_after_the_reservation_is_503_and_the_stock_goes_back(
    client_for, catalog, stripe_down, variants
):
    before = catalog.stock(variants[0]["id"])
    response = _checkout(client_for("u1"), lines=_lines(variants))
    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")
    assert Order.objects.count() == 0
    assert catalog.stock(variants[0]["id"]) == before


def test_a_stored_customer_stripe_no_longer_has_is_replaced(
    client_for, catalog, stripe_emulator, variants
):
    # As after the emulator restarts, or a customer deleted in Stripe's dashboard.
    StripeCustomer.objects.create(user_id="u1", customer_id="cus_gone")

    response = _checkout(client_for("u1"), lines=_lines(variants))

    assert response.status_code == 201, response.json()
    customer = StripeCustomer.objects.get(user_id="u1").customer_id
    assert customer != "cus_gone"
    assert (
        response.json()["payment"]["customer"] == customer == Order.objects.get().stripe_customer_id
    )


def test_out_of_stock_is_409_naming_the_line(client_for, catalog, stripe_emulator, variants):
    response = _checkout(
        client_for("u1"),
        # The most one buyer may hold of a variant (the demo merchants' cap).
        lines=[*_lines(variants, quantity=10), {"variant_id": variants[1]["id"], "quantity": 10}],
    )
    assert response.status_code == 201  # plenty: the fixture stocked 100 000
    catalog.set_stock(variants[2]["id"], 1)
    short = _checkout(client_for("u1"), lines=[{"variant_id": variants[2]["id"], "quantity": 2}])
    assert (short.status_code, short.json()["code"]) == (409, "out_of_stock")
    assert short.json()["lines"] == [
        {"variant_id": variants[2]["id"], "requested": 2, "available": 1}
    ]
    catalog.set_stock(variants[2]["id"], 100_000)


def _checkout_queries(client, variants, count) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert _checkout(client, lines=_lines(variants, count)).status_code == 201
    return len(queries)


def test_checkout_query_count_is_the_same_for_1_line_and_20_lines(
    client_for, catalog, stripe_emulator, variants
):
    client = client_for("u1")
    _checkout(client, lines=_lines(variants))  # the Stripe customer now exists
    many = min(len(variants), 20)
    one = _checkout_queries(client, variants, 1)
    twenty = _checkout_queries(client, variants, many)
    assert many >= 5
    assert one == twenty
    assert one <= 25
    assert (
        OrderLine.objects.filter(order__in=Order.objects.order_by("-created_at")[:1]).count()
        == many
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_one_key_make_one_order_and_the_same_answer(
    client_for, catalog, stripe_emulator, variants
):
    barrier = threading.Barrier(20)
    answers: list[tuple[int, bytes]] = []

    def send() -> None:
        try:
            barrier.wait()
            response = _checkout(client_for("u1"), key="same-key", lines=_lines(variants))
            answers.append((response.status_code, response.content))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert Counter(status for status, _ in answers) == {201: 20}
    assert len({content for _, content in answers}) == 1
    assert Order.objects.count() == 1
    assert OutboxEvent.objects.filter(type="order.paid").count() == 0


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_buyers_of_the_last_unit_one_order_and_no_stray_payment_intents(
    client_for, catalog, stripe_emulator, variants
):
    variant = variants[3]
    catalog.set_stock(variant["id"], 1)
    stripe = stripe_client(stripe_emulator, STRIPE_KEY)
    intents_before = _intents_made(stripe)
    barrier = threading.Barrier(50)
    results: list[tuple[int, str | None]] = []

    def buy(index: int) -> None:
        try:
            barrier.wait()
            response = _checkout(
                client_for(f"buyer-{index}"), lines=[{"variant_id": variant["id"], "quantity": 1}]
            )
            results.append((response.status_code, response.json().get("code")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(index,)) for index in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert Counter(results) == {(201, None): 1, (409, "out_of_stock"): 49}
    assert Order.objects.count() == 1
    assert _intents_made(stripe) == intents_before + 1
    assert catalog.stock(variant["id"]) == (1, 1)
    catalog.set_stock(variant["id"], 100_000)


def _set_price_and_shipping(catalog, variant, price: int, shipping: int) -> tuple[int, int]:
    """Set a variant's price and its merchant's shipping fee; returns the old pair."""
    old_price, old_shipping = catalog.hook(
        "variant_price_and_shipping_set", variant_id=variant["id"], price=price, shipping=shipping
    )
    return int(old_price), int(old_shipping)


@pytest.mark.parametrize(
    "price, shipping, quantity, code",
    [
        (99_999_999, 0, 2, "amount_too_large"),
        (1, 0, 1, "amount_too_small"),
        (0, 0, 1, "amount_too_small"),
    ],
)
def test_a_total_stripe_cannot_charge_is_422_with_nothing_reserved_or_asked_of_stripe(
    client_for, catalog, stripe_emulator, variants, price, shipping, quantity, code
):
    variant = variants[-2]
    old = _set_price_and_shipping(catalog, variant, price, shipping)
    try:
        before = catalog.stock(variant["id"])
        intents_before = _intents_made(stripe_client(stripe_emulator, STRIPE_KEY))

        response = _checkout(
            client_for("u-limits"), lines=[{"variant_id": variant["id"], "quantity": quantity}]
        )

        assert (response.status_code, response.json()["code"]) == (422, code), response.json()
        assert response["Content-Type"] == "application/problem+json"
        assert catalog.stock(variant["id"]) == before
        assert _intents_made(stripe_client(stripe_emulator, STRIPE_KEY)) == intents_before
        assert Order.objects.count() == 0
    finally:
        _set_price_and_shipping(catalog, variant, *old)
