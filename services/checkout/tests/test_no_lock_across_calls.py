"""No row is locked while catalog or Stripe is asked (ADR 18): another connection can lock
the order (and the webhook event) at the very moment catalog answers, and a crash between
the call and the record leaves a state that the next attempt finishes, once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from carts.models import Cart, CartLine
from carts.services import cart_lines_take
from clipcart_shared.errors import ApplicationError
from clipcart_shared.outbox.models import OutboxEvent
from core import catalog as catalog_client
from orders.models import Order
from orders.services import payment_events, stripe_events_sweep, stripe_logged_event_apply
from payments import stripe_api
from payments.models import WebhookEvent
from tests.conftest import ADDRESS, intent_object, stripe_event, webhook_post

pytestmark = pytest.mark.django_db(transaction=True)


def _lockable(table: str, column: str, value: Any) -> bool:
    """Whether another connection can lock the row right now (without waiting)."""
    answer: list[bool] = []

    def probe() -> None:
        try:
            with transaction.atomic(), connections["default"].cursor() as cursor:
                cursor.execute(
                    f"SELECT 1 FROM {table} WHERE {column} = %s FOR UPDATE NOWAIT", [value]
                )
                answer.append(cursor.fetchone() is not None)
        except DatabaseError:
            answer.append(False)
        finally:
            connections.close_all()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(30)
    return answer == [True]


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


def test_neither_the_order_nor_the_event_is_locked_while_catalog_commits_the_stock(
    api_client, order
):
    real_commit = catalog_client.reservation_commit
    event = stripe_event("payment_intent.succeeded", intent_object(order))
    seen: dict[str, Any] = {}

    def commit(**kwargs: Any) -> dict[str, Any]:
        seen["order_lockable"] = _lockable(Order._meta.db_table, "id", order.id)
        seen["event_lockable"] = _lockable(WebhookEvent._meta.db_table, "event_id", event["id"])
        seen["requested"] = Order.objects.get(id=order.id).stock_commit_requested_at
        return real_commit(**kwargs)

    with mock.patch.object(catalog_client, "reservation_commit", side_effect=commit):
        webhook_post(api_client, event)

    assert seen["order_lockable"] is True
    assert seen["event_lockable"] is True
    assert seen["requested"] is not None  # recorded and committed before catalog was asked
    order.refresh_from_db()
    assert order.status == "paid"
    assert WebhookEvent.objects.get().status == "processed"


def test_the_order_is_not_locked_while_catalog_releases_the_stock(client_for, order):
    real_release = catalog_client.reservation_release
    seen: list[bool] = []

    def release(**kwargs: Any) -> dict[str, Any]:
        seen.append(_lockable(Order._meta.db_table, "id", order.id))
        return real_release(**kwargs)

    with mock.patch.object(catalog_client, "reservation_release", side_effect=release):
        response = client_for("u1").post(f"/api/v1/orders/{order.id}/cancel/")

    assert response.status_code == 200, response.json()
    assert seen == [True]
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert OutboxEvent.objects.filter(type="order.cancelled").count() == 1


def test_a_crash_after_catalog_committed_leaves_the_order_pending_and_the_retry_pays_once(
    api_client, order, catalog, variants
):
    before = catalog.stock(variants[0]["id"])
    event = stripe_event("payment_intent.succeeded", intent_object(order))
    with mock.patch("celery.app.task.Task.delay", side_effect=OSError("broker down")):
        webhook_post(api_client, event)
    with (
        mock.patch.object(
            payment_events, "_order_paid_record", side_effect=RuntimeError("worker killed")
        ),
        pytest.raises(RuntimeError),
    ):
        stripe_logged_event_apply(event_id=event["id"])  # stopped after catalog committed

    order.refresh_from_db()
    assert (order.status, order.stock_commit_requested_at is not None) == (
        "pending_payment",
        True,
    )
    logged = WebhookEvent.objects.get()
    assert (logged.status, logged.applying_since) == ("received", None)

    assert stripe_events_sweep(older_than=timedelta(0)) == 1

    order.refresh_from_db()
    assert order.status == "paid"
    assert OutboxEvent.objects.filter(type="order.paid").count() == 1
    assert catalog.stock(variants[0]["id"]) == (before[0] - 1, before[1] - 1)


def test_an_event_another_worker_is_applying_is_left_to_it_until_its_lease_ends(api_client, order):
    event = stripe_event("payment_intent.succeeded", intent_object(order))
    with mock.patch("celery.app.task.Task.delay", side_effect=OSError("broker down")):
        webhook_post(api_client, event)
    WebhookEvent.objects.update(applying_since=timezone.now())

    assert stripe_logged_event_apply(event_id=event["id"]) == "received"
    assert Order.objects.get(id=order.id).status == "pending_payment"

    WebhookEvent.objects.update(applying_since=timezone.now() - timedelta(minutes=3))
    assert stripe_logged_event_apply(event_id=event["id"]) == "processed"
    assert Order.objects.get(id=order.id).status == "paid"


def test_stripe_failures_are_application_errors_with_their_codes():
    unavailable = stripe_api.PaymentProviderUnavailable("timed out")
    rejected = stripe_api.PaymentProviderRejected("No such customer", stripe_status=404)
    invalid = stripe_api.InvalidSignature("does not verify")

    assert all(isinstance(e, ApplicationError) for e in (unavailable, rejected, invalid))
    assert (unavailable.status, unavailable.code) == (503, "payment_provider_unavailable")
    assert (rejected.status, rejected.code, rejected.is_missing) == (
        502,
        "payment_provider_rejected",
        True,
    )
    assert stripe_api.PaymentProviderRejected("x", stripe_code="resource_missing").is_missing
    assert not stripe_api.PaymentProviderRejected("x", stripe_code="card_declined").is_missing
    assert (invalid.status, invalid.code, str(invalid)) == (
        400,
        "invalid_signature",
        "does not verify",
    )


def test_cart_lines_take_removes_only_the_lines_taken_from_that_users_cart():
    def line(cart: Cart) -> CartLine:
        return CartLine.objects.create(
            cart=cart,
            variant_id=uuid.uuid4(),
            product_id=uuid.uuid4(),
            title="T-shirt",
            quantity=1,
            unit_price_amount=1000,
            currency="EUR",
        )

    mine, theirs = Cart.objects.create(user_id="me"), Cart.objects.create(user_id="them")
    taken, kept, other = line(mine), line(mine), line(theirs)

    cart_lines_take(user_id="me", line_ids=[taken.id, other.id])

    assert set(CartLine.objects.values_list("id", flat=True)) == {kept.id, other.id}
