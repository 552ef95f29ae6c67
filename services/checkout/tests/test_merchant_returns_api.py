"""The merchant API's returns: a merchant's systems list the returns of their lines and
approve, reject or receive them (refund at the Stripe emulator, restock in the real
catalog) with the rules of the admin; another merchant's return is 404, a bad body 400."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from orders.models import Order, OrderReturn, Refund
from tests.after_payment import deliver, paid_order, refunded_events_consume, stripe_refunds
from tests.shipping_rows import merchant_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(client_for, api_client, stripe_emulator, variants) -> Order:
    """Paid and delivered: 2 of variants[0]."""
    return deliver(paid_order(client_for, api_client, stripe_emulator, [(variants[0], 2)]))


def _merchant(merchant_id: uuid.UUID) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"MerchantKey {merchant_key(merchant_id)}")
    return client


def _request_return(client_for, order: Order, quantity: int = 1) -> dict[str, Any]:
    line = order.lines.get()
    response = client_for("u1").post(
        f"/api/v1/orders/{order.id}/returns/",
        {"lines": [{"line_id": str(line.id), "quantity": quantity}], "reason": "damaged"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_merchant_lists_approves_and_receives_its_return_with_restock(
    client_for, order, variants, catalog, stripe_emulator
):
    asked = _request_return(client_for, order, quantity=2)
    shop = _merchant(order.lines.get().merchant_id)

    listed = shop.get("/api/v1/merchant/returns/?status=requested")
    assert listed.status_code == 200, listed.json()
    assert [r["id"] for r in listed.json()["results"]] == [asked["id"]]

    approved = shop.post(f"/api/v1/merchant/returns/{asked['id']}/approve/")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")

    before = catalog.stock(variants[0]["id"])
    received = shop.post(
        f"/api/v1/merchant/returns/{asked['id']}/received/", {"restock": True}, format="json"
    )
    assert (received.status_code, received.json()["status"]) == (200, "refunded")
    line = order.lines.get()
    assert stripe_refunds(stripe_emulator, order) == [line.line_total_amount]
    assert Refund.objects.get().restock is True
    assert refunded_events_consume() == 1
    assert catalog.stock(variants[0]["id"])[0] == before[0] + 2

    # Received again: 409, nothing refunded twice.
    again = shop.post(f"/api/v1/merchant/returns/{asked['id']}/received/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "return_not_in_state")
    assert Refund.objects.count() == 1


def test_a_rejection_needs_a_reason_and_is_told_to_the_buyer(client_for, order):
    asked = _request_return(client_for, order)
    shop = _merchant(order.lines.get().merchant_id)

    blank = shop.post(f"/api/v1/merchant/returns/{asked['id']}/reject/", {}, format="json")
    assert (blank.status_code, blank.json()["code"]) == (400, "validation_error")
    rejected = shop.post(
        f"/api/v1/merchant/returns/{asked['id']}/reject/",
        {"reason": "Worn, not as sent"},
        format="json",
    )
    assert rejected.status_code == 200, rejected.json()
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == (
        "rejected",
        "Worn, not as sent",
    )
    mine = client_for("u1").get(f"/api/v1/orders/{order.id}/returns/").json()["results"]
    assert [(r["status"], r["rejection_reason"]) for r in mine] == [
        ("rejected", "Worn, not as sent")
    ]


def test_another_merchants_return_is_404_and_absent_from_its_list(client_for, order):
    asked = _request_return(client_for, order)
    other = _merchant(uuid.uuid4())

    assert other.get("/api/v1/merchant/returns/").json()["results"] == []
    for action, body in (("approve", None), ("reject", {"reason": "no"}), ("received", {})):
        answer = other.post(
            f"/api/v1/merchant/returns/{asked['id']}/{action}/", body, format="json"
        )
        assert answer.status_code == 404, (action, answer.json())
    assert OrderReturn.objects.get().status == "requested"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"restock": "yes"}, "restock"),
        ({"restock": 1}, "restock"),
        ({"refund_shipping": None}, "refund_shipping"),
    ],
)
def test_a_received_body_of_the_wrong_types_is_400_and_changes_nothing(
    client_for, order, body, field
):
    asked = _request_return(client_for, order)
    shop = _merchant(order.lines.get().merchant_id)
    shop.post(f"/api/v1/merchant/returns/{asked['id']}/approve/")

    answer = shop.post(f"/api/v1/merchant/returns/{asked['id']}/received/", body, format="json")
    assert answer.status_code == 400, answer.json()
    assert field in str(answer.json())
    assert OrderReturn.objects.get().status == "approved"
    assert not Refund.objects.exists()


def test_a_user_token_is_not_a_merchant_key(client_for, order):
    asked = _request_return(client_for, order)
    answer = client_for("u1").post(f"/api/v1/merchant/returns/{asked['id']}/approve/")
    assert answer.status_code == 401
