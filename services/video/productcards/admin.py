"""Catalog's product cards as this service last heard them: for platform staff to check
the read model, never to edit it (catalog's events and `productcards.services` do)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from clipcart_shared.money import Money
from productcards.models import ProductCard

CARD_FIELDS: list[Any] = [
    "product_id",
    "title",
    "merchant_name",
    "merchant_id",
    "price",
    "image",
    "stock_status",
    "category_slug",
    "status",
    "source_time",
    "updated_at",
]


@admin.register(ProductCard)
class ProductCardAdmin(admin.ModelAdmin):
    list_display = ["title", "merchant_name", "price", "stock_status", "status", "source_time"]
    list_filter = ["status", "stock_status", "category_slug"]
    search_fields = ["title", "merchant_name"]
    ordering = ["merchant_name", "title"]
    fields = CARD_FIELDS
    readonly_fields = CARD_FIELDS

    @admin.display(description="Price", ordering="price_amount")
    def price(self, card: ProductCard) -> str:
        if card.price_amount is None or not card.currency:
            return self.get_empty_value_display()
        return Money(card.price_amount, card.currency).format()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
