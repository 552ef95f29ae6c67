from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from clipcart_shared.money import Money
from core.admin import MerchantChoicesAdminMixin
from merchants.models import Merchant
from products.services import product_changes_publish


@admin.register(Merchant)
class MerchantAdmin(MerchantChoicesAdminMixin, admin.ModelAdmin):
    """Platform staff (superusers) manage merchants; a merchant's own staff may only
    rename it and set its shipping fee and the most units of a variant one buyer may hold."""

    merchant_field = "pk"
    list_display = ["name", "slug", "currency", "shipping_fee", "created_at"]
    search_fields = ["name", "slug"]
    fields = [
        "name",
        "slug",
        "currency",
        "shipping_fee_amount",
        "max_units_per_buyer",
        "staff",
        "created_at",
    ]
    filter_horizontal = ["staff"]
    ordering = ["name"]

    @admin.display(description="Shipping fee", ordering="shipping_fee_amount")
    def shipping_fee(self, merchant: Merchant) -> str:
        return Money(merchant.shipping_fee_amount, merchant.currency).format()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if not request.user.is_superuser:
            return ["slug", "currency", "staff", "created_at"]
        # Prices are minor units of the merchant's currency: changing it later would
        # silently reprice every product.
        return ["created_at"] if obj is None else ["currency", "created_at"]

    def save_model(self, request: HttpRequest, obj: Merchant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:  # the merchant's name is on every card of its products
            product_changes_publish(product_ids=obj.products.values_list("id", flat=True))

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        if request.user.is_superuser and obj is None:
            return {"slug": ["name"]}
        return {}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)
