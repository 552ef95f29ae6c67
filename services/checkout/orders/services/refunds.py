"""Refunds: made here (staff; an unwanted payment) and asked of Stripe, or made in
Stripe's dashboard and recorded here. An amount is held under the order's lock before
Stripe is asked, and Stripe is never asked while a row is locked."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.money import allocate
from clipcart_shared.outbox.services import events_publish
from core.errors import CheckoutErrorCode
from orders.events import order_refunded_event
from orders.models import Order, OrderLine, Refund
from orders.selectors import order_lines_refundable, order_refundable_amount
from orders.services.after_refund import cancel_undo, return_refunded_record
from orders.services.ledger import refund_post
from orders.services.status import order_locked, order_status_derive
from payments import stripe_api

logger = logging.getLogger(__name__)


# A refunded order is checked like the others: 422, nothing left (not "nothing paid").
REFUNDABLE_STATUSES = (*Order.AFTER_PAYMENT, Order.Status.REFUNDED, Order.Status.CANCELLED)
# A pending refund older than this was left by a process that stopped between asking
# Stripe and recording the answer (Stripe calls time out well before): ask again.
REFUND_PENDING_TIMEOUT = timedelta(minutes=10)


def order_refund(
    *,
    order: Order,
    amount: int,
    created_by: str,
    line_ids: list[uuid.UUID] | None = None,
    reason: str = "",
    stripe_refund_id: str | None = None,
    restock_units: dict[uuid.UUID, int] | None = None,
) -> Order:
    """Give money back: on Stripe (unless `stripe_refund_id` says it already happened
    there), recorded per line, reflected in the order's status, `order.refunded`
    published. 422 `refund_too_large`, 409 `order_not_refundable`, 503
    `payment_provider_unavailable`; Stripe's refusal is raised as
    `stripe_api.PaymentProviderRejected` (502 `payment_provider_rejected`).

    The amount is reserved first (a pending refund, written under the order's lock and
    counted by every later check), so refunds made at the same moment can never together
    give back more than is left, on Stripe or here. Stripe refusing marks the refund
    failed, which frees the amount again; Stripe unreachable (a timeout, a 5xx) leaves it
    pending, to be asked again with the same key by `refunds_reconcile`.

    `restock_units` ({line id: units}, staff's "restock these units"): once the refund
    succeeds, those units go back to stock in catalog (`orders.services.restock`)."""
    if stripe_refund_id is not None:
        return _refund_record(
            order_id=order.id,
            amount=amount,
            created_by=created_by,
            reason=reason,
            stripe_refund_id=stripe_refund_id,
            line_ids=line_ids,
        )
    refund = _refund_reserve(
        order_id=order.id,
        amount=amount,
        line_ids=line_ids,
        created_by=created_by,
        reason=reason,
        restock_units=restock_units,
    )
    return refund_send(refund=refund, payment_intent_id=order.payment_intent_id)


def refund_send(*, refund: Refund, payment_intent_id: str) -> Order:
    """Ask Stripe for a pending (committed) refund and record its answer; no row is
    locked here. The errors are `order_refund`'s."""
    amount = refund.amount
    try:
        stripe_refund_id = stripe_api.refund_create(
            payment_intent_id=payment_intent_id, amount=amount, refund_key=str(refund.id)
        )
    except stripe_api.PaymentProviderUnavailable as error:
        # A timeout may have reached Stripe: neither made nor failed. The refund stays
        # pending (its amount held) and `refunds_reconcile` asks again with the same key.
        logger.warning(
            "Stripe unreachable during a refund; it stays pending",
            extra={"refund_id": str(refund.id), "error": str(error)},
        )
        raise ApplicationError(
            CheckoutErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            "Payments cannot be reached. The refund is pending and is retried "
            "automatically; nothing more needs doing.",
            status=503,
        ) from error
    except stripe_api.PaymentProviderRejected as error:
        refund_fail(refund_id=refund.id, failure=f"Stripe refused: {error}")
        raise
    return refund_succeed(refund_id=refund.id, stripe_refund_id=stripe_refund_id)


def _refund_reserve(
    *,
    order_id: uuid.UUID,
    amount: int,
    line_ids: list[uuid.UUID] | None,
    created_by: str,
    reason: str,
    restock_units: dict[uuid.UUID, int] | None = None,
) -> Refund:
    """Check and hold `amount` in one short transaction under the order's lock: a pending
    refund with its share of each line. Committed before Stripe is asked."""
    with transaction.atomic():
        order = order_locked(order_id)
        if order.status not in REFUNDABLE_STATUSES:
            raise ApplicationError(
                CheckoutErrorCode.ORDER_NOT_REFUNDABLE,
                f"The order is {order.status}; nothing was paid to refund.",
                status=409,
            )
        lines = _order_lines(order, line_ids)
        lines_refundable = order_lines_refundable(order=order, lines=lines)
        refundable = (
            order_refundable_amount(order=order, lines=None)
            if line_ids is None
            else sum(lines_refundable)
        )
        if not 0 < amount <= refundable:
            raise ApplicationError(
                CheckoutErrorCode.REFUND_TOO_LARGE,
                f"At most {max(refundable, 0)} can be refunded here.",
                status=422,
            )
        return Refund.objects.create(
            order=order,
            status=Refund.Status.PENDING,
            amount=amount,
            lines=_line_shares(lines, lines_refundable, amount),
            units={str(line_id): units for line_id, units in (restock_units or {}).items()},
            restock=bool(restock_units),
            reason=reason,
            created_by=created_by,
        )


def refund_reserve_locked(
    *,
    order: Order,
    shares: dict[uuid.UUID, int],
    shipping: int,
    units: dict[uuid.UUID, int],
    restock: bool,
    created_by: str,
    reason: str,
) -> Refund | None:
    """A pending refund of exactly `shares` of these lines plus `shipping`, for `units`
    (a buyer's cancel, a received return), in the caller's transaction: the caller holds
    the order's lock and has checked the units. Each share is capped by what is left on
    its line beside pending refunds. None when nothing is left to give back (staff
    refunded it already)."""
    lines = [line for line in order.lines.order_by("id") if line.id in shares]
    left = order_lines_refundable(order=order, lines=lines)
    capped = {
        str(line.id): min(shares[line.id], max(room, 0))
        for line, room in zip(lines, left, strict=True)
    }
    shipping_left = order_refundable_amount(order=order, lines=None) - sum(
        order_lines_refundable(order=order, lines=list(order.lines.all()))
    )
    amount = sum(capped.values()) + min(shipping, max(shipping_left, 0))
    if amount <= 0:
        return None
    return Refund.objects.create(
        order=order,
        status=Refund.Status.PENDING,
        amount=amount,
        lines={line_id: share for line_id, share in capped.items() if share},
        units={str(line_id): count for line_id, count in units.items()},
        restock=restock,
        reason=reason,
        created_by=created_by,
    )


def _order_lines(order: Order, line_ids: list[uuid.UUID] | None) -> list[OrderLine]:
    wanted = None if line_ids is None else set(line_ids)
    return [line for line in order.lines.order_by("id") if wanted is None or line.id in wanted]


def _line_shares(lines: list[OrderLine], refundable: list[int], amount: int) -> dict[str, int]:
    """A refund's share of each line, {line id: amount}: as much of `amount` as the lines
    have left, in proportion to what each has left (largest remainder)."""
    shares = allocate(min(amount, sum(refundable)), refundable)
    return {str(line.id): share for line, share in zip(lines, shares, strict=True) if share}


def refund_succeed(*, refund_id: uuid.UUID, stripe_refund_id: str) -> Order:
    """Stripe gave the pending refund back: apply its reserved shares to the lines and
    the order, publish `order.refunded`. Once only: a refund no longer pending is left."""
    with transaction.atomic():
        order = order_locked(Refund.objects.values_list("order_id", flat=True).get(id=refund_id))
        refund = Refund.objects.select_for_update().get(id=refund_id)
        if refund.status != Refund.Status.PENDING:
            return order
        refund.status = Refund.Status.SUCCEEDED
        refund.stripe_refund_id = stripe_refund_id
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "stripe_refund_id", "completed_at"])
        _refund_apply(order, refund)
        return_refunded_record(refund)
    logger.info(
        "Order refunded",
        extra={"order_id": str(order.id), "refund_id": str(refund.id), "amount": refund.amount},
    )
    return order


def refund_fail(*, refund_id: uuid.UUID, failure: str) -> None:
    """Stripe gave nothing back: the pending refund's amount is free again (and a
    buyer's cancel of its units is undone: they were not paid back)."""
    with transaction.atomic():
        order = order_locked(Refund.objects.values_list("order_id", flat=True).get(id=refund_id))
        failed = Refund.objects.filter(id=refund_id, status=Refund.Status.PENDING).update(
            status=Refund.Status.FAILED, failure=failure[:300], completed_at=timezone.now()
        )
        if failed:
            cancel_undo(order, Refund.objects.get(id=refund_id))
    logger.warning("Refund failed", extra={"refund_id": str(refund_id), "failure": failure})


def _refund_record(
    *,
    order_id: uuid.UUID,
    amount: int,
    created_by: str,
    reason: str,
    stripe_refund_id: str,
    line_ids: list[uuid.UUID] | None = None,
) -> Order:
    """A refund Stripe already made (its dashboard; `order_charge_refunded` works out the
    amount): recorded at once, over what the lines have left beside pending refunds."""
    with transaction.atomic():
        order = order_locked(order_id)
        lines = _order_lines(order, line_ids)
        refund = Refund.objects.create(
            order=order,
            status=Refund.Status.SUCCEEDED,
            amount=amount,
            lines=_line_shares(lines, order_lines_refundable(order=order, lines=lines), amount),
            stripe_refund_id=stripe_refund_id,
            reason=reason,
            created_by=created_by,
            completed_at=timezone.now(),
        )
        _refund_apply(order, refund)
    logger.info("Order refunded", extra={"order_id": str(order.id), "amount": amount})
    return order


def _refund_apply(order: Order, refund: Refund) -> None:
    """Add a succeeded refund to its lines and its (locked) order; `order.refunded` once
    the order is paid (a refund before the payment is published with `order.paid`); its
    ledger entry (and a reversal of a transfer made already)."""
    lines = list(order.lines.filter(id__in=list(refund.lines)))
    for line in lines:
        line.refunded_amount = min(
            line.line_total_amount, line.refunded_amount + refund.lines[str(line.id)]
        )
    OrderLine.objects.bulk_update(lines, ["refunded_amount"])
    order.refunded_amount = min(order.total_amount, order.refunded_amount + refund.amount)
    if order.status in Order.AFTER_PAYMENT:
        order.status = order_status_derive(order)
        events_publish(events=[order_refunded_event(order, refund)])
    order.save(update_fields=["refunded_amount", "status", "updated_at"])
    refund_post(order, refund)


def order_charge_refunded(*, order_id: uuid.UUID, amount_refunded: int) -> Order:
    """Stripe says the charge has `amount_refunded` refunded in all. What clipcart did
    not record yet (a refund made in Stripe's dashboard) is recorded now; the rest was
    recorded when we refunded, or is a pending refund of ours that Stripe made and we
    are about to record. Works before the payment event too."""
    with transaction.atomic():
        order = order_locked(order_id)
        # Refunded here or held by a pending refund of ours: the total less what is left.
        accounted = order.total_amount - order_refundable_amount(order=order, lines=None)
        missing = min(amount_refunded, order.total_amount) - accounted
        if missing <= 0:
            return order
        return _refund_record(
            order_id=order.id,
            amount=missing,
            created_by="stripe",
            reason="Refunded in Stripe",
            stripe_refund_id="",
        )
