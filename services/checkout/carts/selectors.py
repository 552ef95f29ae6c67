from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carts.models import Cart, CartDiscount, CartLine
from clipcart_shared.errors import ApplicationError
from core import catalog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CartLineForCheckout:
    """A cart line as the checkout takes it: what, how many, and where it was picked."""

    id: uuid.UUID
    variant_id: uuid.UUID
    quantity: int
    source_video_id: uuid.UUID | None
    source_tag_id: uuid.UUID | None
    added_at: datetime


def cart_lines_for_checkout(*, user_id: str) -> list[CartLineForCheckout]:
    """The user's cart lines, oldest first (none when the user has no cart)."""
    return [
        CartLineForCheckout(
            row.id,
            row.variant_id,
            row.quantity,
            row.source_video_id,
            row.source_tag_id,
            row.added_at,
        )
        for row in CartLine.objects.filter(cart__user_id=user_id).order_by("added_at")
    ]


def cart_codes(*, cart_id: uuid.UUID) -> list[str]:
    """The codes applied to the cart, oldest first."""
    return list(CartDiscount.objects.filter(cart_id=cart_id).values_list("code", flat=True))


def cart_codes_of_user(*, user_id: str) -> list[str]:
    """The codes applied to the user's cart (none without a cart), oldest first."""
    return list(CartDiscount.objects.filter(cart__user_id=user_id).values_list("code", flat=True))


def cart_quote(*, cart: Cart, lines: list[CartLine]) -> dict[str, Any] | None:
    """Catalog's quote of the cart's lines with its codes and the automatic promotions,
    or None when catalog cannot answer (the cart is then shown at its last prices, with
    no discount: checkout quotes again anyway)."""
    if not lines:
        return None
    try:
        return catalog.quote(
            lines=[(line.variant_id, line.quantity) for line in lines],
            codes=cart_codes(cart_id=cart.id),
            customer_id=cart.user_id,
            videos=[line.source_video_id for line in lines],
        )
    except ApplicationError as error:
        logger.warning(
            "Cart shown without promotions: catalog did not quote it",
            extra={"cart_id": str(cart.id), "code": str(error.code)},
        )
        return None


def price_version(quote: dict[str, Any]) -> str:
    """What a quote charges, as a short tag: each line's unit price, discount and net,
    each merchant's shipping and its discount. The cart shows it (`price_version`); a
    checkout given the version the buyer saw answers 409 `prices_changed` when its own
    quote's differs (a flash deal ended, a promotion changed)."""
    charged = [
        [
            line["variant_id"],
            line["quantity"],
            line["unit_price"],
            line["discount"]["amount"],
            line["net_total"]["amount"],
        ]
        for line in quote["lines"]
    ] + [
        [merchant["id"], merchant["shipping_fee"], merchant["shipping_discount"]["amount"]]
        for merchant in quote["merchants"]
    ]
    digest = hashlib.sha256(json.dumps(charged, sort_keys=True).encode()).hexdigest()
    return f"p1-{digest[:20]}"


def _flash_deal(priced: dict[str, Any] | None) -> dict[str, Any] | None:
    deal = None if priced is None else priced.get("flash_deal")
    if deal is None:
        return None
    return {"price": deal["price"], "list_price": deal["list_price"], "ends_at": deal["ends_at"]}


def discounts_render(
    quote: dict[str, Any], line_ids: list[str]
) -> tuple[list[dict[str, Any]], int]:
    """A quote's discounts as API.md shows them (each line named by its id, not its
    position), and what they take off in all."""
    rendered = [
        {
            "code": discount["code"],
            "kind": discount["kind"],
            "description": discount["description"],
            "amount": discount["amount"],
            "merchant_id": discount["merchant_id"],
            "shipping": discount["shipping"],
            "lines": [
                {"line_id": line_ids[share["index"]], "amount": share["amount"]}
                for share in discount["lines"]
            ],
        }
        for discount in quote["discounts"]
    ]
    return rendered, sum(discount["amount"]["amount"] for discount in quote["discounts"])


def cart_render(cart: Cart) -> dict[str, Any]:
    """The cart as API.md shows it: priced by a fresh quote with its promotions (or, when
    catalog cannot answer, at the last quote's prices without discounts)."""
    lines = list(cart.lines.all())
    currency = lines[0].currency if lines else None
    quote = cart_quote(cart=cart, lines=lines)
    quoted = quote["lines"] if quote is not None else [None] * len(lines)
    rendered: list[dict[str, Any]] = []
    for line, priced in zip(lines, quoted, strict=True):
        unit_price = line.unit_price_amount if priced is None else priced["unit_price"]["amount"]
        discount = 0 if priced is None else priced["discount"]["amount"]
        rendered.append(
            {
                "id": str(line.id),
                "variant_id": str(line.variant_id),
                "product_id": str(line.product_id),
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": {"amount": unit_price, "currency": line.currency},
                "list_price": {"amount": unit_price * line.quantity, "currency": line.currency},
                "discount": {"amount": discount, "currency": line.currency},
                "line_total": {
                    "amount": unit_price * line.quantity - discount,
                    "currency": line.currency,
                },
                "flash_deal": _flash_deal(priced),
                "source": None
                if line.source_video_id is None
                else {
                    "video_id": str(line.source_video_id),
                    "tag_id": None if line.source_tag_id is None else str(line.source_tag_id),
                },
            }
        )
    discounts, discount_total = (
        ([], 0) if quote is None else discounts_render(quote, [str(line.id) for line in lines])
    )
    subtotal = sum(line["line_total"]["amount"] for line in rendered)
    return {
        "id": str(cart.id),
        "currency": currency,
        "lines": rendered,
        "subtotal": None if currency is None else {"amount": subtotal, "currency": currency},
        "discounts": discounts,
        "discount_total": None
        if currency is None
        else {"amount": discount_total, "currency": currency},
        "codes": cart_codes(cart_id=cart.id),
        "codes_refused": [] if quote is None else quote["codes_refused"],
        "price_version": None if quote is None else price_version(quote),
    }
