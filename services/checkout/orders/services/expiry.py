"""Cancelling an unpaid order: asked for (the buyer), or when its reservation lapsed."""

from __future__ import annotations

import uuid

from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core.errors import CheckoutErrorCode
from orders.models import Order
from orders.payment_match import payment_intent_check
from orders.services.payment_events import order_payment_cancelled, order_payment_succeeded
from payments import stripe_api

EXPIRE_TASK = "orders.orders_expire"


def order_cancel(*, order_id: uuid.UUID, reason: str) -> Order:
    """Cancel an unpaid order: void its PaymentIntent, release its stock, publish
    `order.cancelled`. If the payment went through meanwhile, the order is paid instead.
    409 `order_not_cancellable` for an order no longer pending."""
    order = Order.objects.get(id=order_id)
    if order.status != Order.Status.PENDING_PAYMENT:
        raise ApplicationError(
            CheckoutErrorCode.ORDER_NOT_CANCELLABLE,
            f"The order is {order.status}; only unpaid orders can be cancelled.",
            status=409,
        )
    try:
        intent = stripe_api.payment_intent_cancel(payment_intent_id=order.payment_intent_id)
    except stripe_api.PaymentProviderRejected:
        intent = stripe_api.payment_intent_retrieve(payment_intent_id=order.payment_intent_id)
    except stripe_api.PaymentProviderUnavailable as error:
        raise ApplicationError(
            CheckoutErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            "Payments cannot be reached; the order is unchanged. Try again.",
            status=503,
        ) from error
    if intent.get("status") == "succeeded":
        payment_intent_check(order=order, intent=intent)
        return order_payment_succeeded(order_id=order.id)
    return order_payment_cancelled(order_id=order.id, reason=reason)


def orders_expire(*, batch_size: int = 200) -> int:
    """Cancel unpaid orders whose reservation has lapsed, each on its own: one that
    fails is logged and backed off, the others are still cancelled."""
    due = (
        Order.objects.filter(status=Order.Status.PENDING_PAYMENT, expires_at__lt=timezone.now())
        .exclude(id__in=rows_backed_off(task=EXPIRE_TASK))
        .values_list("id", flat=True)
    )
    orders = rows_each(
        task=EXPIRE_TASK,
        rows=list(due[:batch_size]),
        handle=lambda order_id: order_cancel(order_id=order_id, reason="expired"),
    )
    return sum(order.status == Order.Status.CANCELLED for order in orders)
