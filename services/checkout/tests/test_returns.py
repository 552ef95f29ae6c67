"""A return's path, by the buyer's API and the merchant's services: requested → approved |
rejected → received → refunded (at the Stripe emulator) → restocked in the real catalog
once; each merchant step only from its state and for its merchant; the return events
served to video as published. (The buyer's request and its refusals: test_return_requests.)"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from clipcart_shared.errors import ApplicationError
from clipcart_shared.outbox.models import OutboxEvent
from orders.models import MerchantPolicy, OrderReturn, Refund
from orders.selectors import returns_of_merchant
from orders.services import (
    order_return_approve,
    order_return_receive,
    order_return_reject,
    refund_restock,
)
from tests.after_payment import refunded_events_consume, stripe_refunds
from tests.returns_common import (  # noqa: F401 (the `order` fixture)
    ask_return,
    delivered_order,
    line_of,
    units_of,
)

pytestmark = pytest.mark.django_db

INSTRUCTIONS = "Post it to Alpine Returns, 1 Dock Road, Hamburg, with the order number."


# --- the whole path -----------------------------------------------------------------------


def test_a_return_goes_requested_approved_received_refunded_and_restocks_once(
    client_for,
    order,
    variants,
    catalog,
    stripe_emulator,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    MerchantPolicy.objects.create(
        merchant_id=order.lines.first().merchant_id, return_instructions=INSTRUCTIONS
    )
    line = line_of(order, variants[0])
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask_return(client_for("u1"), order, units_of(line, 2), note="The lid is cracked")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["reason"], body["note"]) == (
        "requested",
        "damaged",
        "The lid is cracked",
    )
    assert body["lines"] == [{"line_id": str(line.id), "quantity": 2}]
    assert (body["instructions"], body["rejection_reason"], body["closed_at"]) == ("", "", None)
    requested = OutboxEvent.objects.get(type="order.return_requested")
    assert requested.data["return_id"] == body["id"]
    assert requested.data["lines"] == [{"line_id": str(line.id), "quantity": 2}]
    assert "received your return request" in mailoutbox[-1].subject

    with django_capture_on_commit_callbacks(execute=True):
        approved = order_return_approve(
            return_id=body["id"], merchant_id=line.merchant_id, by="admin:alpine"
        )
    assert (approved.status, approved.instructions) == ("approved", INSTRUCTIONS)
    assert INSTRUCTIONS in mailoutbox[-1].body

    before = catalog.stock(variants[0]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        received = order_return_receive(
            return_id=body["id"],
            merchant_id=line.merchant_id,
            by="admin:alpine",
            restock=True,
            refund_shipping=True,
        )
    # Not the whole merchant part (variants[1] stays): no shipping.
    assert received.status == "refunded"
    assert stripe_refunds(stripe_emulator, order) == [line.line_total_amount]
    assert "is refunded" in mailoutbox[-1].subject
    line.refresh_from_db()
    assert (line.returned_quantity, line.fulfilment_status) == (2, "returned")
    closed = OutboxEvent.objects.get(type="order.return_closed")
    assert (closed.data["status"], closed.data["return_id"]) == ("refunded", body["id"])
    refund = Refund.objects.get()
    assert (refund.units, refund.restock) == ({str(line.id): 2}, True)

    assert refunded_events_consume() == 1
    assert catalog.stock(variants[0]["id"]) == (before[0] + 2, before[1])
    # Redelivered, or asked again by hand: catalog applies the key once.
    assert refunded_events_consume() == 0
    refund_restock(OutboxEvent.objects.get(type="order.refunded").envelope())
    assert catalog.stock(variants[0]["id"]) == (before[0] + 2, before[1])

    detail = client_for("u1").get(f"/api/v1/orders/{order.id}/").json()
    assert [(r["id"], r["status"]) for r in detail["returns"]] == [(body["id"], "refunded")]


def test_the_whole_merchant_part_back_refunds_shipping_when_ticked(
    client_for, order, variants, stripe_emulator
):
    lines = [line_of(order, variants[0]), line_of(order, variants[1])]
    asked = [{"line_id": str(line.id), "quantity": line.quantity} for line in lines]
    body = ask_return(client_for("u1"), order, asked).json()
    order_return_approve(return_id=body["id"], merchant_id=None, by="staff")
    order_return_receive(
        return_id=body["id"], merchant_id=None, by="staff", restock=False, refund_shipping=True
    )
    assert stripe_refunds(stripe_emulator, order) == [order.total_amount]
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", order.total_amount)


def test_without_the_shipping_tick_shipping_is_kept_and_nothing_is_restocked(
    client_for, order, variants, stripe_emulator, catalog
):
    lines = [line_of(order, variants[0]), line_of(order, variants[1])]
    asked = [{"line_id": str(line.id), "quantity": line.quantity} for line in lines]
    body = ask_return(client_for("u1"), order, asked).json()
    order_return_approve(return_id=body["id"], merchant_id=None, by="staff")
    before = catalog.stock(variants[0]["id"])
    order_return_receive(
        return_id=body["id"], merchant_id=None, by="staff", restock=False, refund_shipping=False
    )
    assert stripe_refunds(stripe_emulator, order) == [order.subtotal_amount]
    refunded_events_consume()
    assert catalog.stock(variants[0]["id"]) == before


def test_a_rejected_return_frees_its_units_and_says_why(
    client_for, order, variants, mailoutbox, django_capture_on_commit_callbacks
):
    line = line_of(order, variants[0])
    first = ask_return(client_for("u1"), order, units_of(line, 2)).json()
    assert ask_return(client_for("u1"), order, units_of(line, 1)).json()["code"] == (
        "return_quantity_exceeds"
    )
    with pytest.raises(ApplicationError) as blank:
        order_return_reject(return_id=first["id"], merchant_id=None, by="staff", reason="  ")
    assert blank.value.status == 400
    with django_capture_on_commit_callbacks(execute=True):
        rejected = order_return_reject(
            return_id=first["id"],
            merchant_id=line.merchant_id,
            by="admin:alpine",
            reason="Worn outdoors",
        )
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "Worn outdoors")
    assert rejected.closed_at is not None
    assert "Worn outdoors" in mailoutbox[-1].body
    closed = OutboxEvent.objects.get(type="order.return_closed")
    assert closed.data["status"] == "rejected"
    assert ask_return(client_for("u1"), order, units_of(line, 2)).status_code == 201


# --- what the merchant may do when ------------------------------------------------------


def test_each_step_only_from_its_state_and_only_for_its_merchant(client_for, order, variants):
    line = line_of(order, variants[0])
    body = ask_return(client_for("u1"), order, units_of(line, 1)).json()
    other = uuid.uuid4()

    def refused(call, **kwargs) -> tuple[int, str]:
        with pytest.raises(ApplicationError) as error:
            call(return_id=body["id"], by="x", **kwargs)
        return error.value.status, error.value.code

    receive = {"restock": True, "refund_shipping": False}
    assert refused(order_return_approve, merchant_id=other) == (404, "not_found")
    assert refused(order_return_reject, merchant_id=other, reason="no") == (404, "not_found")
    assert refused(order_return_receive, merchant_id=other, **receive) == (404, "not_found")
    assert refused(order_return_receive, merchant_id=line.merchant_id, **receive) == (
        409,
        "return_not_in_state",
    )
    order_return_approve(return_id=body["id"], merchant_id=line.merchant_id, by="a")
    assert refused(order_return_approve, merchant_id=line.merchant_id) == (
        409,
        "return_not_in_state",
    )
    assert refused(order_return_reject, merchant_id=None, reason="late") == (
        409,
        "return_not_in_state",
    )
    assert OrderReturn.objects.get().status == "approved"
    assert returns_of_merchant(merchant_id=other).count() == 0
    assert [r.id for r in returns_of_merchant(merchant_id=line.merchant_id, status="approved")] == [
        uuid.UUID(body["id"])
    ]


# --- the order-events API (video's reconciliation) ---------------------------------------


def test_the_order_events_api_serves_return_events_as_published(client_for, order, variants):
    from django.utils import timezone
    from rest_framework.test import APIClient

    from clipcart_shared.auth import service_token_mint

    video = APIClient()
    video.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='video')}")
    line = line_of(order, variants[0])
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    rejected = ask_return(client_for("u1"), order, units_of(line, 1)).json()
    order_return_reject(return_id=rejected["id"], merchant_id=None, by="staff", reason="Used")
    still_open = ask_return(client_for("u1"), order, units_of(line, 1)).json()

    def served(type: str) -> list[dict[str, Any]]:
        response = video.get("/internal/v1/order-events/", {"type": type, "since": since})
        assert response.status_code == 200, response.json()
        return response.json()["results"]

    requested = served("order.return_requested")
    assert [event["data"]["return_id"] for event in requested] == [rejected["id"], still_open["id"]]
    [closed] = served("order.return_closed")
    for event in [*requested, closed]:
        published = OutboxEvent.objects.get(
            type=event["type"], data__return_id=event["data"]["return_id"]
        )
        assert (event["subject"], event["data"]) == (published.subject, published.data)
    assert closed["data"]["status"] == "rejected"
    # Outside the window: nothing.
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    response = video.get(
        "/internal/v1/order-events/",
        {
            "type": "order.return_closed",
            "since": later,
            "until": (timezone.now() + timedelta(hours=1)).isoformat(),
        },
    )
    assert response.json()["results"] == []
