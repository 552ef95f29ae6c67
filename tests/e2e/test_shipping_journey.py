"""After paid, end to end over real HTTP: the merchant's system ships part of an order
with its API key, then the rest; the carrier's signed tracking webhook delivers it; the
buyer sees the shipments and the order delivered, and was emailed (console backend)."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.conftest import RunningStack
from tests.infra.compose import ROOT

pytestmark = pytest.mark.e2e

TRACKING_SECRET = "tracking_clipcart_local"  # the base default, as the stack runs


def _merchant_key(stack: RunningStack, merchant_id: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "merchant_key_create", merchant_id, "--name", "e2e"],
        cwd=ROOT / "services" / "checkout",
        env=stack.environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


def _tracking(stack: RunningStack, body: dict) -> requests.Response:
    payload = json.dumps(body).encode()
    timestamp = int(time.time())
    digest = hmac.new(
        TRACKING_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return requests.post(
        f"{stack.endpoints.checkout}/api/v1/webhooks/tracking/",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "X-Clipcart-Signature": f"t={timestamp},v1={digest}",
        },
        timeout=30,
    )


def test_an_order_is_shipped_in_two_parcels_by_the_merchant_api_and_delivered_by_the_carrier(
    stack: RunningStack,
):
    journey = stack.journey()
    user = "e2e-shipping"
    _, _, product_id = journey.shoppable_pair(user)
    variant = next(
        v for v in journey.product(product_id)["variants"] if v["stock_status"] != "out_of_stock"
    )
    journey.add_to_cart(user, variant["id"], None)
    journey.add_to_cart(user, variant["id"], None)  # two units
    checkout = journey.checkout(user)
    order_id = checkout["order"]["id"]
    assert journey.pay(checkout) == "succeeded"
    journey.wait_for_status(user, order_id, "paid")
    [line] = journey.order(user, order_id)["lines"]
    assert line["quantity"] == 2

    merchant = requests.Session()
    merchant.headers["Authorization"] = (
        f"MerchantKey {_merchant_key(stack, line['merchant']['id'])}"
    )
    api = f"{stack.endpoints.checkout}/api/v1/merchant"
    to_ship = merchant.get(f"{api}/orders/?status=to_ship", timeout=30).json()["results"]
    assert order_id in [order["id"] for order in to_ship]

    def ship(number: str) -> dict:
        response = merchant.post(
            f"{api}/orders/{order_id}/shipments/",
            json={
                "carrier": "DHL",
                "tracking_number": number,
                "tracking_url": f"https://track.example/{number}",
                "lines": [{"line_id": line["id"], "quantity": 1}],
            },
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()

    first = ship("E2E-1")
    assert journey.order(user, order_id)["status"] == "partially_shipped"
    second = ship("E2E-2")
    assert journey.order(user, order_id)["status"] == "shipped"
    again = merchant.post(
        f"{api}/orders/{order_id}/shipments/",
        json={
            "carrier": "DHL",
            "tracking_number": "E2E-2",
            "lines": [{"line_id": line["id"], "quantity": 1}],
        },
        timeout=30,
    )
    assert again.status_code == 422

    assert merchant.post(f"{api}/shipments/{first['id']}/delivered/", timeout=30).status_code == 200
    answer = _tracking(
        stack,
        {
            "tracking_number": "E2E-2",
            "carrier": "DHL",
            "status": "delivered",
            "occurred_at": "2026-01-01T00:00:00Z",
        },
    )
    assert answer.json() == {"received": True, "matched": True}

    order = journey.order(user, order_id)
    assert order["status"] == "delivered"
    assert order["lines"][0]["fulfilment_status"] == "delivered"
    assert [(s["tracking_number"], s["status"]) for s in order["shipments"]] == [
        ("E2E-1", "delivered"),
        ("E2E-2", "delivered"),
    ]
    assert order["shipments"][1]["id"] == second["id"]
    published = stack.query(
        "checkout",
        "SELECT type, count(*) FROM outbox_outboxevent WHERE subject = %s "
        "AND type IN ('order.shipped', 'order.delivered') GROUP BY type ORDER BY type",
        order_id,
    )
    assert published == [("order.delivered", 2), ("order.shipped", 2)]
