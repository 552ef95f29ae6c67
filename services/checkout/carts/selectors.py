from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from carts.models import Cart, CartLine


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


def cart_render(cart: Cart) -> dict[str, Any]:
    """The cart as API.md shows it (prices from the last quote; checkout quotes again)."""
    lines = list(cart.lines.all())
    currency = lines[0].currency if lines else None
    rendered: list[dict[str, Any]] = [
        {
            "id": str(line.id),
            "variant_id": str(line.variant_id),
            "product_id": str(line.product_id),
            "title": line.title,
            "quantity": line.quantity,
            "unit_price": {"amount": line.unit_price_amount, "currency": line.currency},
            "line_total": {
                "amount": line.unit_price_amount * line.quantity,
                "currency": line.currency,
            },
            "source": None
            if line.source_video_id is None
            else {
                "video_id": str(line.source_video_id),
                "tag_id": None if line.source_tag_id is None else str(line.source_tag_id),
            },
        }
        for line in lines
    ]
    subtotal = sum(line["line_total"]["amount"] for line in rendered)
    return {
        "id": str(cart.id),
        "currency": currency,
        "lines": rendered,
        "subtotal": None if currency is None else {"amount": subtotal, "currency": currency},
    }
