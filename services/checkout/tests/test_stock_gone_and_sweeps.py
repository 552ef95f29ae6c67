"""A payment that lands after its stock is gone is refunded, and no sweep ever jams: each
periodic task handles its rows one by one, so one bad row never stops the others."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_shared.sweeps.models import SweepBackoff
from core import catalog as catalog_client
from orders import services
from orders.models import Order, Refund
from orders.services import payment_events
from orders.services import stripe_events_sweep as webhook_events_sweep
from payments import stripe_api
from payments.models import WebhookEvent
from tests.conftest import ADDRESS, intent_object, stripe_event, webhook_post
from tests.test_refunds import _stripe_refunds
from tests.test_webhooks_and_orders import _pay_on_the_emulator

pytestmark = pytest.mark.django_db


def _buy(client_for, user: str, variant: dict[str, Any], quantity: int = 1) -> Order:
    response = client_for(user).post(
        "/api/v1/checkouts/",
        {
            "email": f"{user}@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variant["id"], "quantity": quantity}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    return Order.objects.get(id=response.json()["order"]["id"])


@pytest.fixture
def last_unit(catalog, variants) -> Iterator[dict[str, Any]]:
    """A variant with one unit on the shelf; its large stock is put back afterwards."""
    variant = variants[-1]
    catalog.set_stock(variant["id"], 1)
    yield variant
    catalog.set_stock(variant["id"], 100_000)


def _lapse_and_sell_to_another(client_for, api_client, emulator, order, variant) -> Order:
    """The first buyer's hold lapses (catalog's sweep releases it) and the unit is sold."""
    catalog_client.reservation_release(reservation_id=order.reservation_id)
    other = _buy(client_for, "second-buyer", variant)
    _pay_on_the_emulator(emulator, other)
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(other)))
    other.refresh_from_db()
    assert other.status == "paid"
    return other


def test_a_payment_after_the_stock_was_sold_to_another_is_refunded_once_and_cancelled(
    api_client, client_for, catalog, stripe_emulator, last_unit, mailoutbox
):
    first = _buy(client_for, "first-buyer", last_unit)
    _lapse_and_sell_to_another(client_for, api_client, stripe_emulator, first, last_unit)
    _pay_on_the_emulator(stripe_emulator, first)
    event = stripe_event("payment_intent.succeeded", intent_object(first))

    for _ in range(3):  # redelivered: refunded once all the same
        assert webhook_post(api_client, event).status_code == 200

    first.refresh_from_db()
    assert (first.status, first.refunded_amount) == ("cancelled", first.total_amount)
    assert WebhookEvent.objects.get(event_id=event["id"]).status == "processed"
    assert _stripe_refunds(stripe_emulator, first) == [first.total_amount]
    refund = first.refunds.get()
    assert (refund.status, refund.created_by) == ("succeeded", "system:stock-gone")
    cancelled = OutboxEvent.objects.get(type="order.cancelled", subject=str(first.id))
    assert cancelled.data["reason"] == "stock gone before payment"
    assert not OutboxEvent.objects.filter(type="order.paid", subject=str(first.id)).exists()
    assert not OutboxEvent.objects.filter(type="order.refunded", subject=str(first.id)).exists()
    mails = [mail for mail in mailoutbox if mail.to == ["first-buyer@example.com"]]
    assert len(mails) == 1 and "refund" in mails[0].body.lower()
    assert catalog.stock(last_unit["id"]) == (0, 0)


def test_the_buyers_own_cancel_after_a_payment_whose_stock_is_gone_refunds_not_500(
    api_client, client_for, catalog, stripe_emulator, last_unit
):
    first = _buy(client_for, "first-buyer", last_unit)
    _lapse_and_sell_to_another(client_for, api_client, stripe_emulator, first, last_unit)
    _pay_on_the_emulator(stripe_emulator, first)  # its webhook never came

    response = client_for("first-buyer").post(f"/api/v1/orders/{first.id}/cancel/")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    first.refresh_from_db()
    assert first.refunded_amount == first.total_amount
    assert _stripe_refunds(stripe_emulator, first) == [first.total_amount]


def test_reconciliation_refunds_a_lost_payment_whose_stock_is_gone(
    api_client, client_for, catalog, stripe_emulator, last_unit
):
    first = _buy(client_for, "first-buyer", last_unit)
    _lapse_and_sell_to_another(client_for, api_client, stripe_emulator, first, last_unit)
    _pay_on_the_emulator(stripe_emulator, first)
    Order.objects.filter(id=first.id).update(created_at=timezone.now() - timedelta(minutes=10))

    services.payments_reconcile()

    first.refresh_from_db()
    assert (first.status, first.refunded_amount) == ("cancelled", first.total_amount)


# --- one poisoned row never stops a sweep ---------------------------------------------------


def _poisoned(real: Any, poisoned_id: Any, argument: str) -> Any:
    """`real`, except that it raises something nobody expected for one row."""

    def call(**kwargs: Any) -> Any:
        if str(kwargs[argument]) == str(poisoned_id):
            raise RuntimeError("something nobody expected")
        return real(**kwargs)

    return call


def test_an_order_whose_catalog_call_blows_up_does_not_stop_expiry_of_the_others(
    client_for, catalog, stripe_emulator, variants
):
    poisoned, healthy = (_buy(client_for, f"expiring-{n}", variants[0]) for n in range(2))
    Order.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    release = _poisoned(
        catalog_client.reservation_release, poisoned.reservation_id, "reservation_id"
    )

    with mock.patch.object(catalog_client, "reservation_release", release):
        assert services.orders_expire() == 1
        assert services.orders_expire() == 0  # backed off: not tried again at once

    assert Order.objects.get(id=healthy.id).status == "cancelled"
    assert Order.objects.get(id=poisoned.id).status == "pending_payment"
    backoff = SweepBackoff.objects.get(key=str(poisoned.id))
    assert (backoff.task, backoff.failures) == ("orders.orders_expire", 1)
    assert "something nobody expected" in backoff.last_error

    SweepBackoff.objects.update(retry_at=timezone.now() - timedelta(seconds=1))
    assert services.orders_expire() == 1  # healed: tried again after the wait, and cleared
    assert Order.objects.get(id=poisoned.id).status == "cancelled"
    assert not SweepBackoff.objects.exists()


def test_a_poisoned_order_does_not_stop_payment_reconciliation_of_the_others(
    client_for, catalog, stripe_emulator, variants
):
    poisoned, healthy = (_buy(client_for, f"reconciled-{n}", variants[0]) for n in range(2))
    for order in (poisoned, healthy):
        _pay_on_the_emulator(stripe_emulator, order)
    Order.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    commit = _poisoned(catalog_client.reservation_commit, poisoned.reservation_id, "reservation_id")

    with mock.patch.object(catalog_client, "reservation_commit", commit):
        assert services.payments_reconcile() == 1

    assert Order.objects.get(id=healthy.id).status == "paid"
    assert Order.objects.get(id=poisoned.id).status == "pending_payment"
    assert SweepBackoff.objects.get().task == "orders.payments_reconcile"


def test_a_poisoned_refund_does_not_stop_refund_reconciliation_of_the_others(
    api_client, client_for, catalog, stripe_emulator, variants
):
    orders = [_buy(client_for, f"refunded-{n}", variants[0]) for n in range(2)]
    refunds = []
    for order in orders:
        _pay_on_the_emulator(stripe_emulator, order)
        webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
        refunds.append(
            Refund.objects.create(
                order=order, status=Refund.Status.PENDING, amount=100, lines={}, created_by="t"
            )
        )
    Refund.objects.update(created_at=timezone.now() - timedelta(hours=1))
    refund_create = _poisoned(stripe_api.refund_create, refunds[0].id, "refund_key")

    with mock.patch.object(stripe_api, "refund_create", refund_create):
        assert services.refunds_reconcile() == 1

    assert Refund.objects.get(id=refunds[1].id).status == "succeeded"
    assert Refund.objects.get(id=refunds[0].id).status == "pending"
    assert SweepBackoff.objects.get().key == str(refunds[0].id)


def test_a_poisoned_event_does_not_stop_the_webhook_sweep_and_events_go_oldest_first(
    api_client, client_for, catalog, stripe_emulator, variants
):
    poisoned, healthy = (_buy(client_for, f"swept-{n}", variants[0]) for n in range(2))
    applied: list[str] = []
    real_apply = payment_events.order_payment_succeeded

    def apply(*, order_id: uuid.UUID) -> Order:
        applied.append(str(order_id))
        if order_id == poisoned.id:
            raise RuntimeError("something nobody expected")
        return real_apply(order_id=order_id)

    events = [
        stripe_event("payment_intent.succeeded", intent_object(order))
        for order in (healthy, poisoned, healthy)
    ]
    with mock.patch("celery.app.task.Task.delay", side_effect=OSError("broker down")):
        for event in events:
            webhook_post(api_client, event)
    # Logged newest first by the clock: the sweep must still go oldest first.
    for age, event in enumerate(events):
        WebhookEvent.objects.filter(event_id=event["id"]).update(
            received_at=timezone.now() - timedelta(minutes=10 - age)
        )

    with mock.patch.object(payment_events, "order_payment_succeeded", apply):
        assert webhook_events_sweep(older_than=timedelta(0)) == 2

    assert applied == [str(healthy.id), str(poisoned.id), str(healthy.id)]
    statuses = [WebhookEvent.objects.get(event_id=event["id"]).status for event in events]
    assert statuses == ["processed", "received", "processed"]
    assert Order.objects.get(id=healthy.id).status == "paid"
    assert SweepBackoff.objects.get().key == events[1]["id"]
