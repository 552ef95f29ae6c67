"""Reads: product cards for the mobile API, and computing them for `product.changed`.

A card is computed by PostgreSQL as one JSON value (`CARDS_SQL`) when a product changes,
and stored on the product (`Product.card`); the API serves the stored card, so a list
page is one plain query (ADR 6, `make bench`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from clipcart_shared.errors import ApplicationError
from core.errors import CatalogErrorCode, variant_unavailable_error
from products.models import (
    SEARCH_CONFIG,
    Category,
    Product,
    Variant,
    product_search_vector,
)


class StockStatus:
    IN_STOCK = "in_stock"
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"


def stock_status(available: int) -> str:
    if available <= 0:
        return StockStatus.OUT_OF_STOCK
    if available <= settings.LOW_STOCK_THRESHOLD:
        return StockStatus.LOW_STOCK
    return StockStatus.IN_STOCK


# The same rule as `stock_status`, for SQL; %(low)s is LOW_STOCK_THRESHOLD.
_STOCK_STATUS_SQL = """CASE WHEN {available} <= 0 THEN 'out_of_stock'
    WHEN {available} <= %(low)s THEN 'low_stock' ELSE 'in_stock' END"""

CARDS_SQL = f"""
SELECT p.id, p.status, json_build_object(
    'id', p.id,
    'merchant', json_build_object('id', m.id, 'name', m.name),
    'category', CASE WHEN c.id IS NULL THEN NULL
                     ELSE json_build_object('slug', c.slug, 'name', c.name) END,
    'title', p.title,
    'description', p.description,
    'images', to_json(p.images),
    'price', CASE WHEN v.lowest IS NULL THEN NULL
                  ELSE json_build_object('amount', v.lowest, 'currency', m.currency) END,
    'stock_status', {_STOCK_STATUS_SQL.format(available="coalesce(v.available, 0)")},
    'variants', coalesce(v.cards, '[]'::json),
    'flash_deal', NULL
) AS card
FROM {Product._meta.db_table} p
JOIN merchants_merchant m ON m.id = p.merchant_id
LEFT JOIN {Category._meta.db_table} c ON c.id = p.category_id
LEFT JOIN LATERAL (
    SELECT min(x.price_amount) AS lowest,
           sum(greatest(x.quantity_on_hand - x.quantity_reserved, 0)) AS available,
           json_agg(json_build_object(
               'id', x.id,
               'sku', x.sku,
               'title', x.title,
               'options', x.options,
               'price', json_build_object('amount', x.price_amount, 'currency', m.currency),
               'stock_status', {
    _STOCK_STATUS_SQL.format(available="(x.quantity_on_hand - x.quantity_reserved)")
}
           ) ORDER BY x.position, x.created_at) AS cards
    FROM {Variant._meta.db_table} x
    WHERE x.product_id = p.id
) v ON true
WHERE p.id = ANY(%(ids)s)
"""


CardField = Callable[[Sequence[uuid.UUID]], dict[uuid.UUID, Any]]
# Card fields an app above products computes (promotions: `flash_deal`), registered by
# that app when it is ready: products never imports it. Each is one query for all cards.
CARD_FIELDS: dict[str, CardField] = {}


def card_field_register(name: str, compute: CardField) -> None:
    CARD_FIELDS[name] = compute


def card_time(moment: datetime) -> str:
    """A time as a card field stores it, `YYYY-MM-DDTHH:MM:SSZ` in UTC: stored times are
    compared with it as text (`products.apis.card_with_flash_deal`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def product_cards_compute(
    *, product_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, str, dict[str, Any]]]:
    """`(id, status, card)` of each product as it is now, computed in one query (and one
    per registered card field)."""
    if not product_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(CARDS_SQL, {"ids": list(product_ids), "low": settings.LOW_STOCK_THRESHOLD})
        # `json`, not `jsonb`: PostgreSQL builds it faster, psycopg decodes it in C.
        rows = list(cursor.fetchall())
    for name, compute in CARD_FIELDS.items():
        values = compute([product_id for product_id, _, _ in rows])
        for product_id, _, card in rows:
            card[name] = values.get(product_id)
    return rows


def _published() -> QuerySet[Product]:
    return Product.objects.filter(status=Product.Status.ACTIVE, card__isnull=False)


def product_list(
    *,
    merchant_id: uuid.UUID | None = None,
    category_slug: str | None = None,
    query: str | None = None,
) -> QuerySet[Product, Any]:
    """Active products, newest first, optionally one merchant's, optionally of one
    category (by slug), optionally matching text. Rows are `{id, created_at, card}`; show
    each `card`."""
    products = _published()
    if merchant_id is not None:
        products = products.filter(merchant_id=merchant_id)
    if category_slug is not None:
        # A join on the unique slug: the page stays one query.
        products = products.filter(category__slug=category_slug)
    if query:
        products = products.annotate(search=product_search_vector()).filter(
            search=SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
        )
    return products.values("id", "created_at", "card")


def product_card_get(*, product_id: uuid.UUID) -> dict[str, Any]:
    """The card of one active product; `Product.DoesNotExist` otherwise."""
    card = _published().values_list("card", flat=True).get(id=product_id)
    assert card is not None  # _published() excludes products without a card
    return dict(card)


def quote_build(
    *, lines: list[tuple[uuid.UUID, int]], currency: str | None = None
) -> dict[str, Any]:
    """Price lines for checkout: unit prices, line totals, each merchant's shipping fee.

    Raises 422 `variant_unavailable` naming each line whose variant is unknown or whose
    product is not for sale, and 422 `currency_mismatch` when `currency` is given and a
    line is priced in another.
    """
    variants = {
        variant.id: variant
        for variant in Variant.objects.select_related("product", "merchant").filter(
            id__in=[variant_id for variant_id, _ in lines]
        )
    }
    unavailable = [
        index
        for index, (variant_id, _) in enumerate(lines)
        if variant_id not in variants
        or variants[variant_id].product.status != Product.Status.ACTIVE
    ]
    if unavailable:
        raise variant_unavailable_error(unavailable, lines)
    mismatched = [
        index
        for index, (variant_id, _) in enumerate(lines)
        if currency is not None and variants[variant_id].merchant.currency != currency
    ]
    if mismatched:
        raise ApplicationError(
            CatalogErrorCode.CURRENCY_MISMATCH,
            f"Some lines are not priced in {currency}.",
            status=422,
            errors=[
                {
                    "field": f"lines[{index}].variant_id",
                    "code": CatalogErrorCode.CURRENCY_MISMATCH.value,
                    "message": f"Priced in {variants[lines[index][0]].merchant.currency}.",
                }
                for index in mismatched
            ],
        )
    quoted = []
    merchants: dict[uuid.UUID, dict[str, Any]] = {}
    for variant_id, quantity in lines:
        variant = variants[variant_id]
        merchant = variant.merchant
        merchants[merchant.id] = {
            "id": str(merchant.id),
            "name": merchant.name,
            "shipping_fee": {"amount": merchant.shipping_fee_amount, "currency": merchant.currency},
        }
        quoted.append(
            {
                "variant_id": str(variant.id),
                "product_id": str(variant.product_id),
                "category_id": (
                    str(variant.product.category_id) if variant.product.category_id else None
                ),
                "merchant_id": str(merchant.id),
                "sku": variant.sku,
                "title": variant.product.title,
                "variant_title": variant.title,
                "image": variant.product.images[0] if variant.product.images else None,
                "quantity": quantity,
                "unit_price": {"amount": variant.price_amount, "currency": merchant.currency},
                "line_total": {
                    "amount": variant.price_amount * quantity,
                    "currency": merchant.currency,
                },
                "stock_status": stock_status(variant.quantity_available),
                "available": max(variant.quantity_available, 0),
                # Checkout refuses more than this in one buyer's unpaid checkouts.
                "max_units_per_buyer": merchant.max_units_per_buyer,
            }
        )
    return {"lines": quoted, "merchants": list(merchants.values())}


# What the admin's home page and the variant list's stock filter call low and out of
# stock: variants of active products (drafts and archived ones are not on sale), with
# `stock_status`'s rule on what is available (on hand less reserved).
STOCK_LEVELS = ("low", "out")


def variants_by_stock_level(variants: QuerySet[Variant], level: str) -> QuerySet[Variant]:
    """`variants` of active products that are `low` (1 to LOW_STOCK_THRESHOLD units
    available) or `out` (none available)."""
    available = F("quantity_on_hand") - F("quantity_reserved")
    on_sale = variants.filter(product__status=Product.Status.ACTIVE).alias(
        units_available=available
    )
    if level == "out":
        return on_sale.filter(units_available__lte=0)
    return on_sale.filter(units_available__gt=0, units_available__lte=settings.LOW_STOCK_THRESHOLD)


def stock_level_counts(*, merchant_ids: list[uuid.UUID] | None) -> dict[str, int]:
    """{"low": n, "out": n} for these merchants' variants (every merchant's for None).
    One query."""
    variants = _variants_of(merchant_ids)
    available = F("quantity_on_hand") - F("quantity_reserved")
    counts = (
        variants.filter(product__status=Product.Status.ACTIVE)
        .alias(units_available=available)
        .aggregate(
            low=Count(
                "id",
                filter=Q(units_available__gt=0, units_available__lte=settings.LOW_STOCK_THRESHOLD),
            ),
            out=Count("id", filter=Q(units_available__lte=0)),
        )
    )
    return {level: int(counts[level]) for level in STOCK_LEVELS}


def variants_lowest_on_stock(
    *, merchant_ids: list[uuid.UUID] | None, limit: int = 10
) -> list[Variant]:
    """The `limit` variants of active products with the fewest units available, at most
    LOW_STOCK_THRESHOLD, fewest first, with their products. One query."""
    variants = _variants_of(merchant_ids).select_related("product")
    available = F("quantity_on_hand") - F("quantity_reserved")
    return list(
        variants.filter(product__status=Product.Status.ACTIVE)
        .annotate(units_available=available)
        .filter(units_available__lte=settings.LOW_STOCK_THRESHOLD)
        .order_by("units_available", "product__title", "sku")[:limit]
    )


def _variants_of(merchant_ids: list[uuid.UUID] | None) -> QuerySet[Variant]:
    variants = Variant.objects.all()
    if merchant_ids is None:
        return variants
    return variants.filter(product__merchant__in=merchant_ids)  # as the variant admin scopes
