"""Checkout and the life of an order: create (reserve, PaymentIntent), pay, cancel,
expire, refund. Every status change commits with its outbox event."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from carts.models import CartLine
from carts.services import cart_source_check
from clipcart_shared.errors import ApplicationError
from clipcart_shared.money import allocate
from clipcart_shared.outbox.services import events_publish
from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core import catalog
from core.errors import CheckoutErrorCode
from orders.emails import order_unwanted_payment_email
from orders.events import order_paid_event, order_refunded_event
from orders.limits import checkout_hold_claim, checkout_holds_released
from orders.models import Order, OrderLine, Refund
from orders.payment_match import payment_mismatch
from orders.selectors import order_lines_refundable, order_refundable_amount
from payments import stripe_api
from payments.models import StripeCustomer

logger = logging.getLogger(__name__)

ORDER_CANCELLED = "order.cancelled"


@dataclass(frozen=True)
class CheckoutLine:
    variant_id: uuid.UUID
    quantity: int
    source_video_id: uuid.UUID | None = None
    source_tag_id: uuid.UUID | None = None
    # When the buyer picked it from the video: the cart line's time, or the checkout's.
    source_added_at: datetime | None = None


@dataclass(frozen=True)
class Checkout:
    order: Order
    client_secret: str
    customer_id: str
    customer_keys: dict[str, str | None]


def _cart_lines(user_id: str) -> tuple[list[CheckoutLine], list[uuid.UUID]]:
    rows = list(CartLine.objects.filter(cart__user_id=user_id).order_by("added_at"))
    return [
        CheckoutLine(
            row.variant_id, row.quantity, row.source_video_id, row.source_tag_id, row.added_at
        )
        for row in rows
    ], [row.id for row in rows]


def _quantities(lines: list[CheckoutLine]) -> list[tuple[uuid.UUID, int]]:
    return [(line.variant_id, line.quantity) for line in lines]


def _stripe_customer(*, user_id: str, email: str, replacing: str | None = None) -> str:
    """The user's Stripe customer: the stored one, or a new one (also when `replacing`,
    the stored one, no longer exists on Stripe's side)."""
    known = StripeCustomer.objects.filter(user_id=user_id).values_list("customer_id", flat=True)
    if known and known[0] != replacing:
        return known[0]
    customer_id = stripe_api.customer_create(user_id=user_id, email=email, replacing=replacing)
    try:
        with transaction.atomic():
            StripeCustomer.objects.update_or_create(
                user_id=user_id, defaults={"customer_id": customer_id}
            )
    except IntegrityError:
        pass  # a concurrent checkout of the same user stored it (the same customer)
    return customer_id


def _payment_intent(
    *, order_id: uuid.UUID, amount: int, currency: str, user_id: str, email: str
) -> tuple[str, str, str]:
    """(PaymentIntent id, client secret, customer id). A stored customer that Stripe no
    longer knows (deleted in the dashboard; the emulator restarted) is replaced once."""
    customer_id = _stripe_customer(user_id=user_id, email=email)
    try:
        payment_intent_id, client_secret = stripe_api.payment_intent_create(
            order_id=str(order_id), amount=amount, currency=currency, customer_id=customer_id
        )
    except stripe_api.PaymentProviderRejected as error:
        if not error.is_missing:
            raise
        logger.warning("Stripe customer gone; creating another", extra={"customer": customer_id})
        customer_id = _stripe_customer(user_id=user_id, email=email, replacing=customer_id)
        payment_intent_id, client_secret = stripe_api.payment_intent_create(
            order_id=str(order_id), amount=amount, currency=currency, customer_id=customer_id
        )
    return payment_intent_id, client_secret, customer_id


@checkout_holds_released
def checkout_create(
    *,
    user_id: str,
    email: str,
    shipping_address: dict[str, Any],
    lines: list[CheckoutLine] | None = None,
) -> Checkout:
    """Quote, reserve stock, create the PaymentIntent, then record the order — in that
    order, so a failure at any step writes nothing here and gives the stock back.

    422 `cart_empty`, `mixed_currencies`, `variant_unavailable`, `invalid_source` (a "buy
    now" line's source), `amount_too_small` / `amount_too_large`; 409 `out_of_stock`,
    `too_many_open_checkouts`, `unit_limit_exceeded` (the buyer's caps, claimed as a hold
    before anything is reserved); 503 `catalog_unavailable` or
    `payment_provider_unavailable`.
    """
    cart_line_ids: list[uuid.UUID] = []
    if lines is None:
        lines, cart_line_ids = _cart_lines(user_id)
    if not lines:
        raise ApplicationError(CheckoutErrorCode.CART_EMPTY, "The cart is empty.", status=422)
    quote = catalog.quote(lines=[(line.variant_id, line.quantity) for line in lines])
    if not cart_line_ids:
        _sources_check(lines, quote["lines"])
    currencies = {quoted["unit_price"]["currency"] for quoted in quote["lines"]}
    if len(currencies) > 1:
        raise ApplicationError(
            CheckoutErrorCode.MIXED_CURRENCIES,
            "One order is paid in one currency; these lines are in "
            f"{', '.join(sorted(currencies))}.",
            status=422,
        )
    currency = currencies.pop()
    order_id = checkout_hold_claim(user_id=user_id, lines=_quantities(lines), quote=quote)
    subtotal = sum(quoted["line_total"]["amount"] for quoted in quote["lines"])
    merchants = {merchant["id"]: merchant for merchant in quote["merchants"]}
    shipping = sum(merchant["shipping_fee"]["amount"] for merchant in merchants.values())
    stripe_api.charge_amount_check(amount=subtotal + shipping, currency=currency)
    reservation = catalog.reservation_create(
        key=f"order-{order_id}",
        lines=[(line.variant_id, line.quantity) for line in lines],
        ttl_seconds=settings.CHECKOUT_RESERVATION_SECONDS,
    )
    payment_intent_id = None
    try:
        payment_intent_id, client_secret, customer_id = _payment_intent(
            order_id=order_id,
            amount=subtotal + shipping,
            currency=currency,
            user_id=user_id,
            email=email,
        )
        customer_keys = stripe_api.mobile_customer_key(customer_id=customer_id)
        with transaction.atomic():
            order = Order.objects.create(
                id=order_id,
                user_id=user_id,
                email=email,
                shipping_address=shipping_address,
                currency=currency,
                subtotal_amount=subtotal,
                shipping_amount=shipping,
                total_amount=subtotal + shipping,
                reservation_id=reservation["id"],
                payment_intent_id=payment_intent_id,
                stripe_customer_id=customer_id,
                expires_at=timezone.now()
                + timedelta(seconds=settings.CHECKOUT_RESERVATION_SECONDS),
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        variant_id=line.variant_id,
                        product_id=quoted["product_id"],
                        merchant_id=quoted["merchant_id"],
                        merchant_name=merchants[quoted["merchant_id"]]["name"],
                        sku=quoted["sku"],
                        title=quoted["title"],
                        quantity=line.quantity,
                        unit_price_amount=quoted["unit_price"]["amount"],
                        line_total_amount=quoted["line_total"]["amount"],
                        source_video_id=line.source_video_id,
                        source_tag_id=line.source_tag_id,
                        source_added_at=None
                        if line.source_video_id is None
                        else line.source_added_at or timezone.now(),
                    )
                    for line, quoted in zip(lines, quote["lines"], strict=True)
                ]
            )
            if cart_line_ids:
                CartLine.objects.filter(id__in=cart_line_ids).delete()
    except (stripe_api.PaymentProviderUnavailable, stripe_api.PaymentProviderRejected) as error:
        _undo_checkout(reservation_id=reservation["id"], payment_intent_id=payment_intent_id)
        if isinstance(error, stripe_api.PaymentProviderRejected) and error.code in (
            CheckoutErrorCode.AMOUNT_TOO_SMALL,
            CheckoutErrorCode.AMOUNT_TOO_LARGE,
        ):
            # Stripe's own limit, for a currency the table above does not know.
            raise ApplicationError(
                CheckoutErrorCode(error.code),
                f"Stripe cannot charge this amount in {currency}: {error}",
                status=422,
            ) from error
        # Any other refusal is our side's fault (a key, a setting), not the buyer's:
        # logged, and the buyer told the same as for an outage.
        if isinstance(error, stripe_api.PaymentProviderRejected):
            logger.error("Stripe refused a checkout", extra={"error": str(error)})
        raise ApplicationError(
            CheckoutErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            "Payments cannot be taken right now; nothing was charged or kept. Try again.",
            status=503,
        ) from error
    except BaseException:
        _undo_checkout(reservation_id=reservation["id"], payment_intent_id=payment_intent_id)
        raise
    logger.info("Checkout created", extra={"order_id": str(order_id), "total": order.total_amount})
    return Checkout(order, client_secret, customer_id, customer_keys)


def _sources_check(lines: list[CheckoutLine], quoted_lines: list[dict[str, Any]]) -> None:
    """ "Buy now" lines name their source here (cart lines were checked when added):
    422 `invalid_source` naming `lines[i].source…`, as the cart answers it."""
    for index, (line, quoted) in enumerate(zip(lines, quoted_lines, strict=True)):
        if line.source_video_id is None:
            continue
        try:
            cart_source_check(
                video_id=line.source_video_id,
                tag_id=line.source_tag_id,
                product_id=uuid.UUID(str(quoted["product_id"])),
            )
        except ApplicationError as error:
            error.errors = [
                {**field, "field": f"lines[{index}].{field['field']}"} for field in error.errors
            ]
            raise


def _undo_checkout(*, reservation_id: str, payment_intent_id: str | None) -> None:
    """Give the stock back and void the PaymentIntent of a checkout that failed. Best
    effort: what fails here lapses anyway (the reservation expires, and a PaymentIntent
    nobody holds a client secret for is never confirmed)."""
    try:
        catalog.reservation_release(reservation_id=uuid.UUID(reservation_id))
    except ApplicationError:
        logger.warning("Could not release after a failed checkout", extra={"id": reservation_id})
    if payment_intent_id:
        try:
            stripe_api.payment_intent_cancel(payment_intent_id=payment_intent_id)
        except (stripe_api.PaymentProviderUnavailable, stripe_api.PaymentProviderRejected):
            logger.warning("Could not cancel a PaymentIntent", extra={"id": payment_intent_id})


def _status_after_refunds(order: Order) -> str:
    if order.refunded_amount >= order.total_amount:
        return Order.Status.REFUNDED
    if order.refunded_amount > 0:
        return Order.Status.PARTIALLY_REFUNDED
    return Order.Status.PAID


def _locked(order_id: uuid.UUID) -> Order:
    return Order.objects.select_for_update().get(id=order_id)


# --- paying, cancelling, expiring -----------------------------------------------------------


STOCK_GONE = "stock gone before payment"


def order_payment_succeeded(*, order_id: uuid.UUID) -> Order:
    """The PaymentIntent succeeded (a webhook or reconciliation that checked it matches
    the order). Pending → paid, stock committed, `order.paid` published; already paid →
    nothing. Its stock gone (the hold lapsed and the units sold: catalog's 409) → the
    order is cancelled and the money goes back; cancelled meanwhile → the same refund."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == Order.Status.PENDING_PAYMENT:
            try:
                catalog.reservation_commit(reservation_id=order.reservation_id)
            except ApplicationError as error:
                if error.status != 409:
                    raise  # catalog unavailable: the caller retries later
                logger.warning(
                    "Paid, but the stock is gone: cancelling and refunding",
                    extra={"order_id": str(order.id), "catalog_code": error.code},
                )
                _cancel(order, reason=STOCK_GONE)
            else:
                order.paid_at = timezone.now()
                # A refund recorded before the payment (out-of-order events) still counts.
                order.status = _status_after_refunds(order)
                order.save(update_fields=["status", "paid_at", "updated_at"])
                events = [order_paid_event(order)]
                events += [
                    order_refunded_event(order, refund)
                    for refund in order.refunds.filter(status=Refund.Status.SUCCEEDED)
                ]
                events_publish(events=events)
                logger.info("Order paid", extra={"order_id": str(order.id)})
                return order
        if order.status != Order.Status.CANCELLED:
            return order
    return _refund_unwanted_payment(order)


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
        _payment_matches(order, intent)
        return order_payment_succeeded(order_id=order.id)
    return order_payment_cancelled(order_id=order.id, reason=reason)


def order_payment_cancelled(*, order_id: uuid.UUID, reason: str) -> Order:
    """The PaymentIntent is cancelled: the order is cancelled and its stock released."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != Order.Status.PENDING_PAYMENT:
            return order
        catalog.reservation_release(reservation_id=order.reservation_id)
        _cancel(order, reason=reason)
    return order


def _cancel(order: Order, *, reason: str) -> None:
    order.status = Order.Status.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancellation_reason = reason[:200]
    order.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])
    events_publish(
        events=[
            {
                "type": ORDER_CANCELLED,
                "subject": str(order.id),
                "data": {
                    "order_id": str(order.id),
                    "user_id": order.user_id,
                    "cancelled_at": order.cancelled_at.isoformat(),
                    "reason": reason,
                },
            }
        ]
    )
    logger.info("Order cancelled", extra={"order_id": str(order.id), "reason": reason})


EXPIRE_TASK = "orders.orders_expire"
RECONCILE_TASK = "orders.payments_reconcile"
REFUNDS_RECONCILE_TASK = "orders.refunds_reconcile"


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
        _payment_matches(order, intent)
        order_payment_succeeded(order_id=order_id)
        return True
    if intent.get("status") == "canceled":
        _payment_matches(order, intent)
        order_payment_cancelled(order_id=order_id, reason="payment cancelled")
        return True
    return False


def _payment_matches(order: Order, intent: dict[str, Any]) -> None:
    """Raise 409 `payment_mismatch` (logged as an error) when the PaymentIntent Stripe
    gave us is not the order's: its id, status, amount or currency."""
    mismatch = payment_mismatch(
        event_type=f"payment_intent.{intent.get('status')}", obj=intent, order=order
    )
    if mismatch:
        logger.error(
            "Stripe's PaymentIntent does not match its order; not applied",
            extra={"order_id": str(order.id), "reason": mismatch},
        )
        raise ApplicationError(
            CheckoutErrorCode.PAYMENT_MISMATCH,
            "The payment does not match the order; platform staff were told.",
            status=409,
        )


# --- refunds ------------------------------------------------------------------------------


# A refunded order is checked like the others: 422, nothing left (not "nothing paid").
REFUNDABLE_STATUSES = (
    Order.Status.PAID,
    Order.Status.FULFILLED,
    Order.Status.PARTIALLY_REFUNDED,
    Order.Status.REFUNDED,
    Order.Status.CANCELLED,
)
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
) -> Order:
    """Give money back: on Stripe (unless `stripe_refund_id` says it already happened
    there), recorded per line, reflected in the order's status, `order.refunded`
    published. 422 `refund_too_large`, 409 `order_not_refundable`, 503
    `payment_provider_unavailable`; Stripe's refusal is raised as
    `stripe_api.PaymentProviderRejected`.

    The amount is reserved first (a pending refund, written under the order's lock and
    counted by every later check), so refunds made at the same moment can never together
    give back more than is left, on Stripe or here. Stripe refusing marks the refund
    failed, which frees the amount again; Stripe unreachable (a timeout, a 5xx) leaves it
    pending, to be asked again with the same key by `refunds_reconcile`."""
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
        order_id=order.id, amount=amount, line_ids=line_ids, created_by=created_by, reason=reason
    )
    try:
        stripe_refund_id = stripe_api.refund_create(
            payment_intent_id=order.payment_intent_id, amount=amount, refund_key=str(refund.id)
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
        _refund_fail(refund_id=refund.id, failure=f"Stripe refused: {error}")
        raise
    return _refund_succeed(refund_id=refund.id, stripe_refund_id=stripe_refund_id)


def _refund_reserve(
    *,
    order_id: uuid.UUID,
    amount: int,
    line_ids: list[uuid.UUID] | None,
    created_by: str,
    reason: str,
) -> Refund:
    """Check and hold `amount` in one short transaction under the order's lock: a pending
    refund with its share of each line. Committed before Stripe is asked."""
    with transaction.atomic():
        order = _locked(order_id)
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


def _refund_succeed(*, refund_id: uuid.UUID, stripe_refund_id: str) -> Order:
    """Stripe gave the pending refund back: apply its reserved shares to the lines and
    the order, publish `order.refunded`. Once only: a refund no longer pending is left."""
    with transaction.atomic():
        order = _locked(Refund.objects.values_list("order_id", flat=True).get(id=refund_id))
        refund = Refund.objects.select_for_update().get(id=refund_id)
        if refund.status != Refund.Status.PENDING:
            return order
        refund.status = Refund.Status.SUCCEEDED
        refund.stripe_refund_id = stripe_refund_id
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "stripe_refund_id", "completed_at"])
        _refund_apply(order, refund)
    logger.info(
        "Order refunded",
        extra={"order_id": str(order.id), "refund_id": str(refund.id), "amount": refund.amount},
    )
    return order


def _refund_fail(*, refund_id: uuid.UUID, failure: str) -> None:
    """Stripe gave nothing back: the pending refund's amount is free again."""
    Refund.objects.filter(id=refund_id, status=Refund.Status.PENDING).update(
        status=Refund.Status.FAILED, failure=failure[:300], completed_at=timezone.now()
    )
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
        order = _locked(order_id)
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
    the order is paid (a refund before the payment is published with `order.paid`)."""
    lines = list(order.lines.filter(id__in=list(refund.lines)))
    for line in lines:
        line.refunded_amount = min(
            line.line_total_amount, line.refunded_amount + refund.lines[str(line.id)]
        )
    OrderLine.objects.bulk_update(lines, ["refunded_amount"])
    order.refunded_amount = min(order.total_amount, order.refunded_amount + refund.amount)
    if order.status in (
        Order.Status.PAID,
        Order.Status.FULFILLED,
        Order.Status.PARTIALLY_REFUNDED,
    ):
        order.status = _status_after_refunds(order)
        events_publish(events=[order_refunded_event(order, refund)])
    order.save(update_fields=["refunded_amount", "status", "updated_at"])


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
        _refund_fail(refund_id=refund_id, failure=f"Stripe refused: {error}")
    else:
        _refund_succeed(refund_id=refund_id, stripe_refund_id=stripe_refund_id)
    return True


def order_charge_refunded(*, order_id: uuid.UUID, amount_refunded: int) -> Order:
    """Stripe says the charge has `amount_refunded` refunded in all. What clipcart did
    not record yet (a refund made in Stripe's dashboard) is recorded now; the rest was
    recorded when we refunded, or is a pending refund of ours that Stripe made and we
    are about to record. Works before the payment event too."""
    with transaction.atomic():
        order = _locked(order_id)
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


def order_dispute_opened(*, order_id: uuid.UUID) -> None:
    Order.objects.filter(id=order_id).update(is_disputed=True)
    logger.warning("Dispute opened", extra={"order_id": str(order_id)})


def order_fulfilment_start(envelope: dict[str, Any]) -> None:
    """The order worker's part of `order.paid`: fulfilment pending, confirmation sent."""
    from django.core.mail import send_mail

    order = Order.objects.get(id=envelope["data"]["order_id"])
    Order.objects.filter(id=order.id, fulfilment_status=Order.Fulfilment.NOT_STARTED).update(
        fulfilment_status=Order.Fulfilment.PENDING
    )
    lines = "\n".join(f"  {line.quantity} x {line.title}" for line in order.lines.all())
    send_mail(
        subject=f"Your clipcart order {str(order.id)[:8]} is confirmed",
        message=f"Thank you! We received your payment.\n\n{lines}\n",
        from_email=None,
        recipient_list=[order.email],
    )
