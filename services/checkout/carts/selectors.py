from __future__ import annotations

from typing import Any

from carts.models import Cart


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
