"""Tests only: catalog's state as other services' tests set it up and read it
(`manage.py testhook <hook> '<JSON>'`; clipcart_shared.testhook). Refused under production
settings."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clipcart_shared.testhook import HookCommand
from merchants.models import Merchant
from products.models import Variant
from products.services import product_changes_publish, products_set_status
from promotions.models import CreatorCodeRequest, FlashDeal, Promotion


def variants_stock_set(*, variant_ids: list[str], on_hand: int) -> None:
    """Exactly `on_hand` units of each variant on the shelf, none reserved (cards republished)."""
    with transaction.atomic():
        variants = Variant.objects.filter(id__in=variant_ids)
        variants.update(quantity_on_hand=on_hand, quantity_reserved=0)
        product_changes_publish(product_ids=variants.values_list("product_id", flat=True))


def variant_stock(*, variant_id: str) -> list[int]:
    """[on hand, reserved] of a variant."""
    variant = Variant.objects.get(id=variant_id)
    return [variant.quantity_on_hand, variant.quantity_reserved]


def merchant_max_units_per_buyer_set(*, merchant_id: str, units: int) -> None:
    """The merchant's cap on units of one variant in one buyer's unpaid checkouts."""
    Merchant.objects.filter(id=merchant_id).update(max_units_per_buyer=units)


def variant_price_and_shipping_set(*, variant_id: str, price: int, shipping: int) -> list[int]:
    """Set a variant's price and its merchant's shipping fee; returns the old [price, fee]."""
    variant = Variant.objects.select_related("product__merchant").get(id=variant_id)
    merchant = variant.product.merchant
    old = [variant.price_amount, merchant.shipping_fee_amount]
    variant.price_amount = price
    variant.save(update_fields=["price_amount"])
    merchant.shipping_fee_amount = shipping
    merchant.save(update_fields=["shipping_fee_amount"])
    return old


def products_status_set(*, product_ids: list[str], status: str) -> Any:
    """Activate, archive or draft products (as the admin's bulk actions do)."""
    return products_set_status(product_ids=[uuid.UUID(item) for item in product_ids], status=status)


def promotion_create(**fields: Any) -> dict[str, Any]:
    """A promotion of `merchant_id` (model fields; `starts_at` defaults to an hour ago,
    `product_ids` chooses products); returns {id, code}."""
    product_ids = fields.pop("product_ids", None)
    fields.setdefault("starts_at", timezone.now() - timedelta(hours=1))
    fields.setdefault("name", "Test promotion")
    promotion = Promotion.objects.create(**fields)
    if product_ids:
        promotion.products.set(product_ids)
    return {"id": str(promotion.id), "code": promotion.code}


def promotion_uses(*, promotion_id: str) -> list[int]:
    """[reserved, consumed] uses of a promotion."""
    promotion = Promotion.objects.get(id=promotion_id)
    return [promotion.uses_reserved, promotion.uses_consumed]


def promotion_end(*, promotion_id: str) -> None:
    """The promotion ends now (a test's automatic promotions leave the shared catalog)."""
    Promotion.objects.filter(id=promotion_id).update(ends_at=timezone.now())


def flash_deal_create(**fields: Any) -> dict[str, Any]:
    """A flash deal running now on `variant_id` in `video_id` (model fields; starts a
    minute ago for 20 minutes unless told), its card published; returns {id}."""
    variant = Variant.objects.get(id=fields.pop("variant_id"))
    fields.setdefault("starts_at", timezone.now() - timedelta(minutes=1))
    fields.setdefault("duration_minutes", 20)
    deal = FlashDeal.objects.create(
        merchant_id=variant.merchant_id, product_id=variant.product_id, variant=variant, **fields
    )
    product_changes_publish(product_ids=[variant.product_id])
    return {"id": str(deal.id)}


def flash_deal_end(*, deal_id: str) -> None:
    """The deal ends now (as its time running out does: no write but the clock's)."""
    FlashDeal.objects.filter(id=deal_id).update(ends_at=timezone.now())


def flash_deal_units(*, deal_id: str) -> list[int]:
    """[reserved, consumed] units of a flash deal."""
    deal = FlashDeal.objects.get(id=deal_id)
    return [deal.units_reserved, deal.units_consumed]


def creator_code_requests(*, merchant_id: str) -> list[dict[str, Any]]:
    """The creator code requests a merchant received, the latest first."""
    return [
        {
            "creator_id": str(row.creator_id),
            "creator_handle": row.creator_handle,
            "code": row.code,
            "message": row.message,
            "status": row.status,
        }
        for row in CreatorCodeRequest.objects.filter(merchant_id=merchant_id)
    ]


class Command(HookCommand):
    hooks = {
        "variants_stock_set": variants_stock_set,
        "variant_stock": variant_stock,
        "merchant_max_units_per_buyer_set": merchant_max_units_per_buyer_set,
        "variant_price_and_shipping_set": variant_price_and_shipping_set,
        "products_status_set": products_status_set,
        "promotion_create": promotion_create,
        "promotion_uses": promotion_uses,
        "promotion_end": promotion_end,
        "flash_deal_create": flash_deal_create,
        "flash_deal_end": flash_deal_end,
        "flash_deal_units": flash_deal_units,
        "creator_code_requests": creator_code_requests,
    }
