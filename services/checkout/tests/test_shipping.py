"""Shipping and delivery through the services: partial shipments, each merchant its own
lines, over-shipping refused, the status following the lines, events once, a constant
number of queries, two shipments of the same units at once, the timeout sweep, the
buyer's emails and what the buyer's order API shows."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.outbox.services import event_consume
from orders.models import MerchantPolicy, Order, OrderLine, Shipment
from orders.services import shipment_create, shipment_deliver, shipments_auto_deliver
from tests.shipping_rows import MERCHANT_A, MERCHANT_B, paid_order

pytestmark = pytest.mark.django_db


def _ship(order: Order, merchant=MERCHANT_A, lines=None, **overrides) -> Shipment:
    if lines is None:
        lines = [(line.id, line.quantity) for line in order.lines.filter(merchant_id=merchant)]
    arguments = {
        "order_id": order.id,
        "merchant_id": merchant,
        "carrier": "DHL",
        "tracking_number": "JD0001",
        "tracking_url": "https://track.example/JD0001",
        "lines": lines,
        "created_by": "test",
    } | overrides
    return shipment_create(**arguments)


def _events(type_: str) -> list[dict]:
    return [event.data for event in OutboxEvent.objects.filter(type=type_)]


def _refused(code: str, status: int, call) -> ApplicationError:
    with pytest.raises(ApplicationError) as raised:
        call()
    assert (raised.value.code, raised.value.status) == (code, status)
    return raised.value


def test_partial_shipments_move_the_status_from_partially_shipped_to_shipped_to_delivered():
    order = paid_order((MERCHANT_A, 3))
    line = order.lines.get()

    first = _ship(order, lines=[(line.id, 2)])
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.status, line.shipped_quantity, line.fulfilment_status) == (
        "partially_shipped",
        2,
        "shipped",
    )

    second = _ship(order, lines=[(line.id, 1)], tracking_number="JD0002")
    order.refresh_from_db()
    assert order.status == "shipped"

    shipment_deliver(shipment_id=first.id, by="merchant")
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.status, line.delivered_quantity, line.fulfilment_status) == (
        "shipped",
        2,
        "shipped",
    )

    at = timezone.now()
    shipment_deliver(shipment_id=second.id, by="carrier", at=at)
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.status, line.delivered_quantity, line.fulfilment_status) == (
        "delivered",
        3,
        "delivered",
    )
    assert line.delivered_at == at
    assert line.returns_close_at == at + timedelta(days=30)
    assert sorted(event["shipment_id"] for event in _events("order.shipped")) == sorted(
        [str(first.id), str(second.id)]
    )
    delivered = {event["shipment_id"]: event["lines"] for event in _events("order.delivered")}
    assert delivered == {
        str(first.id): [{"line_id": str(line.id), "quantity": 2}],
        str(second.id): [{"line_id": str(line.id), "quantity": 1}],
    }


def test_delivery_is_idempotent_and_uses_the_merchants_return_window_of_that_moment():
    MerchantPolicy.objects.create(merchant_id=MERCHANT_A, return_window_days=7)
    order = paid_order((MERCHANT_A, 1))
    shipment = _ship(order)
    at = timezone.now() - timedelta(hours=1)

    shipment_deliver(shipment_id=shipment.id, by="merchant", at=at)
    again = shipment_deliver(shipment_id=shipment.id, by="carrier")

    assert (again.delivered_by, again.delivered_at) == ("merchant", at)
    assert again.returns_close_at == at + timedelta(days=7)
    [event] = _events("order.delivered")
    assert event["returns_close_at"] == (at + timedelta(days=7)).isoformat()
    assert order.lines.get().delivered_quantity == 1


def test_a_demo_return_window_in_seconds_replaces_every_merchants_days(settings):
    settings.RETURN_WINDOW_SECONDS = 30
    MerchantPolicy.objects.create(merchant_id=MERCHANT_A, return_window_days=7)
    order = paid_order((MERCHANT_A, 1))
    at = timezone.now()

    delivered = shipment_deliver(shipment_id=_ship(order).id, by="merchant", at=at)

    assert delivered.returns_close_at == at + timedelta(seconds=30)
    assert order.lines.get().returns_close_at == at + timedelta(seconds=30)


def test_a_merchant_ships_only_its_own_lines_of_a_two_merchant_order():
    order = paid_order((MERCHANT_A, 1), (MERCHANT_B, 2))
    line_b = order.lines.get(merchant_id=MERCHANT_B)

    _refused("line_not_found", 404, lambda: _ship(order, MERCHANT_A, lines=[(line_b.id, 1)]))
    _ship(order, MERCHANT_A)
    order.refresh_from_db()
    assert order.status == "partially_shipped"
    _ship(order, MERCHANT_B)
    order.refresh_from_db()
    assert order.status == "shipped"
    assert set(Shipment.objects.values_list("merchant_id", flat=True)) == {MERCHANT_A, MERCHANT_B}


def test_an_order_without_the_merchants_lines_is_not_found():
    order = paid_order((MERCHANT_B, 1))
    line = order.lines.get()
    _refused("not_found", 404, lambda: _ship(order, MERCHANT_A, lines=[(line.id, 1)]))
    assert not Shipment.objects.exists()


def test_over_shipping_is_refused_and_nothing_is_written():
    order = paid_order((MERCHANT_A, 2), (MERCHANT_A, 1))
    first, second = order.lines.order_by("title")
    _ship(order, lines=[(first.id, 1)])

    error = _refused(
        "quantity_exceeds_unshipped",
        422,
        lambda: _ship(order, lines=[(first.id, 2), (second.id, 1)]),
    )
    assert error.errors[0]["message"] == "1 unit(s) left to ship."
    assert Shipment.objects.count() == 1
    second.refresh_from_db()
    assert second.shipped_quantity == 0
    assert len(_events("order.shipped")) == 1


def test_cancelled_units_are_not_left_to_ship():
    order = paid_order((MERCHANT_A, 3))
    OrderLine.objects.filter(order=order).update(cancelled_quantity=2)
    line = order.lines.get()
    _refused("quantity_exceeds_unshipped", 422, lambda: _ship(order, lines=[(line.id, 2)]))
    _ship(order, lines=[(line.id, 1)])
    order.refresh_from_db()
    assert order.status == "shipped"


@pytest.mark.parametrize("status", ["pending_payment", "cancelled", "refunded"])
def test_an_order_not_paid_or_refunded_whole_is_not_shippable(status):
    order = paid_order((MERCHANT_A, 1), status=status)
    _refused("order_not_shippable", 409, lambda: _ship(order))
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"tracking_url": "javascript:alert(1)"}, "invalid_tracking_url"),
        ({"tracking_url": "ftp://example.com/x"}, "invalid_tracking_url"),
        ({"tracking_url": "https://"}, "invalid_tracking_url"),
        ({"carrier": " "}, "invalid_shipment"),
        ({"tracking_number": "x" * 101}, "invalid_shipment"),
        ({"lines": []}, "invalid_shipment"),
    ],
)
def test_bad_shipment_input_is_refused(overrides, code):
    order = paid_order((MERCHANT_A, 1))
    _refused(code, 422, lambda: _ship(order, **overrides))
    assert not Shipment.objects.exists()


def test_a_line_twice_or_a_zero_quantity_is_refused():
    order = paid_order((MERCHANT_A, 2))
    line = order.lines.get()
    _refused("invalid_shipment", 422, lambda: _ship(order, lines=[(line.id, 1), (line.id, 1)]))
    _refused("invalid_shipment", 422, lambda: _ship(order, lines=[(line.id, 0)]))


def _ship_queries(django_assert_num_queries, lines: int) -> None:
    order = paid_order(*[(MERCHANT_A, 2)] * lines)
    with django_assert_num_queries(QUERIES_PER_SHIPMENT):
        shipment = _ship(order)
    with django_assert_num_queries(QUERIES_PER_DELIVERY):
        shipment_deliver(shipment_id=shipment.id, by="merchant")


# Savepoint, lock, lines, shipment, its lines, the lines' counts, the status, the outbox
# event and its lines read back (and, delivering, the policy): none per line.
QUERIES_PER_SHIPMENT = 11
QUERIES_PER_DELIVERY = 12


@pytest.mark.parametrize("lines", [1, 20])
def test_shipping_and_delivering_take_the_same_queries_for_1_line_and_for_20(
    django_assert_num_queries, lines
):
    _ship_queries(django_assert_num_queries, lines)


@pytest.mark.django_db(transaction=True)
def test_two_shipments_of_the_same_units_at_once_ship_them_once():
    order = paid_order((MERCHANT_A, 2))
    line = order.lines.get()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def ship(number: str) -> None:
        try:
            barrier.wait(10)
            _ship(order, lines=[(line.id, 2)], tracking_number=number)
            outcomes.append("shipped")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ship, args=(f"T{index}",)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes) == ["quantity_exceeds_unshipped", "shipped"]
    line.refresh_from_db()
    assert line.shipped_quantity == 2
    assert Shipment.objects.count() == 1
    assert OutboxEvent.objects.filter(type="order.shipped").count() == 1


def test_the_sweep_delivers_shipments_left_undelivered_after_the_setting(settings):
    settings.FULFILMENT_AUTO_DELIVER_DAYS = 14
    order = paid_order((MERCHANT_A, 1), (MERCHANT_A, 1))
    first, second = order.lines.order_by("title")
    old = _ship(order, lines=[(first.id, 1)])
    recent = _ship(order, lines=[(second.id, 1)], tracking_number="JD0002")
    Shipment.objects.filter(id=old.id).update(shipped_at=timezone.now() - timedelta(days=15))
    Shipment.objects.filter(id=recent.id).update(shipped_at=timezone.now() - timedelta(days=13))

    assert shipments_auto_deliver() == 1
    assert shipments_auto_deliver() == 0

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.delivered_by) == ("delivered", "timeout")
    assert recent.status == "shipped"


def test_the_sweep_goes_on_past_a_shipment_that_fails(settings, monkeypatch):
    from orders.services import shipping

    order = paid_order((MERCHANT_A, 1), (MERCHANT_A, 1))
    first, second = order.lines.order_by("title")
    broken = _ship(order, lines=[(first.id, 1)])
    good = _ship(order, lines=[(second.id, 1)], tracking_number="JD0002")
    Shipment.objects.update(shipped_at=timezone.now() - timedelta(days=30))
    real = shipping.shipment_deliver

    def deliver(*, shipment_id, **kwargs):
        if shipment_id == broken.id:
            raise RuntimeError("boom")
        return real(shipment_id=shipment_id, **kwargs)

    monkeypatch.setattr(shipping, "shipment_deliver", deliver)
    assert shipments_auto_deliver() == 1
    good.refresh_from_db()
    broken.refresh_from_db()
    assert (good.status, broken.status) == ("delivered", "shipped")


def test_the_buyer_is_emailed_on_shipping_with_the_tracking_link_and_on_delivery(mailoutbox):
    order = paid_order((MERCHANT_A, 2))
    shipment = _ship(order)
    shipment_deliver(shipment_id=shipment.id, by="carrier")
    shipped = OutboxEvent.objects.get(type="order.shipped")
    delivered = OutboxEvent.objects.get(type="order.delivered")

    assert event_consume(envelope=shipped.envelope()) is True
    assert event_consume(envelope=shipped.envelope()) is False  # redelivered: no 2nd email
    assert event_consume(envelope=delivered.envelope()) is True

    sent, arrived = mailoutbox
    assert sent.to == ["ada@example.com"]
    assert sent.subject == f"Your clipcart order {str(order.id)[:8]} has shipped"
    assert "Follow it here: https://track.example/JD0001" in sent.body
    assert "  2 x Item 0" in sent.body
    assert arrived.subject == f"Your clipcart order {str(order.id)[:8]} was delivered"
    assert "until" in arrived.body


def test_the_buyer_sees_shipments_and_line_fulfilment_in_a_constant_number_of_queries(
    client_for, django_assert_num_queries
):
    buyer = client_for("buyer-1")
    order = paid_order((MERCHANT_A, 2), (MERCHANT_B, 1))
    line_a = order.lines.get(merchant_id=MERCHANT_A)
    shipment = _ship(order, lines=[(line_a.id, 1)])

    body = buyer.get(f"/api/v1/orders/{order.id}/").json()
    assert body["status"] == "partially_shipped"
    assert body["shipments"] == [
        {
            "id": str(shipment.id),
            "merchant": {"id": str(MERCHANT_A), "name": "Shop A"},
            "carrier": "DHL",
            "tracking_number": "JD0001",
            "tracking_url": "https://track.example/JD0001",
            "status": "shipped",
            "shipped_at": shipment.shipped_at.isoformat().replace("+00:00", "Z"),
            "delivered_at": None,
            "lines": [{"line_id": str(line_a.id), "quantity": 1}],
        }
    ]
    assert {line["id"]: line["fulfilment_status"] for line in body["lines"]} == {
        str(line_a.id): "shipped",
        str(order.lines.get(merchant_id=MERCHANT_B).id): "unfulfilled",
    }
    assert client_for("someone-else").get(f"/api/v1/orders/{order.id}/").status_code == 404

    # The orders, their lines, returns, shipments and shipment lines (no returns here, so
    # no query for their lines).
    with django_assert_num_queries(5) as one:
        assert len(buyer.get("/api/v1/orders/").json()["results"]) == 1
    for _ in range(5):
        more = paid_order((MERCHANT_A, 1), (MERCHANT_B, 1))
        _ship(more, MERCHANT_B)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(buyer.get("/api/v1/orders/").json()["results"]) == 6
