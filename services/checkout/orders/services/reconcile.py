"""The safety nets: ask Stripe about what a webhook may have missed (unpaid orders) or a
stopped process left (pending refunds), and finish it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.utils import timezone

from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from orders.models import Order, Refund
from orders.payment_match import payment_intent_check
from orders.services.payment_events import order_payment_cancelled, order_payment_succeeded
from orders.services.refunds import REFUND_PENDING_TIMEOUT, refund_fail, refund_succeed
from payments import stripe_api

RECONCILE_TASK = "orders.payments_reconcile"
REFUNDS_RECONCILE_TASK = "orders.refunds_reconcile"


def payments_reconcile(*, older_than: timedelta = timedelta(minutes=3)) -> int:
    """Ask Stripe about unpaid orders a webhook may have missed, and apply what it says
    (when it matches the order) through the same functions the webhook uses, each order
    on its own. Returns how many orders changed."""
    stale = (
        Order.objects.filter(
            status=Order.Status.PENDING_PAYMENT, created_at__lt=timezone.now() - older_than
        )
        .exclude(id__in=rows_backed_off(task=RECONCILE_TASK))
        .values_list("id", flat=True)
    )
    changed = rows_each(
        task=RECONCILE_TASK,
        rows=list(stale[:500]),
        handle=lambda order_id: _payment_reconcile(order_id=order_id),
    )
    return sum(changed)


def _payment_reconcile(*, order_id: uuid.UUID) -> bool:
    order = Order.objects.get(id=order_id)
    try:
        intent = stripe_api.payment_intent_retrieve(payment_intent_id=order.payment_intent_id)
    except (stripe_api.PaymentProviderUnavailable, stripe_api.PaymentProviderRejected):
        return False  # asked again next run
    if intent.get("status") == "succeeded":
        payment_intent_check(order=order, intent=intent)
        order_payment_succeeded(order_id=order_id)
        return True
    if intent.get("status") == "canceled":
        payment_intent_check(order=order, intent=intent)
        order_payment_cancelled(order_id=order_id, reason="payment cancelled")
        return True
    return False


def refunds_reconcile(*, older_than: timedelta = REFUND_PENDING_TIMEOUT) -> int:
    """Finish refunds left pending (a process stopped after reserving, or Stripe was
    unreachable): ask Stripe again with the same idempotency key (it answers with the
    refund it made, or makes it now, once), each refund on its own. Refused → failed;
    unreachable → tried again next time. Returns how many were finished."""
    stale = (
        Refund.objects.filter(
            status=Refund.Status.PENDING, created_at__lt=timezone.now() - older_than
        )
        .exclude(id__in=rows_backed_off(task=REFUNDS_RECONCILE_TASK))
        .values_list("id", "order__payment_intent_id", "amount")
    )
    finished = rows_each(
        task=REFUNDS_RECONCILE_TASK,
        rows=list(stale[:500]),
        handle=lambda row: _refund_reconcile(*row),
        key=lambda row: row[0],
    )
    return sum(finished)


def _refund_reconcile(refund_id: uuid.UUID, payment_intent_id: str, amount: int) -> bool:
    try:
        stripe_refund_id = stripe_api.refund_create(
            payment_intent_id=payment_intent_id, amount=amount, refund_key=str(refund_id)
        )
    except stripe_api.PaymentProviderUnavailable:
        return False
    except stripe_api.PaymentProviderRejected as error:
        refund_fail(refund_id=refund_id, failure=f"Stripe refused: {error}")
    else:
        refund_succeed(refund_id=refund_id, stripe_refund_id=stripe_refund_id)
    return True
