"""One buyer cannot hold the shelf: at most MAX_OPEN_CHECKOUTS unpaid checkouts, at most the
merchant's cap of units of one variant across them, and a throttle on checkouts and cart
writes. Refused checkouts reserve nothing and never reach Stripe."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from orders.models import CheckoutHold, Order
from payments import stripe_api
from tests.conftest import ADDRESS

pytestmark = pytest.mark.django_db


def _buy(client, variant, quantity=1):
    return client.post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variant["id"], "quantity": quantity}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


@pytest.fixture
def stripe_calls(stripe_emulator):
    """Spies on the two calls a checkout makes to Stripe (they still reach the emulator)."""
    with (
        mock.patch.object(
            stripe_api, "payment_intent_create", wraps=stripe_api.payment_intent_create
        ) as intents,
        mock.patch.object(
            stripe_api, "customer_create", wraps=stripe_api.customer_create
        ) as customers,
    ):
        yield lambda: intents.call_count + customers.call_count


def test_the_fourth_open_checkout_is_409_reserves_nothing_and_never_calls_stripe(
    client_for, catalog, stripe_calls, variants
):
    client = client_for("hoarder")
    variant = variants[0]
    answers = [_buy(client, variant).status_code for _ in range(3)]
    stock, calls = catalog.stock(variant["id"]), stripe_calls()

    fourth = _buy(client, variant)

    assert answers == [201, 201, 201]
    assert fourth.status_code == 409
    assert fourth["Content-Type"] == "application/problem+json"
    assert fourth.json()["code"] == "too_many_open_checkouts"
    assert catalog.stock(variant["id"]) == stock
    assert stripe_calls() == calls
    assert Order.objects.filter(user_id="hoarder").count() == 3
    assert CheckoutHold.objects.count() == 0
    # Another buyer is not held up by the hoarder.
    assert _buy(client_for("someone-else"), variant).status_code == 201


def test_paid_cancelled_and_expired_checkouts_are_not_open(
    client_for, catalog, stripe_emulator, variants
):
    client = client_for("returning")
    for _ in range(3):
        assert _buy(client, variants[0]).status_code == 201
    first, second, third = Order.objects.filter(user_id="returning").order_by("created_at")
    Order.objects.filter(id=first.id).update(status=Order.Status.PAID)
    Order.objects.filter(id=second.id).update(status=Order.Status.CANCELLED)
    # Lapsed but not yet swept by orders_expire: not open either.
    Order.objects.filter(id=third.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    answers = [_buy(client, variants[0]).status_code for _ in range(4)]

    assert answers == [201, 201, 201, 409]


def test_a_failed_checkout_gives_its_place_back(client_for, catalog, stripe_down, variants):
    client = client_for("unlucky")

    answers = [_buy(client, variants[0]).json()["code"] for _ in range(4)]

    assert answers == ["payment_provider_unavailable"] * 4
    assert CheckoutHold.objects.count() == 0


@override_settings(MAX_OPEN_CHECKOUTS=1)
def test_the_number_of_open_checkouts_is_a_setting(client_for, catalog, stripe_emulator, variants):
    client = client_for("one-only")

    assert [_buy(client, variants[0]).status_code for _ in range(2)] == [201, 409]


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_of_one_buyer_never_pass_the_cap(
    client_for, catalog, stripe_emulator, variants
):
    client = client_for("racer")
    assert _buy(client, variants[0]).status_code == 201
    assert _buy(client, variants[0]).status_code == 201
    barrier = threading.Barrier(6)
    results: list[tuple[int, str | None]] = []

    def buy() -> None:
        try:
            barrier.wait()
            response = _buy(client_for("racer"), variants[1])
            results.append((response.status_code, response.json().get("code")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert Counter(results) == {(201, None): 1, (409, "too_many_open_checkouts"): 5}
    assert Order.objects.filter(user_id="racer").count() == 3
    assert CheckoutHold.objects.count() == 0


# --- the merchant's cap on units of one variant -----------------------------------------------


def test_units_of_one_variant_past_the_merchants_cap_are_409_naming_it(
    client_for, catalog, stripe_calls, variants
):
    client = client_for("bulk-buyer")
    variant = variants[2]
    assert _buy(client, variant, quantity=7).status_code == 201
    stock, calls = catalog.stock(variant["id"]), stripe_calls()

    over = _buy(client, variant, quantity=4)

    assert over.status_code == 409
    body = over.json()
    assert body["code"] == "unit_limit_exceeded"
    assert body["lines"] == [{"variant_id": variant["id"], "requested": 4, "held": 7, "limit": 10}]
    assert body["errors"][0]["field"] == "lines[0].quantity"
    assert variant["id"] in body["errors"][0]["message"]
    assert catalog.stock(variant["id"]) == stock
    assert stripe_calls() == calls
    # Up to the cap is fine, and another variant has its own count.
    assert _buy(client, variant, quantity=3).status_code == 201
    assert _buy(client, variants[3], quantity=10).status_code == 201


def test_the_cap_is_the_merchants_own(client_for, catalog, stripe_emulator, variants):
    catalog.set_max_units_per_buyer(variants[0]["merchant_id"], 2)
    try:
        answer = _buy(client_for("capped"), variants[0], quantity=3)
        within = _buy(client_for("capped"), variants[0], quantity=2)
    finally:
        catalog.set_max_units_per_buyer(variants[0]["merchant_id"], 10)

    assert (answer.status_code, answer.json()["code"]) == (409, "unit_limit_exceeded")
    assert answer.json()["lines"][0]["limit"] == 2
    assert within.status_code == 201


def test_the_cap_counts_a_variant_over_the_lines_of_one_checkout(
    client_for, catalog, stripe_emulator, variants
):
    response = client_for("split-lines").post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variants[0]["id"], "quantity": 6}] * 2,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )

    assert (response.status_code, response.json()["code"]) == (409, "unit_limit_exceeded")
    assert response.json()["lines"][0]["requested"] == 12


@pytest.mark.django_db(transaction=True)
def test_concurrent_checkouts_of_one_variant_never_pass_the_unit_cap(
    client_for, catalog, stripe_emulator, variants
):
    barrier = threading.Barrier(2)
    results: list[tuple[int, str | None]] = []

    def buy() -> None:
        try:
            barrier.wait()
            response = _buy(client_for("twin"), variants[4], quantity=6)
            results.append((response.status_code, response.json().get("code")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert Counter(results) == {(201, None): 1, (409, "unit_limit_exceeded"): 1}


# --- throttles ------------------------------------------------------------------------------


@override_settings(THROTTLE_RATES={"checkout.user": "2/min", "checkout.ip": "100/min"})
def test_a_burst_of_checkouts_is_throttled_with_retry_after_and_reserves_nothing(
    client_for, catalog, stripe_calls, variants
):
    client = client_for("bursty")
    assert [_buy(client, variants[5]).status_code for _ in range(2)] == [201, 201]
    stock, calls = catalog.stock(variants[5]["id"]), stripe_calls()

    throttled = _buy(client, variants[5])

    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/problem+json"
    assert throttled.json()["code"] == "throttled"
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert catalog.stock(variants[5]["id"]) == stock
    assert stripe_calls() == calls


@override_settings(THROTTLE_RATES={"cart.user": "3/min", "cart.ip": "100/min"})
def test_cart_writes_are_throttled_and_reading_the_cart_is_not(client_for, catalog, variants):
    client = client_for("cart-spammer")
    add = {"variant_id": variants[0]["id"], "quantity": 1}

    answers = [client.post("/api/v1/cart/lines/", add, format="json").status_code for _ in range(4)]

    assert answers == [201, 201, 201, 429]
    assert client.get("/api/v1/cart/").status_code == 200


def test_a_hold_left_by_a_stopped_process_lapses_and_is_pruned(
    client_for, catalog, stripe_emulator, variants
):
    from orders.limits import checkout_holds_prune

    now = timezone.now()
    for index in range(3):  # as if three checkouts had died mid-way
        CheckoutHold.objects.create(
            id=uuid.uuid4(),
            user_id="crashed",
            lines=[{"variant_id": variants[0]["id"], "quantity": 1}],
            expires_at=now + timedelta(minutes=1) if index == 0 else now - timedelta(seconds=1),
        )

    assert checkout_holds_prune() == 2
    # The live one still counts: two more places.
    answers = [_buy(client_for("crashed"), variants[0]).status_code for _ in range(3)]
    assert answers == [201, 201, 409]
