"""Flash deals at checkout, against the real catalog (which owns the deals and their
units) and video (which checks a line's source): the deal price on lines added from its
video, its units held with the stock, and 409 `prices_changed` when the cart the buyer
saw is not what the checkout would charge (a deal ended in between)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderLine
from tests.conftest import ADDRESS

pytestmark = pytest.mark.django_db


def _deal(catalog, variant, video_id, **fields):
    price = variant["price"]["amount"] // 2
    return catalog.hook(
        "flash_deal_create",
        variant_id=variant["id"],
        video_id=video_id,
        price_amount=price,
        per_buyer_limit=fields.pop("per_buyer_limit", 3),
        total_quantity=fields.pop("total_quantity", 50),
        **fields,
    )["id"]


def _add(client, variant, source, quantity=1):
    response = client.post(
        "/api/v1/cart/lines/",
        {"variant_id": variant["id"], "quantity": quantity, "source": source},
        format="json",
    )
    assert response.status_code == 201, response.json()


def _checkout(client, **body):
    return client.post(
        "/api/v1/checkouts/",
        {"email": "ada@example.com", "shipping_address": ADDRESS, **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


def test_a_line_from_the_deals_video_is_charged_the_deal_price_and_holds_its_units(
    client_for, catalog, video, stripe_emulator, variants
):
    variant = variants[0]
    source = video.tag(variant["product_id"])
    deal = _deal(catalog, variant, source["video_id"])
    client = client_for(f"flash-{uuid.uuid4().hex[:8]}")
    _add(client, variant, source, quantity=2)

    cart = client.get("/api/v1/cart/").json()
    line = cart["lines"][0]
    deal_price = variant["price"]["amount"] // 2
    assert line["unit_price"]["amount"] == deal_price
    assert line["flash_deal"]["list_price"]["amount"] == variant["price"]["amount"]
    assert cart["price_version"]

    response = _checkout(client, price_version=cart["price_version"])

    assert response.status_code == 201, response.json()
    order = Order.objects.get(id=response.json()["order"]["id"])
    assert order.lines.get().unit_price_amount == deal_price
    assert order.subtotal_amount == 2 * deal_price
    assert catalog.hook("flash_deal_units", deal_id=deal) == [2, 0]


def test_a_deal_ending_between_the_cart_and_the_checkout_is_409_prices_changed(
    client_for, catalog, video, stripe_emulator, variants
):
    variant = variants[1]
    source = video.tag(variant["product_id"])
    deal = _deal(catalog, variant, source["video_id"])
    user_id = f"flash-{uuid.uuid4().hex[:8]}"
    client = client_for(user_id)
    _add(client, variant, source)
    seen = client.get("/api/v1/cart/").json()
    assert seen["lines"][0]["flash_deal"] is not None
    reserved_before = catalog.stock(variant["id"])[1]

    catalog.hook("flash_deal_end", deal_id=deal)
    changed = _checkout(client, price_version=seen["price_version"])

    assert changed.status_code == 409
    assert changed["Content-Type"] == "application/problem+json"
    problem = changed.json()
    assert problem["code"] == "prices_changed"
    new_cart = problem["cart"]
    assert new_cart["lines"][0]["flash_deal"] is None
    assert new_cart["lines"][0]["unit_price"]["amount"] == variant["price"]["amount"]
    assert problem["price_version"] == new_cart["price_version"] != seen["price_version"]
    # Nothing charged, nothing held, the cart kept.
    assert not Order.objects.filter(user_id=user_id).exists()
    assert catalog.stock(variant["id"])[1] == reserved_before
    assert catalog.hook("flash_deal_units", deal_id=deal) == [0, 0]
    assert len(client.get("/api/v1/cart/").json()["lines"]) == 1

    # The buyer saw the new prices: the checkout goes through at the list price.
    again = _checkout(client, price_version=new_cart["price_version"])
    assert again.status_code == 201, again.json()
    assert again.json()["order"]["lines"][0]["unit_price"]["amount"] == variant["price"]["amount"]


def test_a_made_up_price_version_is_409_and_a_missing_one_charges_todays_prices(
    client_for, catalog, stripe_emulator, variants
):
    client = client_for(f"flash-{uuid.uuid4().hex[:8]}")
    response = client.post(
        "/api/v1/cart/lines/", {"variant_id": variants[2]["id"], "quantity": 1}, format="json"
    )
    assert response.status_code == 201

    assert _checkout(client, price_version="p1-madeup").json()["code"] == "prices_changed"
    assert _checkout(client, price_version="x" * 41).status_code == 400
    assert _checkout(client).status_code == 201


def test_a_deal_sold_out_while_checking_out_is_409_prices_changed(
    client_for, catalog, video, stripe_emulator, variants
):
    variant = variants[3]
    source = video.tag(variant["product_id"])
    deal = _deal(catalog, variant, source["video_id"], total_quantity=1, per_buyer_limit=1)
    first, second = (client_for(f"flash-{uuid.uuid4().hex[:8]}") for _ in range(2))
    for client in (first, second):
        _add(client, variant, source)
    seen = [client.get("/api/v1/cart/").json()["price_version"] for client in (first, second)]

    assert _checkout(first, price_version=seen[0]).status_code == 201
    late = _checkout(second, price_version=seen[1])

    assert late.status_code == 409
    assert late.json()["code"] == "prices_changed"
    assert late.json()["cart"]["lines"][0]["flash_deal"] is None
    assert catalog.hook("flash_deal_units", deal_id=deal) == [1, 0]


def test_checkout_queries_stay_the_same_for_more_lines_promotions_and_deals(
    client_for, catalog, video, stripe_emulator, variants
):
    merchant_id = variants[0]["merchant_id"]

    def queries(count: int) -> int:
        client = client_for(f"flash-{uuid.uuid4().hex[:8]}")
        for variant in variants[4 : 4 + count]:
            source = video.tag(variant["product_id"])
            _deal(catalog, variant, source["video_id"])
            _add(client, variant, source)
        # Automatic stackable promotions on these products only, ended afterwards: the
        # catalog process is shared by every test.
        promotions = [
            catalog.hook(
                "promotion_create",
                merchant_id=merchant_id,
                kind="percent",
                percent_off=1,
                is_stackable=True,
                code=None,
                applies_to="products",
                product_ids=[variant["product_id"] for variant in variants[4 : 4 + count]],
            )["id"]
            for _ in range(count)
        ]
        try:
            version = client.get("/api/v1/cart/").json()["price_version"]
            with CaptureQueriesContext(connection) as captured:
                response = _checkout(client, price_version=version)
        finally:
            for promotion_id in promotions:
                catalog.hook("promotion_end", promotion_id=promotion_id)
        assert response.status_code == 201, response.json()
        order = Order.objects.get(id=response.json()["order"]["id"])
        assert OrderLine.objects.filter(order=order).count() == count
        assert len(order.discounts) >= count
        return len(captured)

    _checkout(client_for("warm"), lines=[{"variant_id": variants[0]["id"], "quantity": 1}])
    assert queries(1) == queries(4)
