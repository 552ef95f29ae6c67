"""Reads: product cards for the mobile API and for `product.changed` events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db.models import Prefetch, QuerySet

from products.models import SEARCH_CONFIG, Product, Variant, product_search_vector


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


def _with_card_relations(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.select_related("merchant").prefetch_related(
        Prefetch("variants", queryset=Variant.objects.order_by("position", "created_at"))
    )


def product_list(
    *, merchant_id: uuid.UUID | None = None, query: str | None = None
) -> QuerySet[Product]:
    """Active products, newest first, optionally one merchant's, optionally matching text."""
    products = Product.objects.filter(status=Product.Status.ACTIVE)
    if merchant_id is not None:
        products = products.filter(merchant_id=merchant_id)
    if query:
        products = products.annotate(search=product_search_vector()).filter(
            search=SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
        )
    return _with_card_relations(products)


def product_get(*, product_id: uuid.UUID) -> Product:
    """One active product with what its card needs; `Product.DoesNotExist` otherwise."""
    return _with_card_relations(Product.objects.filter(status=Product.Status.ACTIVE)).get(
        id=product_id
    )


def products_for_cards(*, product_ids: Iterable[uuid.UUID]) -> list[Product]:
    """Products of any status (events also report drafts and archived products)."""
    return list(_with_card_relations(Product.objects.filter(id__in=list(product_ids))))


def product_card(product: Product) -> dict[str, Any]:
    """The product as mobile sees it (API.md): plain data, no ORM objects inside."""
    currency = product.merchant.currency
    variants = list(product.variants.all())
    variant_cards = [
        {
            "id": str(variant.id),
            "sku": variant.sku,
            "title": variant.title,
            "options": variant.options,
            "price": {"amount": variant.price_amount, "currency": currency},
            "stock_status": stock_status(variant.quantity_available),
        }
        for variant in variants
    ]
    lowest = min((variant.price_amount for variant in variants), default=None)
    return {
        "id": str(product.id),
        "merchant": {"id": str(product.merchant.id), "name": product.merchant.name},
        "title": product.title,
        "description": product.description,
        "images": list(product.images),
        "price": None if lowest is None else {"amount": lowest, "currency": currency},
        "stock_status": stock_status(sum(max(v.quantity_available, 0) for v in variants)),
        "variants": variant_cards,
    }


def quote_build(
    *, lines: list[tuple[uuid.UUID, int]], currency: str | None = None
) -> dict[str, Any]:
    """Price lines for checkout: unit prices, line totals, each merchant's shipping fee.

    Raises 422 `variant_unavailable` naming each line whose variant is unknown or whose
    product is not for sale, and 422 `currency_mismatch` when `currency` is given and a
    line is priced in another.
    """
    from clipcart_shared.errors import ApplicationError
    from core.errors import CatalogErrorCode

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
        raise ApplicationError(
            CatalogErrorCode.VARIANT_UNAVAILABLE,
            "Some variants do not exist or are not for sale.",
            status=422,
            errors=[
                {
                    "field": f"lines[{index}].variant_id",
                    "code": CatalogErrorCode.VARIANT_UNAVAILABLE.value,
                    "message": f"Variant {lines[index][0]} is not for sale.",
                }
                for index in unavailable
            ],
        )
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
            }
        )
    return {"lines": quoted, "merchants": list(merchants.values())}
