from __future__ import annotations

import uuid
from unittest import mock

import pytest
import requests

from carts.models import Cart, CartLine

pytestmark = pytest.mark.django_db


def _add(client, variant_id, quantity=1, source=None):
    body = {"variant_id": variant_id, "quantity": quantity}
    if source is not None:
        body["source"] = source
    return client.post("/api/v1/cart/lines/", body, format="json")


def test_adding_a_line_prices_it_and_the_cart_with_two_catalog_calls(
    client_for, catalog, variants, source
):
    variant = variants[0]
    with mock.patch.object(
        requests.Session, "request", autospec=True, side_effect=requests.Session.request
    ) as sent:
        response = _add(client_for("u1"), variant["id"], 2, source)
    assert response.status_code == 201
    catalog_calls = [call for call in sent.call_args_list if call.args[2].startswith(catalog.url)]
    # One quote checks and prices the line; one prices the cart with its promotions.
    assert [call.args[2].removeprefix(catalog.url) for call in catalog_calls] == [
        "/internal/v1/quotes/",
        "/internal/v1/quotes/",
    ]
    cart = response.json()
    assert [(line["variant_id"], line["quantity"], line["source"]) for line in cart["lines"]] == [
        (variant["id"], 2, source)
    ]
    price = variant["price"]["amount"]
    assert cart["subtotal"] == {"amount": 2 * price, "currency": variant["price"]["currency"]}


def test_the_same_variant_from_the_same_source_adds_up_and_another_source_is_its_own_line(
    client_for, variants, source
):
    client = client_for("u1")
    source = {"video_id": source["video_id"]}
    _add(client, variants[0]["id"], 1, source)
    _add(client, variants[0]["id"], 2, source)
    cart = _add(client, variants[0]["id"], 1).json()
    assert sorted(line["quantity"] for line in cart["lines"]) == [1, 3]


def test_quantities_and_line_counts_are_bounded(client_for, variants):
    client = client_for("u1")
    assert _add(client, variants[0]["id"], 99).status_code == 201
    too_many = _add(client, variants[0]["id"], 1)
    assert (too_many.status_code, too_many.json()["code"]) == (422, "quantity_too_large")
    for quantity in (0, 100, -1, "two", 1.5, None):
        assert _add(client, variants[1]["id"], quantity).status_code == 400
    cart = Cart.objects.get(user_id="u1")
    line = cart.lines.get()
    CartLine.objects.bulk_create(
        [
            CartLine(
                cart=cart,
                variant_id=uuid.uuid4(),
                product_id=uuid.uuid4(),
                title="x",
                quantity=1,
                unit_price_amount=1,
                currency=line.currency,
            )
            for _ in range(49)
        ]
    )
    full = _add(client, variants[1]["id"], 1)
    assert (full.status_code, full.json()["code"]) == (422, "cart_full")


def test_unknown_variant_is_422_and_catalog_down_is_503_with_nothing_written(
    client_for, variants, settings
):
    unknown = _add(client_for("u1"), str(uuid.uuid4()))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "variant_unavailable")
    settings.CATALOG_URL = "http://127.0.0.1:9"
    down = _add(client_for("u1"), variants[0]["id"])
    assert (down.status_code, down.json()["code"]) == (503, "catalog_unavailable")
    assert CartLine.objects.count() == 0


def test_another_users_cart_line_is_404_and_mass_assignment_changes_nothing(client_for, variants):
    line_id = _add(client_for("u1"), variants[0]["id"]).json()["lines"][0]["id"]
    intruder = client_for("u2")
    assert (
        intruder.patch(f"/api/v1/cart/lines/{line_id}/", {"quantity": 5}, format="json").status_code
        == 404
    )
    assert intruder.delete(f"/api/v1/cart/lines/{line_id}/").status_code == 404
    owner = client_for("u1")
    owner.patch(
        f"/api/v1/cart/lines/{line_id}/",
        {"quantity": 3, "unit_price": {"amount": 1}, "price": 1, "user_id": "u2"},
        format="json",
    )
    line = CartLine.objects.get(id=line_id)
    assert (line.quantity, line.cart.user_id) == (3, "u1")
    assert line.unit_price_amount == variants[0]["price"]["amount"]
    assert owner.delete(f"/api/v1/cart/lines/{line_id}/").json()["lines"] == []
