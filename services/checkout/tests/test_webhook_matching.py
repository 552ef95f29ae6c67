"""A signed event is applied only when what Stripe says matches the order: its
PaymentIntent id, status, amount and currency. Anything else is a mismatch: logged for
platform staff, the order untouched, Stripe still answered 2xx."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from clipcart_shared.outbox.models import OutboxEvent
from orders.models import Order
from payments.models import WebhookEvent
from tests.conftest import intent_object, stripe_event, webhook_post
from tests.test_webhooks_and_orders import order  # noqa: F401 (the `order` fixture)

pytestmark = pytest.mark.django_db


def _forged(target: Order, **changes: Any) -> dict[str, Any]:
    return {**intent_object(target), **changes}


FORGERIES = {
    "another PaymentIntent": lambda target: _forged(target, id=f"pi_{uuid.uuid4().hex[:24]}"),
    "amount - 1": lambda target: _forged(
        target, amount=target.total_amount - 1, amount_received=target.total_amount - 1
    ),
    "received - 1": lambda target: _forged(target, amount_received=target.total_amount - 1),
    "another currency": lambda target: _forged(
        target, currency="usd" if target.currency.lower() != "usd" else "eur"
    ),
    "status processing": lambda target: _forged(target, status="processing"),
    "no amount received": lambda target: {
        key: value for key, value in intent_object(target).items() if key != "amount_received"
    },
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_signed_success_that_does_not_match_the_order_leaves_it_unpaid(
    api_client,
    order,  # noqa: F811
    forgery,
    caplog,
):
    event = stripe_event("payment_intent.succeeded", FORGERIES[forgery](order))
    with caplog.at_level(logging.ERROR, logger="orders.services.stripe_events"):
        response = webhook_post(api_client, event)

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.paid_at) == ("pending_payment", None)
    assert OutboxEvent.objects.filter(type__startswith="order.").count() == 0
    logged = WebhookEvent.objects.get(event_id=event["id"])
    assert logged.status == "mismatch"
    assert logged.error
    mismatch = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert mismatch and mismatch[0].event_id == event["id"]
    assert mismatch[0].order_id == str(order.id)


def test_the_matching_success_after_a_mismatch_still_pays_the_order(api_client, order):  # noqa: F811
    webhook_post(
        api_client, stripe_event("payment_intent.succeeded", FORGERIES["amount - 1"](order))
    )
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert order.status == "paid"
    assert OutboxEvent.objects.filter(type="order.paid").count() == 1


def test_an_event_is_matched_by_its_payment_intent_before_its_metadata(api_client, order):  # noqa: F811
    # Metadata naming another order (or none) does not matter: the PaymentIntent is ours.
    event = stripe_event(
        "payment_intent.succeeded", _forged(order, metadata={"order_id": str(uuid.uuid4())})
    )
    webhook_post(api_client, event)
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.parametrize(
    "event_type, status",
    [
        ("payment_intent.canceled", "canceled"),
        ("payment_intent.payment_failed", "requires_payment_method"),
    ],
)
def test_a_cancel_or_failure_naming_the_order_with_another_payment_intent_changes_nothing(
    api_client,
    order,  # noqa: F811
    event_type,
    status,
):
    event = stripe_event(
        event_type, _forged(order, id=f"pi_{uuid.uuid4().hex[:24]}", status=status)
    )
    webhook_post(api_client, event)
    order.refresh_from_db()
    assert (order.status, order.payment_failures) == ("pending_payment", 0)
    assert WebhookEvent.objects.get(event_id=event["id"]).status == "mismatch"


def test_a_charge_refund_in_another_currency_is_a_mismatch(api_client, order):  # noqa: F811
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    charge = {
        "id": "ch_forged",
        "object": "charge",
        "payment_intent": order.payment_intent_id,
        "amount_refunded": 100,
        "currency": "jpy",
    }
    event = stripe_event("charge.refunded", charge)
    webhook_post(api_client, event)
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("paid", 0)
    assert WebhookEvent.objects.get(event_id=event["id"]).status == "mismatch"


@pytest.mark.parametrize(
    "metadata", [{"order_id": "not-a-uuid"}, {"order_id": 12}, {"order_id": str(uuid.uuid4())}]
)
def test_an_event_about_no_order_of_ours_is_ignored_with_the_reason(
    api_client, stripe_emulator, metadata
):
    obj = {
        "id": "pi_elsewhere",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 100,
        "amount_received": 100,
        "currency": "eur",
        "metadata": metadata,
    }
    event = stripe_event("payment_intent.succeeded", obj)
    assert webhook_post(api_client, event).status_code == 200
    logged = WebhookEvent.objects.get(event_id=event["id"])
    assert logged.status == "ignored"
    assert logged.error
