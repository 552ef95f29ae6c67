"""The buyer's return request by the API: every refusal answered with its code and
nothing written, the same key again is the same return, the order and its returns read in
constant queries, and two requests for the last unit at once. (A return's path after
it is asked: test_returns.)"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from clipcart_shared.idempotency.models import IdempotencyKey
from clipcart_shared.outbox.models import OutboxEvent
from orders.models import OrderReturn, ReturnLine
from orders.services import order_return_request
from tests.after_payment import deliver, paid_order
from tests.returns_common import (  # noqa: F401 (the `order` fixture)
    ask_return,
    assert_nothing_written,
    delivered_order,
    line_of,
    units_of,
)

pytestmark = pytest.mark.django_db


# --- the buyer's refusals, nothing written ---------------------------------------------------


def test_more_than_delivered_is_422_naming_what_is_returnable(client_for, order, variants):
    line = line_of(order, variants[0])
    response = ask_return(client_for("u1"), order, units_of(line, 3))
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "return_quantity_exceeds"
    assert response.json()["lines"] == [{"line_id": str(line.id), "returnable": 2}]
    # The same line named twice adds up.
    twice = units_of(line, 2) + units_of(line, 1)
    assert ask_return(client_for("u1"), order, twice).json()["code"] == "return_quantity_exceeds"
    assert_nothing_written()


def test_undelivered_units_cannot_be_returned(client_for, api_client, stripe_emulator, variants):
    undelivered = paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)])
    response = ask_return(client_for("u1"), undelivered, units_of(undelivered.lines.get(), 1))
    assert (response.status_code, response.json()["code"]) == (422, "return_not_delivered")
    assert_nothing_written()


def test_after_the_window_it_is_422(client_for, api_client, stripe_emulator, variants):
    late = deliver(
        paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)]),
        window=timedelta(days=30),
        delivered_ago=timedelta(days=31),
    )
    response = ask_return(client_for("u1"), late, units_of(late.lines.get(), 1))
    assert (response.status_code, response.json()["code"]) == (422, "return_window_closed")
    assert_nothing_written()


def test_another_orders_line_and_another_users_order_are_404(
    client_for, api_client, stripe_emulator, order, variants
):
    theirs = deliver(
        paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)], user="u2")
    )
    foreign_line = units_of(theirs.lines.get(), 1)
    assert ask_return(client_for("u1"), order, foreign_line).status_code == 404
    assert ask_return(client_for("u1"), theirs, foreign_line).status_code == 404
    assert client_for("u1").get(f"/api/v1/orders/{theirs.id}/returns/").status_code == 404
    assert_nothing_written()


def test_lines_of_two_merchants_in_one_return_are_422(client_for, order, variants):
    other = line_of(order, variants[1])
    other.merchant_id = uuid.uuid4()  # as if another shop sold it
    other.save(update_fields=["merchant_id"])
    asked = units_of(line_of(order, variants[0]), 1) + units_of(other, 1)
    response = ask_return(client_for("u1"), order, asked)
    assert (response.status_code, response.json()["code"]) == (422, "return_several_merchants")
    assert_nothing_written()


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
    line_id = str(line_of(order, variants[0]).id)
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
    assert_nothing_written()


def test_the_idempotency_key_is_required(client_for, order, variants):
    response = client_for("u1").post(
        f"/api/v1/orders/{order.id}/returns/",
        {"lines": units_of(line_of(order, variants[0]), 1), "reason": "damaged"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")
    assert_nothing_written()


# --- the same request again ----------------------------------------------------------------


def test_the_same_key_again_is_the_same_return(client_for, order, variants):
    line = line_of(order, variants[0])
    first = ask_return(client_for("u1"), order, units_of(line, 1), key="ret-1")
    again = ask_return(client_for("u1"), order, units_of(line, 1), key="ret-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    # Once the stored answer is gone (expired), the return itself answers: 200.
    IdempotencyKey.objects.all().delete()
    later = ask_return(client_for("u1"), order, units_of(line, 1), key="ret-1")
    assert (later.status_code, later.json()["id"]) == (200, first.json()["id"])
    assert OrderReturn.objects.count() == 1
    assert OutboxEvent.objects.filter(type="order.return_requested").count() == 1
    # The key for something else is refused.
    IdempotencyKey.objects.all().delete()
    other = ask_return(client_for("u1"), order, units_of(line, 2), key="ret-1")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


def test_the_service_answers_the_earlier_return_for_the_same_key(order, variants):
    line = line_of(order, variants[0])
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
    line = line_of(order, variants[0])
    ask_return(client, order, units_of(line, 1))

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    one = (queries(f"/api/v1/orders/{order.id}/"), queries(f"/api/v1/orders/{order.id}/returns/"))
    ask_return(client, order, units_of(line, 1))
    ask_return(client, order, units_of(line_of(order, variants[1]), 1))
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
            response = ask_return(client_for("u1"), order, units_of(line, 1), key=f"k-{index}")
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
