"""Returns: a buyer asks for delivered units back within the merchant's window; that
merchant (or platform staff, `merchant_id=None`) approves or rejects it, and marks it
received, which refunds those units (and restocks them in catalog if ticked).

Every step takes the order's lock, so the units a return holds (from its request until
it is rejected or refunded) are counted by every other request: two returns at once
cannot both take the last delivered unit. Stripe and catalog are asked with no row
locked (`refund_send`; the restock follows the refund's `order.refunded`)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from clipcart_shared.errors import ApplicationError, ErrorCode
from clipcart_shared.outbox.services import events_publish
from core.errors import CheckoutErrorCode
from orders.events import order_return_requested_event
from orders.models import MerchantPolicy, Order, OrderLine, OrderReturn, Refund, ReturnLine
from orders.services.after_refund import return_close
from orders.services.refunds import refund_reserve_locked, refund_send
from orders.services.status import line_fulfilment_status, order_locked, order_status_derive
from orders.services.units import LineUnits, lines_of_order, unit_share, units_refunded

logger = logging.getLogger(__name__)


def _email_after_commit(kind: str, order_return: OrderReturn) -> None:
    from orders.tasks import buyer_email

    return_id = str(order_return.id)
    transaction.on_commit(lambda: buyer_email.delay(kind, return_id))


def _not_found(what: str) -> ApplicationError:
    return ApplicationError(ErrorCode.NOT_FOUND, f"No such {what}.", status=404)


def order_return_request(
    *,
    order_id: uuid.UUID,
    user_id: str,
    lines: Sequence[LineUnits],
    reason: str,
    note: str,
    idempotency_key: str,
) -> tuple[OrderReturn, bool]:
    """The buyer's return of delivered units of one merchant's lines: (the return, whether
    it is new). The same `idempotency_key` again answers the same return (422
    `idempotency_key_reused` when it was for something else). 404 for another user's
    order or another order's line; 422 `return_not_delivered`, `return_window_closed`,
    `return_quantity_exceeds` (more than delivered less returned less held by open
    returns), `return_several_merchants`. Nothing is written on a refusal."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(id=order_id, user_id=user_id).first()
        if order is None:
            raise _not_found("order")
        asked = lines_of_order(list(order.lines.order_by("id")), lines)
        existing = OrderReturn.objects.filter(user_id=user_id, idempotency_key=idempotency_key)
        earlier = existing.prefetch_related("lines").first()
        if earlier is not None:
            same = earlier.order_id == order.id and sorted(
                (line.line_id, line.quantity) for line in earlier.lines.all()
            ) == sorted((line.id, units) for line, units in asked)
            if not same:
                raise ApplicationError(
                    ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    "This Idempotency-Key was used for another return.",
                    status=422,
                )
            return earlier, False
        merchant_ids = {line.merchant_id for line, _ in asked}
        if len(merchant_ids) > 1:
            raise ApplicationError(
                CheckoutErrorCode.RETURN_SEVERAL_MERCHANTS,
                "A return holds the lines of one shop; ask for one return per shop.",
                status=422,
            )
        _returnable_check(order, asked)
        order_return = OrderReturn.objects.create(
            order=order,
            merchant_id=merchant_ids.pop(),
            user_id=user_id,
            reason=reason,
            note=note,
            idempotency_key=idempotency_key,
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(order_return=order_return, line=line, quantity=units)
            for line, units in asked
        )
        events_publish(events=[order_return_requested_event(order_return)])
        _email_after_commit("return_requested", order_return)
    logger.info("Return requested", extra={"return_id": str(order_return.id)})
    return order_return, True


def _returnable_check(order: Order, asked: list[tuple[OrderLine, int]]) -> None:
    """Under the order's lock: every asked line delivered, within its window, and with
    that many units neither returned nor held by an open return."""
    now = timezone.now()
    if order.status not in Order.AFTER_PAYMENT or any(
        line.delivered_quantity == 0 for line, _ in asked
    ):
        raise ApplicationError(
            CheckoutErrorCode.RETURN_NOT_DELIVERED,
            "Only delivered units can be returned.",
            status=422,
        )
    if any(line.returns_close_at is None or line.returns_close_at <= now for line, _ in asked):
        raise ApplicationError(
            CheckoutErrorCode.RETURN_WINDOW_CLOSED,
            "The shop's return window for these units has closed.",
            status=422,
        )
    held = dict(
        ReturnLine.objects.filter(
            line__in=[line for line, _ in asked], order_return__status__in=OrderReturn.OPEN
        )
        .values("line")
        .annotate(units=Sum("quantity"))
        .values_list("line", "units")
    )
    returnable = {
        line.id: line.delivered_quantity - line.returned_quantity - held.get(line.id, 0)
        for line, _ in asked
    }
    exceeding = [
        {"line_id": str(line.id), "returnable": max(returnable[line.id], 0)}
        for line, units in asked
        if units > returnable[line.id]
    ]
    if exceeding:
        raise ApplicationError(
            CheckoutErrorCode.RETURN_QUANTITY_EXCEEDS,
            "More units than were delivered and are not returned or being returned.",
            status=422,
            extra={"lines": exceeding},
        )


def _return_locked(return_id: uuid.UUID, merchant_id: uuid.UUID | None) -> OrderReturn:
    """The return, its order locked first (the lock every change of the order takes);
    404 outside the merchant's scope."""
    scope = OrderReturn.objects.filter(id=return_id)
    if merchant_id is not None:
        scope = scope.filter(merchant_id=merchant_id)
    order_id = scope.values_list("order_id", flat=True).first()
    if order_id is None:
        raise _not_found("return")
    order_locked(order_id)
    return OrderReturn.objects.select_for_update().get(id=return_id)


def _state_check(order_return: OrderReturn, *expected: str) -> None:
    if order_return.status not in expected:
        raise ApplicationError(
            CheckoutErrorCode.RETURN_NOT_IN_STATE,
            f"The return is {order_return.status}; this needs it {' or '.join(expected)}.",
            status=409,
            extra={"return_status": order_return.status},
        )


def _decided(order_return: OrderReturn, status: str, by: str) -> None:
    order_return.status = status
    order_return.decided_at = timezone.now()
    order_return.decided_by = by[:160]


def order_return_approve(
    *, return_id: uuid.UUID, merchant_id: uuid.UUID | None, by: str
) -> OrderReturn:
    """Requested → approved: the buyer gets the merchant's return instructions."""
    with transaction.atomic():
        order_return = _return_locked(return_id, merchant_id)
        _state_check(order_return, OrderReturn.Status.REQUESTED)
        _decided(order_return, OrderReturn.Status.APPROVED, by)
        policy = MerchantPolicy.objects.filter(merchant_id=order_return.merchant_id).first()
        order_return.instructions = policy.return_instructions if policy else ""
        order_return.save(update_fields=["status", "decided_at", "decided_by", "instructions"])
        _email_after_commit("return_approved", order_return)
    return order_return


def order_return_reject(
    *, return_id: uuid.UUID, merchant_id: uuid.UUID | None, by: str, reason: str
) -> OrderReturn:
    """Requested → rejected, with the reason the buyer is told; its units are free
    again (`order.return_closed`)."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "Say why the return is rejected.",
            status=400,
            errors=[{"field": "reason", "code": "blank", "message": "Say why."}],
        )
    with transaction.atomic():
        order_return = _return_locked(return_id, merchant_id)
        _state_check(order_return, OrderReturn.Status.REQUESTED)
        _decided(order_return, OrderReturn.Status.REJECTED, by)
        order_return.rejection_reason = reason[:500]
        order_return.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
        return_close(order_return, status=OrderReturn.Status.REJECTED)
    return order_return


def order_return_receive(
    *,
    return_id: uuid.UUID,
    merchant_id: uuid.UUID | None,
    by: str,
    restock: bool,
    refund_shipping: bool,
) -> OrderReturn:
    """Approved → received: the units are returned, and refunded (their share; shipping
    too only when the whole merchant part has come back and `refund_shipping`); refunded
    once Stripe has given the money back, and restocked then if `restock`. A received
    return whose refund Stripe refused may be received again, to refund it again."""
    with transaction.atomic():
        order_return = _return_locked(return_id, merchant_id)
        retry = (
            order_return.status == OrderReturn.Status.RECEIVED
            and order_return.refund is not None
            and order_return.refund.status == Refund.Status.FAILED
        )
        if not retry:
            _state_check(order_return, OrderReturn.Status.APPROVED)
            _units_returned_record(order_return)
        order = Order.objects.get(id=order_return.order_id)
        refund = _return_refund_reserve(order, order_return, by, restock, refund_shipping)
        order_return.status = OrderReturn.Status.RECEIVED
        order_return.received_at = order_return.received_at or timezone.now()
        order_return.restock = restock
        order_return.refund_shipping = refund_shipping
        order_return.refund = refund
        order_return.save(
            update_fields=["status", "received_at", "restock", "refund_shipping", "refund"]
        )
        if refund is None:  # nothing left to pay back (staff refunded it already)
            return_close(order_return, status=OrderReturn.Status.REFUNDED)
    if refund is not None:
        refund_send(refund=refund, payment_intent_id=order.payment_intent_id)
    order_return.refresh_from_db()
    return order_return


def _units_returned_record(order_return: OrderReturn) -> None:
    return_lines = list(order_return.lines.select_related("line"))
    lines = []
    for return_line in return_lines:
        line = return_line.line
        line.returned_quantity += return_line.quantity
        line.fulfilment_status = line_fulfilment_status(line)
        lines.append(line)
    OrderLine.objects.bulk_update(lines, ["returned_quantity", "fulfilment_status"])


def _return_refund_reserve(
    order: Order, order_return: OrderReturn, by: str, restock: bool, refund_shipping: bool
) -> Refund | None:
    return_lines = list(order_return.lines.select_related("line"))
    whole_part_back = all(
        line.returned_quantity + line.cancelled_quantity >= line.quantity
        for line in order.lines.all()
        if line.merchant_id == order_return.merchant_id
    )
    shipping = 0
    if refund_shipping and whole_part_back:
        shipping = _merchant_shipping_share(order, order_return.merchant_id)
    refund = refund_reserve_locked(
        order=order,
        shares={
            rl.line_id: unit_share(rl.line, rl.quantity, before=units_refunded(rl.line))
            for rl in return_lines
        },
        shipping=shipping,
        units={rl.line_id: rl.quantity for rl in return_lines},
        restock=restock,
        created_by=by,
        reason=f"return {str(order_return.id)[:8]}",
    )
    if order.status in Order.AFTER_PAYMENT:
        order.status = order_status_derive(order)
        order.save(update_fields=["status", "updated_at"])
    return refund


def _merchant_shipping_share(order: Order, merchant_id: uuid.UUID) -> int:
    """The merchant's part of the order's shipping: all of it for a one-shop order; else
    in proportion to its lines' totals (the order keeps shipping as one sum)."""
    from clipcart_shared.money import allocate

    totals: dict[uuid.UUID, int] = {}
    for line in order.lines.all():
        totals[line.merchant_id] = totals.get(line.merchant_id, 0) + line.line_total_amount
    merchants = sorted(totals)
    shares = allocate(order.shipping_amount, [totals[m] for m in merchants])
    return shares[merchants.index(merchant_id)]
