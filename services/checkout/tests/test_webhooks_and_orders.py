from __future__ import annotations

import contextlib
import threading
import time
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone
from stripe import CardError

from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import register_webhook, stripe_client
from orders.models import Order
from orders.services import orders_expire, payments_reconcile
from payments.models import WebhookEvent
from tests.conftest import (
    ADDRESS,
    STRIPE_KEY,
    WEBHOOK_SECRET,
    intent_object,
    signed,
    stripe_event,
    webhook_post,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(client_for, catalog, stripe_emulator, variants) -> Order:
    response = client_for("u1").post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variants[0]["id"], "quantity": 1}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    return Order.objects.get(id=response.json()["order"]["id"])


def _pay_on_the_emulator(emulator: str, order: Order, card: str = "pm_card_visa") -> None:
    stripe = stripe_client(emulator, STRIPE_KEY)
    stripe.v1.payment_intents.update(order.payment_intent_id, {"payment_method": card})
    # A declined card raises here (the app shows it); Stripe then sends payment_failed.
    with contextlib.suppress(CardError):
        stripe.v1.payment_intents.confirm(order.payment_intent_id)


def test_a_succeeded_payment_marks_the_order_paid_commits_stock_and_publishes_once(
    api_client, order, catalog, variants
):
    before = catalog.stock(variants[0]["id"])
    event = stripe_event("payment_intent.succeeded", intent_object(order))
    for _ in range(5):
        assert webhook_post(api_client, event).status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"
    assert catalog.stock(variants[0]["id"]) == (before[0] - 1, before[1] - 1)
    paid = OutboxEvent.objects.get(type="order.paid")
    assert paid.data["order_id"] == str(order.id)
    assert paid.data["lines"][0]["amount"] == order.subtotal_amount
    assert paid.data["lines"][0]["source"] is None  # bought without a video
    assert WebhookEvent.objects.count() == 1


def test_order_paid_carries_each_line_source_and_when_it_was_picked(
    api_client, client_for, catalog, stripe_emulator, variants
):
    source = {"video_id": str(uuid.uuid4()), "tag_id": str(uuid.uuid4())}
    response = client_for("u2").post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variants[0]["id"], "quantity": 1, "source": source}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    order = Order.objects.get(id=response.json()["order"]["id"])
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))

    line = OutboxEvent.objects.get(type="order.paid").data["lines"][0]
    # "Buy now" from a video: picked when the checkout was made.
    assert line["source"] == {
        **source,
        "added_at": order.lines.get().source_added_at.isoformat(),
    }
    assert order.created_at - timedelta(seconds=5) < order.lines.get().source_added_at


@pytest.mark.parametrize(
    "tamper",
    ["no-signature", "wrong-secret", "one-byte", "too-old"],
)
def test_bad_signatures_are_400_and_nothing_is_written(api_client, order, tamper):
    event = stripe_event("payment_intent.succeeded", intent_object(order))
    payload, header = signed(
        event,
        secret="whsec_wrong" if tamper == "wrong-secret" else WEBHOOK_SECRET,
        age=301 if tamper == "too-old" else 0,
    )
    if tamper == "one-byte":
        payload = payload.replace(b'"succeeded"', b'"succeedeD"', 1)
    response = api_client.generic(
        "POST",
        "/api/v1/webhooks/stripe/",
        payload,
        content_type="application/json",
        **({} if tamper == "no-signature" else {"HTTP_STRIPE_SIGNATURE": header}),
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert WebhookEvent.objects.count() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment"


@pytest.mark.django_db(transaction=True)
def test_the_same_event_five_times_at_once_is_applied_once(
    client_for, catalog, stripe_emulator, variants
):
    from rest_framework.test import APIClient

    response = client_for("u1").post(
        "/api/v1/checkouts/",
        {
            "email": "a@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variants[0]["id"], "quantity": 1}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="concurrent-webhook",
    )
    order = Order.objects.get(id=response.json()["order"]["id"])
    event = stripe_event("payment_intent.succeeded", intent_object(order))
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def deliver() -> None:
        try:
            barrier.wait()
            statuses.append(webhook_post(APIClient(), event).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 5
    assert OutboxEvent.objects.filter(type="order.paid").count() == 1
    assert Order.objects.get(id=order.id).status == "paid"


def test_events_of_other_types_or_orders_are_acknowledged_and_ignored(api_client, order):
    assert (
        webhook_post(
            api_client, stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
        ).status_code
        == 200
    )
    stranger = intent_object(order)
    stranger.update(id="pi_unknown", metadata={})
    assert (
        webhook_post(api_client, stripe_event("payment_intent.succeeded", stranger)).status_code
        == 200
    )
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"ignored"}
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_a_refund_before_the_payment_event_still_ends_refunded(api_client, order):
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": order.payment_intent_id,
        "currency": order.currency.lower(),
        "amount_refunded": order.total_amount,
    }
    webhook_post(api_client, stripe_event("charge.refunded", charge))
    order.refresh_from_db()
    assert order.status == "pending_payment"
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", order.total_amount)
    types = list(
        OutboxEvent.objects.filter(type__startswith="order.").values_list("type", flat=True)
    )
    assert sorted(types) == ["order.paid", "order.refunded"]


def test_a_partial_refund_and_a_dispute_after_payment(api_client, order):
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    charge = {
        "id": "ch_2",
        "object": "charge",
        "payment_intent": order.payment_intent_id,
        "currency": order.currency.lower(),
        "amount_refunded": 100,
    }
    webhook_post(api_client, stripe_event("charge.refunded", charge))
    webhook_post(api_client, stripe_event("charge.refunded", charge))  # a redelivery: nothing more
    webhook_post(
        api_client,
        stripe_event(
            "charge.dispute.created",
            {"id": "dp_1", "object": "dispute", "payment_intent": order.payment_intent_id},
        ),
    )
    order.refresh_from_db()
    assert (order.status, order.refunded_amount, order.is_disputed) == (
        "partially_refunded",
        100,
        True,
    )
    refunded = OutboxEvent.objects.get(type="order.refunded")
    assert sum(line["amount"] for line in refunded.data["lines"]) == 100


def test_out_of_order_events_never_move_an_order_backwards(api_client, order):
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    webhook_post(
        api_client,
        stripe_event(
            "payment_intent.payment_failed", intent_object(order, "requires_payment_method")
        ),
    )
    webhook_post(
        api_client, stripe_event("payment_intent.canceled", intent_object(order, "canceled"))
    )
    order.refresh_from_db()
    assert order.status == "paid"


def _live_order(client_for, live_server, stripe_emulator, variants, user: str) -> Order:
    register_webhook(
        stripe_emulator,
        "checkout-tests",
        f"{live_server.url}/api/v1/webhooks/stripe/",
        WEBHOOK_SECRET,
    )
    response = client_for(user).post(
        "/api/v1/checkouts/",
        {
            "email": "a@example.com",
            "shipping_address": ADDRESS,
            "lines": [{"variant_id": variants[0]["id"], "quantity": 1}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"live-{user}",
    )
    return Order.objects.get(id=response.json()["order"]["id"])


def _wait_for(order: Order, condition) -> None:
    for _ in range(60):
        order.refresh_from_db()
        if condition(order):
            return
        time.sleep(0.1)


def test_the_emulator_pays_and_its_webhook_reaches_a_live_server(
    live_server, client_for, catalog, stripe_emulator, variants
):
    order = _live_order(client_for, live_server, stripe_emulator, variants, "live-payer")
    _pay_on_the_emulator(stripe_emulator, order)
    _wait_for(order, lambda current: current.status == "paid")
    assert order.status == "paid"
    assert OutboxEvent.objects.filter(type="order.paid").count() == 1


def test_a_declined_card_leaves_the_order_pending_and_payable_again(
    live_server, client_for, catalog, stripe_emulator, variants
):
    order = _live_order(client_for, live_server, stripe_emulator, variants, "live-declined")
    _pay_on_the_emulator(stripe_emulator, order, card="pm_card_chargeCustomerFail")
    _wait_for(order, lambda current: current.payment_failures > 0)
    assert (order.status, order.payment_failures) == ("pending_payment", 1)
    assert order.last_payment_error
    intent = stripe_client(stripe_emulator, STRIPE_KEY).v1.payment_intents.retrieve(
        order.payment_intent_id
    )
    # Stripe's "payable again": the app can confirm it with another card.
    assert intent.status == "requires_payment_method"
    assert OutboxEvent.objects.filter(type="order.paid").count() == 0


def test_reconciliation_applies_a_payment_whose_webhook_was_lost(order, stripe_emulator):
    _pay_on_the_emulator(stripe_emulator, order)  # no webhook registered for this order's path
    Order.objects.filter(id=order.id).update(created_at=timezone.now() - timedelta(minutes=10))
    assert payments_reconcile() >= 1
    order.refresh_from_db()
    assert order.status == "paid"


def test_expired_orders_are_cancelled_and_their_stock_released(order, catalog, variants):
    before = catalog.stock(variants[0]["id"])
    Order.objects.filter(id=order.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert orders_expire() == 1
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert catalog.stock(variants[0]["id"]) == (before[0], before[1] - 1)
    assert OutboxEvent.objects.filter(type="order.cancelled").count() == 1


def test_a_payment_for_a_cancelled_order_is_refunded_automatically(
    api_client, order, stripe_emulator
):
    # The race: the payment went through at Stripe just as the order was cancelled here.
    _pay_on_the_emulator(stripe_emulator, order)
    Order.objects.filter(id=order.id).update(status=Order.Status.CANCELLED)
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("cancelled", order.total_amount)
    assert order.refunds.get().stripe_refund_id.startswith("re_")


def test_orders_are_private_to_their_buyer(client_for, order):
    assert client_for("u1").get("/api/v1/orders/").json()["results"][0]["id"] == str(order.id)
    assert client_for("u1").get(f"/api/v1/orders/{order.id}/").status_code == 200
    assert client_for("u2").get("/api/v1/orders/").json()["results"] == []
    assert client_for("u2").get(f"/api/v1/orders/{order.id}/").status_code == 404
    assert client_for("u2").post(f"/api/v1/orders/{order.id}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_a_paid_order_whose_units_all_shipped_cannot_be_cancelled(api_client, client_for, order):
    from tests.after_payment import ship

    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    ship(order.id)  # paid orders cancel their unshipped units (tests/test_cancel_paid.py)
    response = client_for("u1").post(f"/api/v1/orders/{order.id}/cancel/")
    assert (response.status_code, response.json()["code"]) == (409, "order_not_cancellable")


def test_broker_down_the_webhook_is_still_logged_and_everything_drains_when_it_is_back(
    api_client, order, settings
):
    from kombu.exceptions import OperationalError

    from clipcart_shared.outbox.services import outbox_relay
    from orders.services import stripe_events_sweep as webhook_events_sweep

    settings.EVENT_ROUTES = {"order.paid": ["checkout.events"]}
    broker_down = OperationalError("broker unreachable")
    with (
        mock.patch("celery.app.task.Task.delay", side_effect=broker_down),
        mock.patch("celery.Celery.send_task", side_effect=broker_down),
    ):
        response = webhook_post(
            api_client, stripe_event("payment_intent.succeeded", intent_object(order))
        )
        assert response.status_code == 200
        order.refresh_from_db()
        assert order.status == "pending_payment"
        assert WebhookEvent.objects.get().status == "received"

    # The broker is back: the sweep applies the event, the relay drains the outbox.
    assert webhook_events_sweep(older_than=timedelta(0)) == 1
    order.refresh_from_db()
    assert order.status == "paid"
    assert OutboxEvent.objects.filter(type="order.paid", published_at__isnull=True).count() == 1
    with mock.patch("celery.Celery.send_task") as sent:
        assert outbox_relay() >= 1
    assert sent.call_args.kwargs["queue"] == "checkout.events"
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 0
