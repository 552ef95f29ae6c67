"""Settlement follows delivery: a sale line's commission settles once delivered, its
return window closed and no return open on it; a line never delivered never settles; a
fully refunded line is ineligible. Read through the creator's earnings, fed by checkout's
events in order, out of order, twice, and at once."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone

from attribution.models import DeliveryReceived, ReturnReceived, SaleLine
from attribution.services import order_delivered_apply, order_return_closed_apply
from clipcart_shared.outbox.services import event_consume
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_delivered,
    order_paid,
    order_refunded,
    order_return,
    paid_line,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/creators/me/earnings/"
NOW = timezone.now()


def eur(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "EUR"}


def money(net: int, commission: int) -> dict[str, Any]:
    return {"net": eur(net), "commission": eur(commission)}


@pytest.fixture
def tag():
    """Ada's video (10 % commission) that the buyer tapped an hour ago."""
    tag = ProductTagFactory(
        video=VideoFactory(creator=CreatorFactory(user_id="ada", commission_rate_bps=1000))
    )
    engagement_event("buyer", tag.video, "tag_tap", NOW - timedelta(hours=1))
    return tag


def pay(tag, *amounts: int, quantity: int = 1) -> tuple[dict[str, Any], list[str]]:
    lines = [paid_line(tag, amount, quantity=quantity) for amount in amounts]
    paid = order_paid("buyer", lines, NOW - timedelta(minutes=5))
    assert event_consume(envelope=paid) is True
    return paid, [line["line_id"] for line in lines]


def earnings(client_for, at: datetime | None = None) -> dict[str, Any]:
    """Ada's one video's figures for the days of its sales, as the API answers them (at
    `at`, when given)."""
    client = client_for("ada")
    days = {"from": day(NOW - timedelta(days=1)), "to": day(NOW)}
    with mock.patch.object(timezone, "now", return_value=at or timezone.now()):
        response = client.get(URL, days)
    assert response.status_code == 200, response.json()
    [video] = response.json()["videos"]
    return video


def status(video: dict[str, Any]) -> dict[str, Any]:
    pending = dict(video["pending"])
    return {
        "pending": money(pending["net"]["amount"], pending["commission"]["amount"]),
        "schedule": pending["schedule"],
        "settled": video["settled"],
        "ineligible": video["ineligible"],
    }


def day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


NOTHING = money(0, 0)
NO_SALES = {"sales": eur(0), "commission": eur(0)}


def test_a_delivered_line_settles_when_its_return_window_closes_and_not_before(client_for, tag):
    paid, [line] = pay(tag, 4000, quantity=2)
    closes = NOW + timedelta(days=30)
    event_consume(envelope=order_delivered(paid, {line: 2}, NOW, closes))

    before = status(earnings(client_for, at=closes - timedelta(seconds=1)))
    after = status(earnings(client_for, at=closes))

    assert before == {
        "pending": money(4000, 400),
        "schedule": [{"settles_on": day(closes), **money(4000, 400)}],
        "settled": NOTHING,
        "ineligible": NO_SALES,
    }
    assert after == {
        "pending": NOTHING,
        "schedule": [],
        "settled": money(4000, 400),
        "ineligible": NO_SALES,
    }


def test_a_line_never_delivered_never_settles_and_has_no_date(client_for, tag):
    pay(tag, 4000)

    years_later = status(earnings(client_for, at=NOW + timedelta(days=1000)))

    assert years_later["settled"] == NOTHING
    assert years_later["schedule"] == [{"settles_on": None, **money(4000, 400)}]


def test_a_line_in_several_shipments_settles_after_the_last_window(client_for, tag):
    paid, [line] = pay(tag, 3000, quantity=3)
    first_closes, last_closes = NOW + timedelta(days=30), NOW + timedelta(days=35)
    event_consume(envelope=order_delivered(paid, {line: 2}, NOW, first_closes))

    partly = status(earnings(client_for, at=first_closes + timedelta(days=1)))
    assert partly["settled"] == NOTHING  # one unit is still on its way
    assert partly["schedule"] == [{"settles_on": None, **money(3000, 300)}]

    event_consume(envelope=order_delivered(paid, {line: 1}, NOW + timedelta(days=5), last_closes))

    assert status(earnings(client_for, at=first_closes + timedelta(days=1)))["schedule"] == [
        {"settles_on": day(last_closes), **money(3000, 300)}
    ]
    assert status(earnings(client_for, at=last_closes))["settled"] == money(3000, 300)
    sale = SaleLine.objects.get()
    assert (sale.delivered_quantity, sale.delivered_at, sale.returns_close_at) == (
        3,
        NOW,
        last_closes,
    )


def test_an_open_return_holds_the_line_and_a_rejected_one_releases_it(client_for, tag):
    paid, [line, other] = pay(tag, 4000, 1000)
    closes = NOW + timedelta(days=30)
    event_consume(envelope=order_delivered(paid, {line: 1, other: 1}, NOW, closes))
    requested = order_return(paid, {line: 1}, NOW + timedelta(days=2))
    event_consume(envelope=requested)

    held = status(earnings(client_for, at=closes + timedelta(days=10)))
    assert held["settled"] == money(1000, 100)  # the other line is not held
    assert held["schedule"] == [{"settles_on": None, **money(4000, 400)}]

    rejected = order_return(
        paid,
        {line: 1},
        NOW + timedelta(days=5),
        status="rejected",
        return_id=requested["data"]["return_id"],
    )
    event_consume(envelope=rejected)

    assert status(earnings(client_for, at=closes + timedelta(days=10)))["settled"] == money(
        5000, 500
    )
    assert ReturnReceived.objects.get().status == "rejected"


def test_a_refunded_return_makes_its_line_ineligible_and_the_rest_settles(client_for, tag):
    paid, [returned, kept] = pay(tag, 4000, 1500)
    closes = NOW + timedelta(days=30)
    event_consume(envelope=order_delivered(paid, {returned: 1, kept: 1}, NOW, closes))
    requested = order_return(paid, {returned: 1}, NOW + timedelta(days=2))
    event_consume(envelope=requested)
    event_consume(envelope=order_refunded(paid, {returned: 4000}, NOW + timedelta(days=9)))
    event_consume(
        envelope=order_return(
            paid,
            {returned: 1},
            NOW + timedelta(days=9),
            status="refunded",
            return_id=requested["data"]["return_id"],
        )
    )

    within = earnings(client_for, at=NOW + timedelta(days=10))
    after = earnings(client_for, at=closes)

    assert status(within) == {
        "pending": money(1500, 150),
        "schedule": [{"settles_on": day(closes), **money(1500, 150)}],
        "settled": NOTHING,
        "ineligible": {"sales": eur(4000), "commission": eur(400)},
    }
    assert status(after)["settled"] == money(1500, 150)
    assert status(after)["pending"] == NOTHING
    assert (after["net"], after["refunds"], after["commission"]) == (eur(1500), eur(4000), eur(150))


def test_units_cancelled_before_shipping_do_not_keep_the_rest_from_settling(client_for, tag):
    paid, [line] = pay(tag, 3000, quantity=3)
    event_consume(envelope=order_refunded(paid, {line: 1000}, NOW))  # one unit cancelled
    closes = NOW + timedelta(days=30)
    event_consume(envelope=order_delivered(paid, {line: 2}, NOW + timedelta(days=2), closes))

    assert status(earnings(client_for, at=closes))["settled"] == money(2000, 200)


def test_a_partial_refund_keeps_the_line_waiting_for_its_undelivered_units(client_for, tag):
    # 500 back on a 3 x 1000 line is no unit: all three must still be delivered.
    paid, [line] = pay(tag, 3000, quantity=3)
    event_consume(envelope=order_refunded(paid, {line: 500}, NOW))
    event_consume(envelope=order_delivered(paid, {line: 2}, NOW, NOW + timedelta(days=1)))

    assert status(earnings(client_for, at=NOW + timedelta(days=2)))["schedule"] == [
        {"settles_on": None, **money(2500, 250)}
    ]


def _line_state() -> list[tuple[Any, ...]]:
    return list(
        SaleLine.objects.order_by("amount").values_list(
            "amount", "delivered_quantity", "delivered_at", "returns_close_at", "held_quantity"
        )
    )


def test_events_out_of_order_and_redelivered_end_as_in_order(client_for, tag):
    lines = [paid_line(tag, 4000), paid_line(tag, 1000)]
    paid = order_paid("buyer", lines, NOW - timedelta(minutes=5))
    line, other = (item["line_id"] for item in lines)
    closes = NOW + timedelta(days=30)
    delivered = order_delivered(paid, {line: 1, other: 1}, NOW, closes)
    requested = order_return(paid, {line: 1}, NOW + timedelta(days=1))
    closed = order_return(
        paid, {line: 1}, NOW + timedelta(days=3), "rejected", requested["data"]["return_id"]
    )

    # Delivered and the return closed before the payment is heard; then the request.
    assert event_consume(envelope=delivered) is True
    assert event_consume(envelope=closed) is True
    assert event_consume(envelope=paid) is True
    assert event_consume(envelope=requested) is True
    # Everything again, as the broker redelivers, and as reconciliation resends (new ids).
    for envelope in (delivered, closed, paid, requested):
        assert event_consume(envelope=envelope) is False
        assert event_consume(envelope={**envelope, "id": str(uuid.uuid4())}) is True

    assert _line_state() == [(1000, 1, NOW, closes, 0), (4000, 1, NOW, closes, 0)]
    assert DeliveryReceived.objects.count() == 1
    assert ReturnReceived.objects.get().closed_at == NOW + timedelta(days=3)
    assert status(earnings(client_for, at=closes))["settled"] == money(5000, 500)


def test_a_return_heard_open_before_its_payment_holds_once_paid(client_for, tag):
    lines = [paid_line(tag, 4000)]
    paid = order_paid("buyer", lines, NOW - timedelta(minutes=5))
    line = lines[0]["line_id"]
    event_consume(envelope=order_return(paid, {line: 1}, NOW + timedelta(days=1)))
    event_consume(envelope=order_delivered(paid, {line: 1}, NOW, NOW + timedelta(days=2)))
    assert not SaleLine.objects.exists()

    event_consume(envelope=paid)

    assert _line_state() == [(4000, 1, NOW, NOW + timedelta(days=2), 1)]
    assert status(earnings(client_for, at=NOW + timedelta(days=5)))["settled"] == NOTHING


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda data: data.update(status="approved"), ValueError),
        (lambda data: data["lines"][0].update(quantity=0), ValueError),
        (lambda data: data["lines"][0].update(line_id="not-a-uuid"), ValueError),
        (lambda data: data.pop("lines"), KeyError),
    ],
    ids=["unknown status", "no units", "bad line id", "no lines"],
)
def test_a_malformed_return_closed_raises_and_writes_nothing(tag, change, error):
    paid, [line] = pay(tag, 4000)
    closed = order_return(paid, {line: 1}, NOW, status="rejected")
    change(closed["data"])

    with pytest.raises(error):
        order_return_closed_apply(closed)

    assert not ReturnReceived.objects.exists()


def test_a_delivery_without_its_window_end_raises_and_writes_nothing(tag):
    paid, [line] = pay(tag, 4000)
    delivered = order_delivered(paid, {line: 1}, NOW, NOW)
    delivered["data"]["returns_close_at"] = "next month"

    with pytest.raises(ValueError):
        order_delivered_apply(delivered)

    assert not DeliveryReceived.objects.exists()
    assert _line_state() == [(4000, 0, None, None, 0)]


@pytest.mark.django_db(transaction=True)
def test_the_payment_and_its_delivery_at_once_end_delivered(tag):
    lines = [paid_line(tag, 4000, quantity=2)]
    paid = order_paid("buyer", lines, NOW - timedelta(minutes=5))
    closes = NOW + timedelta(days=30)
    delivered = order_delivered(paid, {lines[0]["line_id"]: 2}, NOW, closes)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(envelope: dict[str, Any]) -> None:
        try:
            start.wait()
            event_consume(envelope=envelope)
        except BaseException as caught:
            errors.append(caught)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(envelope,)) for envelope in (paid, delivered)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert _line_state() == [(4000, 2, NOW, closes, 0)]
