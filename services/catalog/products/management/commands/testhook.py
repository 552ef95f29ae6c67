"""Tests only: catalog's state as other services' tests set it up and read it
(`manage.py testhook <hook> '<JSON>'`; clipcart_shared.testhook). Refused under production
settings."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from clipcart_shared.testhook import HookCommand
from merchants.models import Merchant
from products.models import Variant
from products.services import product_changes_publish, products_set_status


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


class Command(HookCommand):
    hooks = {
        "variants_stock_set": variants_stock_set,
        "variant_stock": variant_stock,
        "merchant_max_units_per_buyer_set": merchant_max_units_per_buyer_set,
        "variant_price_and_shipping_set": variant_price_and_shipping_set,
        "products_status_set": products_status_set,
    }
