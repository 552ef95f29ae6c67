"""A return end to end, against the real processes: a paid order whose line is marked
delivered (written in checkout's database, as a delivery leaves it), the buyer's return
request, the merchant's approval and "received, restock" in the checkout admin, the
refund at the Stripe emulator, and the units back in catalog's stock once — checkout's
own worker restocks from `order.refunded`, and a replayed restock changes nothing."""

from __future__ import annotations

import uuid

import pytest
import requests

from clipcart_shared.tokens import service_token_mint
from clipcart_tools.admin_session import AdminSession
from clipcart_tools.demo_journey import merchant_login
from tests.e2e.conftest import RunningStack
from tests.e2e.test_journey import _checkout

pytestmark = pytest.mark.e2e

BUYER = "e2e-returner"


def _mark_delivered(stack: RunningStack, order_id: str) -> None:
    with stack.connect("checkout") as connection:
        connection.execute(
            "UPDATE orders_orderline SET shipped_quantity = quantity, "
            "delivered_quantity = quantity, fulfilment_status = 'delivered', "
            "delivered_at = now(), returns_close_at = now() + interval '30 days' "
            "WHERE order_id = %s",
            [order_id],
        )
        connection.execute("UPDATE orders_order SET status = 'delivered' WHERE id = %s", [order_id])


def _on_hand(stack: RunningStack, variant_id: str) -> int:
    [(on_hand,)] = stack.query(
        "catalog", "SELECT quantity_on_hand FROM products_variant WHERE id = %s", variant_id
    )
    return int(on_hand)


def _restocks(stack: RunningStack, key: str) -> list[tuple[int, int]]:
    return stack.query(
        "catalog",
        "SELECT delta, on_hand_after FROM inventory_stockmovement "
        "WHERE kind = 'restocked' AND reference = %s",
        key,
    )


def test_a_return_is_refunded_and_restocked_once(stack: RunningStack):
    journey = stack.journey()
    checkout = _checkout(journey, BUYER)
    assert journey.pay(checkout) == "succeeded"
    order_id = checkout["order"]["id"]
    paid = journey.wait_for_status(BUYER, order_id, "paid")
    [line] = paid["lines"]
    _mark_delivered(stack, order_id)
    assert journey.order(BUYER, order_id)["status"] == "delivered"

    requested = journey._call(
        "POST",
        f"{stack.endpoints.checkout}/api/v1/orders/{order_id}/returns/",
        user=BUYER,
        json={"lines": [{"line_id": line["id"], "quantity": 1}], "reason": "damaged"},
        expect=201,
    )
    assert requested["status"] == "requested"

    slug, password = merchant_login(line["merchant"]["id"])
    bases = stack.admin_bases()
    admin = AdminSession(bases["checkout"], slug, password, bases["catalog"]).login()
    decide = f"orders/orderreturn/{requested['id']}/decide/"
    admin.post_form(decide, {"action": "approve"})
    on_hand_before = _on_hand(stack, line["variant_id"])
    admin.post_form(decide, {"action": "receive", "restock": "on"})

    def returns() -> list[dict]:
        return journey._call(
            "GET", f"{stack.endpoints.checkout}/api/v1/orders/{order_id}/returns/", user=BUYER
        )["results"]

    journey.wait("the return to be refunded", lambda: returns()[0]["status"] == "refunded")
    stripe_refunds = journey._stripe().v1.refunds.list(
        {"payment_intent": checkout["payment"]["client_secret"].split("_secret_")[0]}
    )
    assert [refund.amount for refund in stripe_refunds.data] == [line["line_total"]["amount"]]
    order = journey.order(BUYER, order_id)
    assert order["refunded"]["amount"] == line["line_total"]["amount"]
    assert [r["status"] for r in order["returns"]] == ["refunded"]

    key = f"return-{requested['id']}"
    journey.wait(
        "the returned unit back in catalog's stock",
        lambda: _on_hand(stack, line["variant_id"]) == on_hand_before + 1,
    )
    assert [delta for delta, _ in _restocks(stack, key)] == [1]

    # The same restock again (a retry): the same answer, the stock unchanged.
    token = service_token_mint(
        issuer="checkout", key=stack.environment["SERVICE_AUTH_KEYS"].split(",")[0]
    )
    replay = requests.post(
        f"{stack.endpoints.catalog}/internal/v1/restocks/",
        json={
            "key": key,
            "reason": "returned",
            "lines": [{"variant_id": line["variant_id"], "quantity": 1}],
        },
        headers={"Authorization": f"Service {token}", "Idempotency-Key": str(uuid.uuid4())},
        timeout=30,
    )
    assert replay.status_code == 200, replay.text
    assert [(r["quantity"], r["on_hand_after"]) for r in replay.json()["lines"]] == _restocks(
        stack, key
    )
    assert _on_hand(stack, line["variant_id"]) == on_hand_before + 1
    assert len(_restocks(stack, key)) == 1
