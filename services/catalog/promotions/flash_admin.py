"""Flash deals for merchant staff, scoped to the user's merchants as products are.

What a form can check without reading video's tables: the video id is a UUID (the deal
then shows only on that video's tags, and applies only to lines whose checked source is
that video, so an id of no video tagging the product shows and sells nothing); the
product and variant are the merchant's; the price is below the list price; 1 to 120
minutes; no other deal on the product overlaps in time. Units are never written from
a form (`promotions.flash` moves them under the row lock); a deal is never deleted
(reservations name it): end it early by shortening its duration.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from clipcart_shared.money import Money
from merchants.admin import MerchantChoicesAdminMixin
from products.services import product_changes_publish
from promotions.flash_models import FlashDeal


class FlashDealForm(forms.ModelForm):
    class Meta:
        model = FlashDeal
        fields = [
            "merchant",
            "product",
            "variant",
            "video_id",
            "price_amount",
            "starts_at",
            "duration_minutes",
            "per_buyer_limit",
            "total_quantity",
        ]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        merchant, product, variant = data.get("merchant"), data.get("product"), data.get("variant")
        if merchant is not None and product is not None and product.merchant_id != merchant.id:
            self.add_error("product", "Only the merchant's own products.")
        if variant is not None and product is not None and variant.product_id != product.id:
            self.add_error("variant", "A variant of the chosen product.")
        price = data.get("price_amount")
        if price is not None and product is not None:
            variants = [variant] if variant is not None else list(product.variants.all())
            if not variants:
                self.add_error("product", "The product has no variant to sell.")
            elif any(price >= v.price_amount for v in variants):
                lowest = min(v.price_amount for v in variants)
                self.add_error("price_amount", f"Below the list price ({lowest} minor units).")
        starts_at, minutes = data.get("starts_at"), data.get("duration_minutes")
        total = data.get("total_quantity")
        if self.instance.pk is not None and total is not None:
            # Units checkouts hold or sold stay theirs: the total cannot go below them.
            taken = (
                FlashDeal.objects.filter(id=self.instance.pk)
                .values_list("units_reserved", "units_consumed")
                .first()
            )
            if taken is not None and total < sum(taken):
                self.add_error(
                    "total_quantity", f"At least the {sum(taken)} units paid or in checkouts."
                )
        if starts_at is not None and minutes:
            try:
                starts_at + timedelta(minutes=minutes)
            except OverflowError:
                self.add_error("starts_at", "A date the deal can end on.")
                starts_at = None
        if product is not None and starts_at is not None and minutes:
            ends_at = starts_at + timedelta(minutes=minutes)
            overlapping = FlashDeal.objects.filter(
                product=product, starts_at__lt=ends_at, ends_at__gt=starts_at
            ).exclude(id=self.instance.id)
            if overlapping.exists():
                self.add_error("starts_at", "Another flash deal on this product runs then.")
        return data


@admin.register(FlashDeal)
class FlashDealAdmin(MerchantChoicesAdminMixin, admin.ModelAdmin):
    form = FlashDealForm
    merchant_field = "merchant"
    list_display = ["product", "merchant", "deal_price", "starts_at", "ends_at", "units"]
    list_select_related = ["merchant", "product"]
    search_fields = ["product__title", "video_id"]
    readonly_fields = ["ends_at", "units_reserved", "units_consumed"]

    @admin.display(description="Deal price")
    def deal_price(self, deal: FlashDeal) -> str:
        return Money(deal.price_amount, deal.merchant.currency).format()

    @admin.display(description="Units (paid + open / total)")
    def units(self, deal: FlashDeal) -> str:
        total = "∞" if deal.total_quantity is None else str(deal.total_quantity)
        return f"{deal.units_consumed} + {deal.units_reserved} / {total}"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: FlashDeal, form: Any, change: bool) -> None:
        if change:
            # Every field the form edits, never the units a checkout moves meanwhile.
            obj.save(update_fields=[name for name in form.Meta.fields])
        else:
            obj.save()
        # The product's card carries the deal (shown while it runs).
        product_changes_publish(product_ids=[obj.product_id])
