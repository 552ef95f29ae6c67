"""A buyer cancelling paid units that have not shipped: refunded at once at the Stripe
emulator, stock back in the real catalog once, and never a refund for shipped units —
even when the cancel races a shipment."""

from __future__ import annotations

import threading
import uuid
from typing import Any
from unittest import mock

import pytest
from django.db import connections

from clipcart_shared.outbox.models import OutboxEvent
from orders.models import Order, Refund
from payments import stripe_api
from tests.after_payment import paid_order, refunded_events_consume, ship, stripe_refunds

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(client_for, api_client, stripe_emulator, variants) -> Order:
    """Paid, nothing shipped: 3 of variants[0], 1 of variants[1]."""
    return paid_order(client_for, api_client, stripe_emulator, [(variants[0], 3), (variants[1], 1)])


def _cancel(client, order: Order, lines: list[dict[str, Any]] | None = None):
    body = {} if lines is None else {"lines": lines}
    return client.post(f"/api/v1/orders/{order.id}/cancel/", body, format="json")


def _line(order: Order, variant: dict[str, Any]):
    return order.lines.get(variant_id=variant["id"])


def test_cancelling_everything_refunds_the_whole_order_and_restocks_once(
    client_for,
    order,
    variants,
    catalog,
    stripe_emulator,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    before = [catalog.stock(v["id"]) for v in variants[:2]]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _cancel(client_for("u1"), order)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "refunded"
    assert stripe_refunds(stripe_emulator, order) == [order.total_amount]
    assert sorted(order.lines.values_list("cancelled_quantity", flat=True)) == [1, 3]
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 1
    assert "cancellation is confirmed" in mailoutbox[-1].subject
    refund = Refund.objects.get()
    assert (refund.status, refund.restock, refund.created_by) == ("succeeded", True, "buyer:u1")

    assert refunded_events_consume() == 1
    assert [catalog.stock(v["id"]) for v in variants[:2]] == [
        (before[0][0] + 3, before[0][1]),
        (before[1][0] + 1, before[1][1]),
    ]
    assert refunded_events_consume() == 0  # redelivered: nothing more
    assert catalog.stock(variants[0]["id"])[0] == before[0][0] + 3


def test_cancelling_some_units_refunds_their_share_without_shipping(
    client_for, order, variants, stripe_emulator
):
    line = _line(order, variants[0])
    response = _cancel(client_for("u1"), order, [{"line_id": str(line.id), "quantity": 2}])
    assert response.status_code == 200
    assert response.json()["status"] == "partially_refunded"
    assert stripe_refunds(stripe_emulator, order) == [2 * line.unit_price_amount]
    line.refresh_from_db()
    assert line.cancelled_quantity == 2
    assert Refund.objects.get().units == {str(line.id): 2}


def test_shipped_units_cannot_be_cancelled_and_nothing_is_written(
    client_for, order, variants, stripe_emulator
):
    line = _line(order, variants[0])
    ship(order.id, {line.id: 2})
    response = _cancel(client_for("u1"), order, [{"line_id": str(line.id), "quantity": 2}])
    assert (response.status_code, response.json()["code"]) == (422, "cancel_quantity_exceeds")
    assert response.json()["lines"] == [{"line_id": str(line.id), "cancellable": 1}]
    line.refresh_from_db()
    assert line.cancelled_quantity == 0
    assert not Refund.objects.exists()
    assert stripe_refunds(stripe_emulator, order) == []


def test_cancelling_what_is_left_after_a_shipment_refunds_only_the_unshipped_units(
    client_for, order, variants, stripe_emulator
):
    first, second = _line(order, variants[0]), _line(order, variants[1])
    ship(order.id, {first.id: 3})
    response = _cancel(client_for("u1"), order)
    assert response.status_code == 200
    assert stripe_refunds(stripe_emulator, order) == [second.line_total_amount]
    assert response.json()["status"] == "shipped"  # all that is left has shipped
    # Nothing left to cancel now.
    again = _cancel(client_for("u1"), order)
    assert (again.status_code, again.json()["code"]) == (409, "order_not_cancellable")


def test_a_line_of_another_order_is_404_and_bad_bodies_are_400(
    client_for, api_client, stripe_emulator, order, variants
):
    theirs = paid_order(client_for, api_client, stripe_emulator, [(variants[0], 1)], user="u2")
    foreign = [{"line_id": str(theirs.lines.get().id), "quantity": 1}]
    assert _cancel(client_for("u1"), order, foreign).status_code == 404
    assert _cancel(client_for("u1"), theirs, foreign).status_code == 404
    line_id = str(_line(order, variants[0]).id)
    for lines, field in [
        ([{"line_id": line_id, "quantity": 0}], "lines[0].quantity"),
        ([{"line_id": line_id, "quantity": 10**15}], "lines[0].quantity"),
        ([{"line_id": line_id, "quantity": "1"}], "lines[0].quantity"),
        ([{"line_id": 12, "quantity": 1}], "lines[0].line_id"),
        ([], "lines"),
        ("everything", "lines"),
    ]:
        response = _cancel(client_for("u1"), order, lines)  # type: ignore[arg-type]
        assert response.status_code == 400, (lines, response.json())
        assert field in [error["field"] for error in response.json()["errors"]]
    assert not Refund.objects.exists()
    assert set(order.lines.values_list("cancelled_quantity", flat=True)) == {0}


def test_stripe_refusing_the_refund_undoes_the_cancel(client_for, order, variants):
    line = _line(order, variants[0])
    with mock.patch.object(
        stripe_api, "refund_create", side_effect=stripe_api.PaymentProviderRejected("no")
    ):
        response = _cancel(client_for("u1"), order, [{"line_id": str(line.id), "quantity": 1}])
    assert response.status_code == 502
    line.refresh_from_db()
    assert line.cancelled_quantity == 0
    assert Refund.objects.get().status == "failed"
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("paid", 0)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", range(3))
def test_a_cancel_racing_a_shipment_one_wins_and_shipped_units_are_never_refunded(
    client_for, api_client, stripe_emulator, variants, run
):
    order = paid_order(client_for, api_client, stripe_emulator, [(variants[0], 2)])
    line = order.lines.get()
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def cancel() -> None:
        try:
            barrier.wait()
            response = _cancel(client_for("u1"), order)
            outcomes["cancel"] = (response.status_code, response.json().get("code"))
        except Exception as error:
            outcomes["cancel"] = repr(error)
        finally:
            connections.close_all()

    def shipment() -> None:
        try:
            barrier.wait()
            outcomes["ship"] = ship(order.id)
        except Exception as error:
            outcomes["ship"] = repr(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cancel), threading.Thread(target=shipment)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    line.refresh_from_db()
    refunded = stripe_refunds(stripe_emulator, order)
    if outcomes["cancel"] == (200, None):  # the cancel took the lock first
        assert outcomes["ship"] == {}
        assert (line.cancelled_quantity, line.shipped_quantity) == (2, 0)
        assert refunded == [order.total_amount]
    else:  # the shipment did
        assert outcomes == {
            "cancel": (409, "order_not_cancellable"),
            "ship": {uuid.UUID(str(line.id)): 2},
        }
        assert (line.cancelled_quantity, line.shipped_quantity) == (0, 2)
        assert refunded == []
        assert not Refund.objects.exists()
