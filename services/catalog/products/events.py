"""Every event catalog publishes, built here and nowhere else: its type as a constant and
its payload as a type.

Who receives it is in `EVENT_ROUTES` (config/settings/base.py); who applies it is in each
consumer's `config/event_handlers.py` (ADR 19). Changing the payload is changing a
contract: the consumers' contract tests feed them what this module builds
(`manage.py event_samples`).
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict, cast

from clipcart_shared.outbox.services import Event

PRODUCT_CHANGED = "product.changed"


class Price(TypedDict):
    amount: int
    currency: str


class Merchant(TypedDict):
    id: str
    name: str


class Category(TypedDict):
    slug: str
    name: str


class ProductChanged(TypedDict):
    """The product's card as the public API serves it (`products.selectors.CARDS_SQL`,
    whose variants each carry `id, sku, title, options, price, stock_status`), and its
    status (`active`, `draft`, `archived`): a product no longer active is to be hidden."""

    id: str
    merchant: Merchant
    category: Category | None
    title: str
    description: str
    images: list[str]
    price: Price | None
    stock_status: str
    variants: list[dict[str, Any]]
    flash_deal: dict[str, Any] | None
    status: str


def product_changed_event(
    *, product_id: uuid.UUID, status: str, card: dict[str, Any]
) -> Event[ProductChanged]:
    """`product.changed` (type, subject, data) of a product's freshly computed card."""
    # The card's shape is CARDS_SQL's: PostgreSQL builds it, this names it.
    data = cast(ProductChanged, {**card, "status": status})
    return {"type": PRODUCT_CHANGED, "subject": str(product_id), "data": data}
