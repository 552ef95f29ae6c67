"""Returns, by the buyer's API and the merchant's services: requested → approved |
rejected → received → refunded (at the Stripe emulator) → restocked in the real catalog
once; every refusal answered with its code and nothing written."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from clipcart_shared.errors import ApplicationError
from clipcart_shared.idempotency.models import IdempotencyKey
from clipcart_shared.outbox.models import OutboxEvent
from orders.models import MerchantPolicy, Order, OrderReturn, Refund, ReturnLine
from orders.selectors import returns_of_merchant
from orders.services import (
    order_return_approve,
    order_return_receive,
    order_return_reject,
    order_return_request,
    refund_restock,
)
from tests.after_payment import (
    deliver,
    paid_order,
    refunded_events_consume,
    stripe_refunds,
)

pytestmark = pytest.mark.django_db

INSTRUCTIONS = "Post it to Alpine Returns, 1 Dock Road, Hamburg, with the order number."


@pytest.fixture
def order(client_for, api_client, stripe_emulator, variants) -> Order:
    """Paid and delivered: 2 of variants[0], 1 of variants[1]."""
    return deliver(
        paid_order(client_for, api_client, stripe_emulator, [(variants[0], 2), (variants[1], 1)])
    )


def _line(order: Order, variant: dict[str, Any]):
    return order.lines.get(variant_id=variant["id"])


def _ask(client, order: Order, lines, *, key: str | None = None, **body: Any):
    return client.post(
        f"/api/v1/orders/{order.id}/returns/",
        {"lines": lines, "reason": "damaged", **body},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )


def _units(line, quantity: int) -> list[dict[str, Any]]:
    return [{"line_id": str(line.id), "quantity": quantity}]


def _assert_nothing_written() -> None:
    assert not OrderReturn.objects.exists()
    assert not ReturnLine.objects.exists()
    assert not OutboxEvent.objects.filter(type__startswith="order.return").exists()


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
    line = _line(order, variants[0])
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(client_for("u1"), order, _units(line, 2), note="The lid is cracked")
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
    lines = [_line(order, variants[0]), _line(order, variants[1])]
    asked = [{"line_id": str(line.id), "quantity": line.quantity} for line in lines]
    body = _ask(client_for("u1"), order, asked).json()
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
    lines = [_line(order, variants[0]), _line(order, variants[1])]
    asked = [{"line_id": str(line.id), "quantity": line.quantity} for line in lines]
    body = _ask(client_for("u1"), order, asked).json()
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
    line = _line(order, variants[0])
    first = _ask(client_for("u1"), order, _units(line, 2)).json()
    assert _ask(client_for("u1"), order, _units(line, 1)).json()["code"] == (
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
    assert _ask(client_for("u1"), order, _units(line, 2)).status_code == 201


# --- what the merchant may do when ------------------------------------------------------


def test_each_step_only_from_its_state_and_only_for_its_merchant(client_for, order, variants):
    line = _line(order, variants[0])
    body = _ask(client_for("u1"), order, _units(line, 1)).json()
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


# --- the buyer's refusals, nothing written ---------------------------------------------------


def test_more_than_delivered_is_422_naming_what_is_returnable(client_for, order, variants):
    line = _line(order, variants[0])
    response = _ask(client_for("u1"), order, _units(line, 3))
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "return_quantity_exceeds"
    assert response.json()["lines"] == [{"line_id": str(line.id), "returnable": 2}]
    # The same line named twice adds up.
    twice = _units(line, 2) + _units(line, 1)
    assert _ask(client_for("u1"), order, twice).json()["code"] == "return_quantity_exceeds"
    _assert_nothing_written()


def test_undelivered_units_cannot_be_returned(client_for, api_client, stripe_emulator, variants):
    undelivered = paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)])
    response = _ask(client_for("u1"), undelivered, _units(undelivered.lines.get(), 1))
    assert (response.status_code, response.json()["code"]) == (422, "return_not_delivered")
    _assert_nothing_written()


def test_after_the_window_it_is_422(client_for, api_client, stripe_emulator, variants):
    late = deliver(
        paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)]),
        window=timedelta(days=30),
        delivered_ago=timedelta(days=31),
    )
    response = _ask(client_for("u1"), late, _units(late.lines.get(), 1))
    assert (response.status_code, response.json()["code"]) == (422, "return_window_closed")
    _assert_nothing_written()


def test_another_orders_line_and_another_users_order_are_404(
    client_for, api_client, stripe_emulator, order, variants
):
    theirs = deliver(
        paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)], user="u2")
    )
    foreign_line = _units(theirs.lines.get(), 1)
    assert _ask(client_for("u1"), order, foreign_line).status_code == 404
    assert _ask(client_for("u1"), theirs, foreign_line).status_code == 404
    assert client_for("u1").get(f"/api/v1/orders/{theirs.id}/returns/").status_code == 404
    _assert_nothing_written()


def test_lines_of_two_merchants_in_one_return_are_422(client_for, order, variants):
    other = _line(order, variants[1])
    other.merchant_id = uuid.uuid4()  # as if another shop sold it
    other.save(update_fields=["merchant_id"])
    asked = _units(_line(order, variants[0]), 1) + _units(other, 1)
    response = _ask(client_for("u1"), order, asked)
    assert (response.status_code, response.json()["code"]) == (422, "return_several_merchants")
    _assert_nothing_written()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [], "reason": "damaged"}, "lines"),
        ({"reason": "damaged"}, "lines"),
        ({"lines": "all", "reason": "damaged"}, "lines"),
        ({"lines": [{"line_id": "L", "quantity": 0}], "reason": "damaged"}, "lines[0].quantity"),
        (
            {"lines": [{"line_id": "L", "quantity": 10**12}], "reason": "damaged"},
            "lines[0].quantity",
        ),
        ({"lines": [{"line_id": "L", "quantity": "1"}], "reason": "damaged"}, "lines[0].quantity"),
        ({"lines": [{"line_id": "L"}], "reason": "damaged"}, "lines[0].quantity"),
        ({"lines": [{"line_id": 7, "quantity": 1}], "reason": "damaged"}, "lines[0].line_id"),
        ({"lines": [{"quantity": 1}], "reason": "damaged"}, "lines[0].line_id"),
        ({"lines": [{"line_id": "L", "quantity": 1}]}, "reason"),
        ({"lines": [{"line_id": "L", "quantity": 1}], "reason": "bored"}, "reason"),
        ({"lines": [{"line_id": "L", "quantity": 1}], "reason": 3}, "reason"),
        ({"lines": [{"line_id": "L", "quantity": 1}], "reason": "other", "note": 5}, "note"),
        (
            {"lines": [{"line_id": "L", "quantity": 1}], "reason": "other", "note": "n" * 1001},
            "note",
        ),
    ],
)
def test_bad_bodies_are_400_naming_the_field(client_for, order, variants, body, field):
    line_id = str(_line(order, variants[0]).id)
    if isinstance(body.get("lines"), list):
        body["lines"] = [
            {k: (line_id if v == "L" else v) for k, v in line.items()} for line in body["lines"]
        ]
    response = client_for("u1").post(
        f"/api/v1/orders/{order.id}/returns/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 400, response.json()
    assert field in [error["field"] for error in response.json()["errors"]]
    _assert_nothing_written()


def test_the_idempotency_key_is_required(client_for, order, variants):
    response = client_for("u1").post(
        f"/api/v1/orders/{order.id}/returns/",
        {"lines": _units(_line(order, variants[0]), 1), "reason": "damaged"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")
    _assert_nothing_written()


# --- the same request again ----------------------------------------------------------------


def test_the_same_key_again_is_the_same_return(client_for, order, variants):
    line = _line(order, variants[0])
    first = _ask(client_for("u1"), order, _units(line, 1), key="ret-1")
    again = _ask(client_for("u1"), order, _units(line, 1), key="ret-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    # Once the stored answer is gone (expired), the return itself answers: 200.
    IdempotencyKey.objects.all().delete()
    later = _ask(client_for("u1"), order, _units(line, 1), key="ret-1")
    assert (later.status_code, later.json()["id"]) == (200, first.json()["id"])
    assert OrderReturn.objects.count() == 1
    assert OutboxEvent.objects.filter(type="order.return_requested").count() == 1
    # The key for something else is refused.
    IdempotencyKey.objects.all().delete()
    other = _ask(client_for("u1"), order, _units(line, 2), key="ret-1")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


def test_the_service_answers_the_earlier_return_for_the_same_key(order, variants):
    line = _line(order, variants[0])
    ask = {
        "order_id": order.id,
        "user_id": "u1",
        "reason": "damaged",
        "note": "",
        "idempotency_key": "k-1",
        "lines": [{"line_id": line.id, "quantity": 1}],
    }
    first, is_new = order_return_request(**ask)
    again, again_new = order_return_request(**ask)
    assert (is_new, again_new, again.id) == (True, False, first.id)


# --- reads -----------------------------------------------------------------------------------


def test_the_order_and_its_returns_list_show_each_return_in_constant_queries(
    client_for, order, variants
):
    client = client_for("u1")
    line = _line(order, variants[0])
    _ask(client, order, _units(line, 1))

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    one = (queries(f"/api/v1/orders/{order.id}/"), queries(f"/api/v1/orders/{order.id}/returns/"))
    _ask(client, order, _units(line, 1))
    _ask(client, order, _units(_line(order, variants[1]), 1))
    three = (queries(f"/api/v1/orders/{order.id}/"), queries(f"/api/v1/orders/{order.id}/returns/"))
    assert one == three
    listed = client.get(f"/api/v1/orders/{order.id}/returns/").json()
    assert len(listed["results"]) == 3 and listed["next"] is None
    assert len(client.get(f"/api/v1/orders/{order.id}/").json()["returns"]) == 3


# --- at the same moment ----------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_requests_for_the_last_unit_at_once_one_succeeds(
    client_for, api_client, stripe_emulator, variants
):
    order = deliver(paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)]))
    line = order.lines.get()
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def ask(index: int) -> None:
        try:
            barrier.wait()
            response = _ask(client_for("u1"), order, _units(line, 1), key=f"k-{index}")
            outcomes.append((response.status_code, response.json().get("code")))
        except Exception as error:  # named in the assertion below
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=str) == [(201, None), (422, "return_quantity_exceeds")]
    assert ReturnLine.objects.get().quantity == 1


# --- the order-events API (video's reconciliation) ---------------------------------------


def test_the_order_events_api_serves_return_events_as_published(client_for, order, variants):
    from django.utils import timezone
    from rest_framework.test import APIClient

    from clipcart_shared.auth import service_token_mint

    video = APIClient()
    video.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='video')}")
    line = _line(order, variants[0])
    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    rejected = _ask(client_for("u1"), order, _units(line, 1)).json()
    order_return_reject(return_id=rejected["id"], merchant_id=None, by="staff", reason="Used")
    still_open = _ask(client_for("u1"), order, _units(line, 1)).json()

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
