"""A buyer cancelling paid units that have not shipped: recorded and refunded at once,
their stock given back to catalog once the refund succeeds (`orders.services.restock`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.db import transaction

from clipcart_shared.errors import ApplicationError, ErrorCode
from core.errors import CheckoutErrorCode
from orders.models import Order, OrderLine, Refund
from orders.services.after_refund import CANCEL_CREATOR_PREFIX
from orders.services.expiry import order_cancel
from orders.services.refunds import refund_reserve_locked, refund_send
from orders.services.status import line_fulfilment_status, order_locked
from orders.services.units import LineUnits, lines_of_order, unit_share, units_refunded

logger = logging.getLogger(__name__)

CANCEL_REASON = "cancelled by the buyer"


def order_buyer_cancel(
    *, order_id: uuid.UUID, user_id: str, lines: Sequence[LineUnits] | None = None
) -> Order:
    """The buyer's cancel. Unpaid: the whole order (`order_cancel`). Paid: `lines`
    ({line_id, quantity}; default every unit) of what has not shipped — checked and
    recorded under the order's lock with a pending refund of those units' share
    (shipping too when nothing is left of the order), then refunded on Stripe with no row
    locked. 422 `cancel_quantity_exceeds` (more than is left unshipped; nothing written),
    404 for a line of another order, 409 `order_not_cancellable` when nothing is left."""
    order = Order.objects.filter(id=order_id, user_id=user_id).first()
    if order is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "No such order.", status=404)
    if order.status == Order.Status.PENDING_PAYMENT:
        return order_cancel(order_id=order.id, reason=CANCEL_REASON)
    refund = _cancel_record(order_id=order.id, user_id=user_id, lines=lines)
    if refund is None:
        return Order.objects.get(id=order_id)
    return refund_send(refund=refund, payment_intent_id=order.payment_intent_id)


def _cancel_record(
    *, order_id: uuid.UUID, user_id: str, lines: Sequence[LineUnits] | None
) -> Refund | None:
    from orders.tasks import buyer_email

    with transaction.atomic():
        order = order_locked(order_id)
        if order.status not in Order.AFTER_PAYMENT:
            raise ApplicationError(
                CheckoutErrorCode.ORDER_NOT_CANCELLABLE,
                f"The order is {order.status}; nothing is left to cancel.",
                status=409,
            )
        all_lines = list(order.lines.order_by("id"))
        wanted = _units_wanted(all_lines, lines)
        if not wanted:
            raise ApplicationError(
                CheckoutErrorCode.ORDER_NOT_CANCELLABLE,
                "Every unit of this order has shipped or was cancelled; nothing is left "
                "to cancel (ask for a return once it is delivered).",
                status=409,
            )
        by_id = {line.id: line for line in all_lines}
        for line_id, units in wanted.items():
            line = by_id[line_id]
            line.cancelled_quantity += units
            line.fulfilment_status = line_fulfilment_status(line)
        OrderLine.objects.bulk_update(
            [by_id[line_id] for line_id in wanted], ["cancelled_quantity", "fulfilment_status"]
        )
        everything_cancelled = all(line.cancelled_quantity == line.quantity for line in all_lines)
        refund = refund_reserve_locked(
            order=order,
            shares={
                line_id: unit_share(by_id[line_id], n, before=units_refunded(by_id[line_id]))
                for line_id, n in wanted.items()
            },
            shipping=order.shipping_amount if everything_cancelled else 0,
            units=wanted,
            restock=True,
            created_by=f"{CANCEL_CREATOR_PREFIX}{user_id}",
            reason=CANCEL_REASON,
        )
        cancelled = {str(line_id): units for line_id, units in wanted.items()}
        transaction.on_commit(
            lambda: buyer_email.delay("lines_cancelled", str(order_id), cancelled)
        )
    logger.info(
        "Paid units cancelled",
        extra={"order_id": str(order_id), "units": sum(wanted.values())},
    )
    return refund


def _units_wanted(
    all_lines: list[OrderLine], lines: Sequence[LineUnits] | None
) -> dict[uuid.UUID, int]:
    """{line id: units} to cancel: as asked (each at most what is left unshipped), or
    every unit left unshipped."""
    if lines is None:
        return {
            line.id: left
            for line in all_lines
            if (left := line.quantity - line.cancelled_quantity - line.shipped_quantity) > 0
        }
    asked = lines_of_order(all_lines, lines)
    exceeding = [
        {"line_id": str(line.id), "cancellable": left}
        for line, units in asked
        if units > (left := line.quantity - line.cancelled_quantity - line.shipped_quantity)
    ]
    if exceeding:
        raise ApplicationError(
            CheckoutErrorCode.CANCEL_QUANTITY_EXCEEDS,
            "Only units that have not shipped can be cancelled; nothing was cancelled.",
            status=422,
            extra={"lines": exceeding},
        )
    return {line.id: units for line, units in asked}
