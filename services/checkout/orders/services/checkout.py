"""Checkout: quote, reserve the stock, create the PaymentIntent, then record the order
(taking the buyer's cart lines with it)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carts.selectors import cart_codes_of_user, cart_lines_for_checkout, cart_render, price_version
from carts.services import (
    cart_for_user,
    cart_lines_take,
    cart_source_check,
    promotion_refused_error,
)
from clipcart_shared.errors import ApplicationError
from core import catalog
from core.errors import CheckoutErrorCode
from orders.limits import checkout_hold_claim, checkout_holds_released
from orders.models import Order, OrderLine
from payments import stripe_api
from payments.services import payment_intent_for_checkout

logger = logging.getLogger(__name__)


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


def _quantities(lines: list[CheckoutLine]) -> list[tuple[uuid.UUID, int]]:
    return [(line.variant_id, line.quantity) for line in lines]


@checkout_holds_released
def checkout_create(
    *,
    user_id: str,
    email: str,
    shipping_address: dict[str, Any],
    lines: list[CheckoutLine] | None = None,
    seen_price_version: str | None = None,
) -> Checkout:
    """Quote, reserve stock, create the PaymentIntent, then record the order — in that
    order, so a failure at any step writes nothing here and gives the stock back.

    422 `cart_empty`, `mixed_currencies`, `variant_unavailable`, `invalid_source` (a "buy
    now" line's source), `amount_too_small` / `amount_too_large`; 409 `out_of_stock`,
    `too_many_open_checkouts`, `unit_limit_exceeded` (the buyer's caps, claimed as a hold
    before anything is reserved), `prices_changed` (the quote's `price_version` is not
    `seen_price_version`, the one the buyer's cart showed, or a flash deal's units were
    gone when reserving: nothing held, the answer carries the cart as now priced); 503
    `catalog_unavailable` or `payment_provider_unavailable`.
    """
    cart_line_ids: list[uuid.UUID] = []
    codes: list[str] = []
    if lines is None:
        codes = cart_codes_of_user(user_id=user_id)
        cart_lines = cart_lines_for_checkout(user_id=user_id)
        lines = [
            CheckoutLine(
                line.variant_id,
                line.quantity,
                line.source_video_id,
                line.source_tag_id,
                line.added_at,
            )
            for line in cart_lines
        ]
        cart_line_ids = [line.id for line in cart_lines]
    if not lines:
        raise ApplicationError(CheckoutErrorCode.CART_EMPTY, "The cart is empty.", status=422)
    quote = catalog.quote(
        lines=[(line.variant_id, line.quantity) for line in lines],
        codes=codes,
        customer_id=user_id,
        videos=[line.source_video_id for line in lines],
    )
    if quote["codes_refused"]:
        # The buyer asked for this code: never charge without it silently.
        refused = quote["codes_refused"][0]
        raise promotion_refused_error(code=refused["code"], reason=refused["reason"])
    if seen_price_version is not None:
        version = price_version(quote)
        if seen_price_version != version:
            raise _prices_changed(user_id, version, from_cart=bool(cart_line_ids))
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
    # What is charged is the lines' net totals and the shipping after free shipping.
    subtotal = sum(quoted["net_total"]["amount"] for quoted in quote["lines"])
    merchants = {merchant["id"]: merchant for merchant in quote["merchants"]}
    shipping = sum(
        merchant["shipping_fee"]["amount"] - merchant["shipping_discount"]["amount"]
        for merchant in merchants.values()
    )
    discount_total = sum(discount["amount"]["amount"] for discount in quote["discounts"])
    stripe_api.charge_amount_check(amount=subtotal + shipping, currency=currency)
    # The promotions' uses are held in the stock's reservation: same expiry, same release.
    try:
        reservation = catalog.reservation_create(
            key=f"order-{order_id}",
            lines=[(line.variant_id, line.quantity) for line in lines],
            ttl_seconds=settings.CHECKOUT_RESERVATION_SECONDS,
            promotion_ids=[discount["promotion_id"] for discount in quote["discounts"]],
            customer_id=user_id,
            # The units at a flash deal's price, held with the stock (ADR 32).
            flash_units=[
                (quoted["flash_deal"]["id"], quoted["quantity"])
                for quoted in quote["lines"]
                if quoted.get("flash_deal")
            ],
        )
    except ApplicationError as error:
        if str(error.code) not in FLASH_DEAL_REFUSALS:
            raise
        # The deal price quoted is gone (sold out meanwhile, ended): never charge another
        # price silently; nothing was reserved.
        raise _prices_changed(user_id, None, from_cart=bool(cart_line_ids)) from error
    line_ids = [uuid.uuid4() for _ in lines]
    payment_intent_id = None
    try:
        payment_intent_id, client_secret, customer_id = payment_intent_for_checkout(
            checkout_id=str(order_id),
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
                discount_amount=discount_total,
                discounts=_discounts_of(quote["discounts"], line_ids),
                reservation_id=reservation["id"],
                payment_intent_id=payment_intent_id,
                stripe_customer_id=customer_id,
                expires_at=timezone.now()
                + timedelta(seconds=settings.CHECKOUT_RESERVATION_SECONDS),
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        id=line_id,
                        order=order,
                        variant_id=line.variant_id,
                        product_id=quoted["product_id"],
                        merchant_id=quoted["merchant_id"],
                        merchant_name=merchants[quoted["merchant_id"]]["name"],
                        sku=quoted["sku"],
                        title=quoted["title"],
                        quantity=line.quantity,
                        unit_price_amount=quoted["unit_price"]["amount"],
                        discount_amount=quoted["discount"]["amount"],
                        line_total_amount=quoted["net_total"]["amount"],
                        source_video_id=line.source_video_id,
                        source_tag_id=line.source_tag_id,
                        source_added_at=None
                        if line.source_video_id is None
                        else line.source_added_at or timezone.now(),
                    )
                    for line_id, line, quoted in zip(line_ids, lines, quote["lines"], strict=True)
                ]
            )
            if cart_line_ids:
                cart_lines_take(user_id=user_id, line_ids=cart_line_ids)
    except (stripe_api.PaymentProviderUnavailable, stripe_api.PaymentProviderRejected) as error:
        _undo_checkout(reservation_id=reservation["id"], payment_intent_id=payment_intent_id)
        if isinstance(error, stripe_api.PaymentProviderRejected) and error.stripe_code in (
            CheckoutErrorCode.AMOUNT_TOO_SMALL,
            CheckoutErrorCode.AMOUNT_TOO_LARGE,
        ):
            # Stripe's own limit, for a currency the table above does not know.
            raise ApplicationError(
                CheckoutErrorCode(error.stripe_code),
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


FLASH_DEAL_REFUSALS = ("flash_deal_sold_out", "flash_deal_limit_reached", "flash_deal_ended")


def _prices_changed(user_id: str, version: str | None, *, from_cart: bool) -> ApplicationError:
    """409 `prices_changed` with the cart as now priced (its new `price_version`), or
    for "buy now" lines the quote's `version` alone (when known)."""
    extra: dict[str, Any] = {}
    if from_cart:
        cart = cart_render(cart_for_user(user_id=user_id))
        extra = {"cart": cart, "price_version": cart["price_version"]}
    elif version is not None:
        extra = {"price_version": version}
    return ApplicationError(
        CheckoutErrorCode.PRICES_CHANGED,
        "Prices changed since the cart you saw (a flash deal ended or sold out, a "
        "promotion changed); nothing was charged or held. Check the new prices and try again.",
        status=409,
        extra=extra or None,
    )


def _discounts_of(discounts: list[dict[str, Any]], line_ids: list[uuid.UUID]) -> list[Any]:
    """The quote's discounts as the order keeps them: each line by its id."""
    return [
        {
            "promotion_id": discount["promotion_id"],
            "merchant_id": discount["merchant_id"],
            "code": discount["code"],
            # A creator code's creator: `order.paid` names it on the merchant's lines.
            "creator_id": discount.get("creator_id"),
            "kind": discount["kind"],
            "description": discount["description"],
            "amount": discount["amount"]["amount"],
            "shipping": discount["shipping"]["amount"],
            "lines": {
                str(line_ids[share["index"]]): share["amount"]["amount"]
                for share in discount["lines"]
            },
        }
        for discount in discounts
    ]


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
