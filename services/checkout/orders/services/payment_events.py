"""What Stripe's word about a payment does to an order: paid (its stock committed at
catalog), declined, cancelled (its stock released), disputed. No catalog call is made
while the order's row is locked: the intent is recorded, the call made, the answer
recorded in a second short transaction (each step idempotent, so a retry finishes it)."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clipcart_shared.errors import ApplicationError, ErrorCode
from clipcart_shared.outbox.services import events_publish
from core import catalog
from orders.emails import order_unwanted_payment_email
from orders.events import order_paid_event, order_refunded_event
from orders.models import Order, Refund
from orders.selectors import order_refundable_amount
from orders.services.ledger import order_capture_post
from orders.services.refunds import order_refund
from orders.services.status import (
    STOCK_GONE,
    order_cancelled_record,
    order_locked,
    order_status_derive,
)

logger = logging.getLogger(__name__)


def order_payment_succeeded(*, order_id: uuid.UUID) -> Order:
    """The PaymentIntent succeeded (a webhook or reconciliation that checked it matches
    the order). Pending → paid, stock committed, `order.paid` published; already paid →
    nothing. Its stock gone (the hold lapsed and the units sold: catalog's 409) → the
    order is cancelled and the money goes back; cancelled meanwhile → the same refund.

    The commit is asked of catalog between two short transactions: the first records
    `stock_commit_requested_at`, the second the answer. Catalog unavailable raises and
    leaves the order pending, for the webhook's retry or `payments_reconcile` to finish
    (catalog commits a reservation once, however often it is asked)."""
    with transaction.atomic():
        order = order_locked(order_id)
        if order.status == Order.Status.PENDING_PAYMENT and not order.stock_commit_requested_at:
            order.stock_commit_requested_at = timezone.now()
            order.save(update_fields=["stock_commit_requested_at", "updated_at"])
    if order.status == Order.Status.PENDING_PAYMENT:
        stock_gone: ApplicationError | None = None
        try:
            catalog.reservation_commit(reservation_id=order.reservation_id)
        except ApplicationError as error:
            # Catalog unavailable, or the same commit still running there (no lock holds
            # concurrent appliers back now): the caller retries later.
            if error.status != 409 or error.code == ErrorCode.REQUEST_IN_PROGRESS:
                raise
            stock_gone = error
        with transaction.atomic():
            order = order_locked(order_id)
            if order.status == Order.Status.PENDING_PAYMENT:
                if stock_gone is not None:
                    logger.warning(
                        "Paid, but the stock is gone: cancelling and refunding",
                        extra={"order_id": str(order.id), "catalog_code": stock_gone.code},
                    )
                    order_cancelled_record(order, reason=STOCK_GONE)
                else:
                    return _order_paid_record(order)
    if order.status != Order.Status.CANCELLED:
        return order
    return _refund_unwanted_payment(order)


def _order_paid_record(order: Order) -> Order:
    """The (locked, pending) order's stock is committed: it is paid (and its capture
    posted to the ledger)."""
    order.paid_at = timezone.now()
    # A refund recorded before the payment (out-of-order events) still counts.
    order.status = order_status_derive(order)
    order.save(update_fields=["status", "paid_at", "updated_at"])
    events = [order_paid_event(order)]
    events += [
        order_refunded_event(order, refund)
        for refund in order.refunds.filter(status=Refund.Status.SUCCEEDED)
    ]
    events_publish(events=events)
    order_capture_post(order)
    logger.info("Order paid", extra={"order_id": str(order.id)})
    return order


def _refund_unwanted_payment(order: Order) -> Order:
    """Money paid for a cancelled order goes back, once: what is left to refund beside
    pending refunds (a redelivered event finds nothing left). The buyer is told by email.
    Stripe unreachable leaves the refund pending; `refunds_reconcile` finishes it."""
    remaining = order_refundable_amount(order=order, lines=None)
    if remaining <= 0:
        return order
    stock_gone = order.cancellation_reason == STOCK_GONE
    try:
        order = order_refund(
            order=order,
            amount=remaining,
            created_by="system:stock-gone" if stock_gone else "system:paid-after-cancel",
            reason="Paid after its stock was sold" if stock_gone else "Paid after cancelling",
        )
    except ApplicationError as error:
        if error.status != 503:
            raise
        order = Order.objects.get(id=order.id)
    order_unwanted_payment_email(order=order, amount=remaining)
    return order


def order_payment_failed(*, order_id: uuid.UUID, message: str) -> None:
    """A declined card: recorded; the order stays payable until it expires."""
    Order.objects.filter(id=order_id, status=Order.Status.PENDING_PAYMENT).update(
        payment_failures=F("payment_failures") + 1, last_payment_error=message[:500]
    )


def order_payment_cancelled(*, order_id: uuid.UUID, reason: str) -> Order:
    """The PaymentIntent is cancelled: the order's stock is released at catalog (no row
    locked meanwhile), then the order is cancelled, if it is still pending. Catalog
    unavailable raises with the order unchanged (a release is idempotent: retried)."""
    order = Order.objects.get(id=order_id)
    if order.status != Order.Status.PENDING_PAYMENT:
        return order
    catalog.reservation_release(reservation_id=order.reservation_id)
    with transaction.atomic():
        order = order_locked(order_id)
        if order.status == Order.Status.PENDING_PAYMENT:
            order_cancelled_record(order, reason=reason)
    return order


def order_dispute_opened(*, order_id: uuid.UUID) -> None:
    """A dispute was opened on the order's charge: flagged for staff."""
    Order.objects.filter(id=order_id).update(is_disputed=True)
    logger.warning("Dispute opened", extra={"order_id": str(order_id)})
