"""Refunds made here: the amount is held by a pending refund before Stripe is asked, so
refunds at the same moment never give back more than was paid, on Stripe or here."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import stripe_client
from clipcart_tools.testing.services import free_port
from orders import services
from orders.models import Order, Refund
from orders.selectors import order_refundable_amount
from orders.services import refunds
from payments import stripe_api
from tests.conftest import STRIPE_KEY, intent_object, stripe_event, webhook_post
from tests.test_webhooks_and_orders import (  # noqa: F401 (the `order` fixture)
    _pay_on_the_emulator,
    order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(api_client, order: Order, stripe_emulator: str) -> Order:  # noqa: F811
    _pay_on_the_emulator(stripe_emulator, order)
    webhook_post(api_client, stripe_event("payment_intent.succeeded", intent_object(order)))
    order.refresh_from_db()
    assert order.status == "paid"
    return order


def _stripe_refunds(emulator: str, of: Order) -> list[int]:
    refunds = stripe_client(emulator, STRIPE_KEY).v1.refunds.list(
        {"payment_intent": of.payment_intent_id}
    )
    return sorted(refund.amount for refund in refunds.data)


def _refund_everything(of: Order, by: str) -> Order:
    return services.order_refund(
        order=Order.objects.get(id=of.id), amount=of.total_amount, created_by=by
    )


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_admins_refunding_the_whole_order_at_once_refund_it_once_on_stripe_and_here(
    paid_order, stripe_emulator
):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund(by: str) -> None:
        try:
            barrier.wait()
            _refund_everything(paid_order, by)
            outcomes.append("refunded")
        except ApplicationError as error:
            outcomes.append(f"{error.status} {error.code}")
        except Exception as error:  # anything else fails the assertion below, named
            outcomes.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refund, args=(f"admin:{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # Whether the second waited on the first's lock or came after it finished, it is
    # told that nothing is left.
    assert sorted(outcomes) == ["422 refund_too_large", "refunded"]
    assert _stripe_refunds(stripe_emulator, paid_order) == [paid_order.total_amount]
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.refunded_amount) == ("refunded", paid_order.total_amount)
    assert list(Refund.objects.values_list("status", "amount")) == [
        ("succeeded", paid_order.total_amount)
    ]
    assert sum(paid_order.lines.values_list("refunded_amount", flat=True)) == sum(
        paid_order.lines.values_list("line_total_amount", flat=True)
    )
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 1


def test_a_refund_asked_while_another_waits_on_stripe_is_refused_before_stripe(
    paid_order, stripe_emulator
):
    # The competing refund runs at the exact point the first one is at Stripe.
    real_refund_create = stripe_api.refund_create
    competing: list[ApplicationError] = []

    def refund_create_with_a_competitor(**kwargs: object) -> str:
        with pytest.raises(ApplicationError) as refused:
            _refund_everything(paid_order, "admin:second")
        competing.append(refused.value)
        return real_refund_create(**kwargs)  # type: ignore[arg-type]

    with mock.patch.object(
        stripe_api, "refund_create", side_effect=refund_create_with_a_competitor
    ) as refund_create:
        _refund_everything(paid_order, "admin:first")

    ((error,),) = [competing]
    assert (error.status, error.code) == (422, "refund_too_large")
    assert refund_create.call_count == 1
    assert _stripe_refunds(stripe_emulator, paid_order) == [paid_order.total_amount]
    refund = Refund.objects.get()
    assert (refund.status, refund.created_by) == ("succeeded", "admin:first")
    assert refund.stripe_refund_id.startswith("re_")
    assert refund_create.call_args.kwargs["refund_key"] == str(refund.id)


def test_with_stripe_down_the_refund_stays_pending_and_reconciliation_makes_it_once(
    paid_order, stripe_emulator, settings
):
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(ApplicationError) as refused:
        _refund_everything(paid_order, "admin:first")

    # A timeout may have reached Stripe: neither made nor failed, the amount stays held.
    assert (refused.value.status, refused.value.code) == (503, "payment_provider_unavailable")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.refunded_amount) == ("paid", 0)
    pending = Refund.objects.get()
    assert (pending.status, pending.stripe_refund_id) == ("pending", "")
    assert order_refundable_amount(order=paid_order, lines=None) == 0
    with pytest.raises(ApplicationError) as again:
        _refund_everything(paid_order, "admin:again")
    assert again.value.code == "refund_too_large"
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 0

    settings.STRIPE_API_BASE = stripe_emulator
    assert services.refunds_reconcile(older_than=timedelta(0)) == 1

    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.refunded_amount) == ("refunded", paid_order.total_amount)
    assert Refund.objects.get().status == "succeeded"
    assert _stripe_refunds(stripe_emulator, paid_order) == [paid_order.total_amount]
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 1


def test_stripes_refund_webhook_arriving_while_ours_is_pending_records_nothing_more(
    api_client, paid_order, stripe_emulator
):
    real_refund_create = stripe_api.refund_create
    charge = {
        "id": "ch_pending",
        "object": "charge",
        "payment_intent": paid_order.payment_intent_id,
        "currency": paid_order.currency.lower(),
        "amount_refunded": paid_order.total_amount,
    }

    def refund_create_then_webhook(**kwargs: object) -> str:
        stripe_refund_id = real_refund_create(**kwargs)  # type: ignore[arg-type]
        assert webhook_post(api_client, stripe_event("charge.refunded", charge)).status_code == 200
        return stripe_refund_id

    with mock.patch.object(stripe_api, "refund_create", side_effect=refund_create_then_webhook):
        _refund_everything(paid_order, "admin:first")
    webhook_post(api_client, stripe_event("charge.refunded", charge))  # and once more, after

    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.refunded_amount) == ("refunded", paid_order.total_amount)
    refund = Refund.objects.get()
    assert (refund.status, refund.created_by) == ("succeeded", "admin:first")
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 1


def test_a_refund_made_in_stripes_dashboard_is_recorded_beside_a_pending_one(
    api_client, paid_order
):
    held = refunds._refund_reserve(
        order_id=paid_order.id, amount=100, line_ids=None, created_by="admin:a", reason=""
    )
    charge = {
        "id": "ch_dashboard",
        "object": "charge",
        "payment_intent": paid_order.payment_intent_id,
        "currency": paid_order.currency.lower(),
        "amount_refunded": 300,  # ours (100, not recorded yet) and 200 from the dashboard
    }
    webhook_post(api_client, stripe_event("charge.refunded", charge))

    paid_order.refresh_from_db()
    assert paid_order.refunded_amount == 200
    assert sorted(Refund.objects.values_list("status", "amount", "created_by")) == [
        ("pending", 100, "admin:a"),
        ("succeeded", 200, "stripe"),
    ]
    assert order_refundable_amount(order=paid_order, lines=None) == paid_order.total_amount - 300
    held.refresh_from_db()
    assert held.status == "pending"


def test_a_refund_left_pending_by_a_stopped_process_is_finished_once_by_reconciliation(
    paid_order, stripe_emulator
):
    held = refunds._refund_reserve(
        order_id=paid_order.id, amount=150, line_ids=None, created_by="admin:a", reason=""
    )
    assert services.refunds_reconcile() == 0  # not stale yet: its request may be under way
    Refund.objects.filter(id=held.id).update(created_at=timezone.now() - timedelta(minutes=11))

    assert services.refunds_reconcile() == 1
    assert services.refunds_reconcile() == 0

    held.refresh_from_db()
    assert held.status == "succeeded"
    assert held.stripe_refund_id.startswith("re_")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.refunded_amount) == ("partially_refunded", 150)
    assert _stripe_refunds(stripe_emulator, paid_order) == [150]
