"""Forged webhooks against the real stack: events signed with the webhook secret but
naming another PaymentIntent, or an amount or currency that is not the order's, reach
checkout's gunicorn and its worker and never mark the order paid; the real payment
afterwards does, once."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_journey import _checkout

pytestmark = pytest.mark.e2e

# The embedded run's webhook secret (infra/Procfile, checkout's settings): published in
# this repository, which is why production refuses it.
LOCAL_WEBHOOK_SECRET = "whsec_clipcart_local"


def _deliver(stack: RunningStack, event: dict) -> requests.Response:
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    signature = hmac.new(
        LOCAL_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return requests.post(
        f"{stack.endpoints.checkout}/api/v1/webhooks/stripe/",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
        },
        timeout=10,
    )


def _succeeded(order: dict, **changes: object) -> dict:
    total = order["total"]
    intent = {
        "id": order["payment_intent_id"],
        "object": "payment_intent",
        "status": "succeeded",
        "amount": total["amount"],
        "amount_received": total["amount"],
        "currency": total["currency"].lower(),
        "metadata": {"order_id": order["id"]},
        **changes,
    }
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": intent},
    }


def test_signed_events_that_do_not_match_the_order_never_pay_it_and_the_real_payment_does(
    stack: RunningStack,
):
    journey = stack.journey()
    user = "e2e-forger"
    checkout = _checkout(journey, user)
    order = {
        **checkout["order"],
        "payment_intent_id": checkout["payment"]["client_secret"].split("_secret_")[0],
    }
    total = order["total"]["amount"]
    forged = [
        _succeeded(order, id=f"pi_{uuid.uuid4().hex[:24]}"),
        _succeeded(order, amount=total - 1, amount_received=total - 1),
        _succeeded(order, currency="jpy"),
        _succeeded(order, status="processing"),
    ]
    for event in forged:
        assert _deliver(stack, event).status_code == 200

    # The worker has looked at every one of them: each is a mismatch, nothing applied.
    statement = "SELECT event_id, status FROM payments_webhookevent WHERE event_id = ANY(%s)"
    ids = [event["id"] for event in forged]
    journey.wait(
        "the forged events to be looked at",
        lambda: (
            sorted(status for _, status in stack.query("checkout", statement, ids))
            == ["mismatch"] * 4
        ),
        timeout=60,
    )
    assert journey.order(user, order["id"])["status"] == "pending_payment"

    assert journey.pay(checkout) == "succeeded"
    assert journey.wait_for_status(user, order["id"], "paid")
    paid = stack.query(
        "checkout",
        "SELECT count(*) FROM outbox_outboxevent WHERE type = 'order.paid' AND subject = %s",
        order["id"],
    )
    assert paid == [(1,)]
