"""Promotions for merchant staff, scoped to the user's merchants as products are.

Usage counters are never written from a form: they move only with reservations, under
the row lock (`promotions.services`), so a save writes every field but those. A
promotion is never deleted (reservations and orders name it); it is ended by setting
its end time.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from clipcart_shared.money import Money
from merchants.admin import MerchantChoicesAdminMixin
from promotions.models import Promotion
from promotions.pricing import code_normalize


class PromotionForm(forms.ModelForm):
    class Meta:
        model = Promotion
        fields = [
            "merchant",
            "name",
            "code",
            "is_stackable",
            "kind",
            "percent_off",
            "amount_off",
            "applies_to",
            "products",
            "categories",
            "minimum_spend_amount",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
        ]

    def clean_code(self) -> str | None:
        code = self.cleaned_data.get("code")
        return code_normalize(code) or None if code else None

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("kind")
        if kind == Promotion.Kind.PERCENT and not data.get("percent_off"):
            self.add_error("percent_off", "A percent off needs the percent.")
        if kind == Promotion.Kind.FIXED_AMOUNT and not data.get("amount_off"):
            self.add_error("amount_off", "A fixed amount off needs the amount.")
        if data.get("code") and data.get("is_stackable"):
            self.add_error("is_stackable", "Only automatic promotions stack; a code never does.")
        merchant = data.get("merchant")
        products = data.get("products")
        if data.get("applies_to") == Promotion.AppliesTo.PRODUCTS and not products:
            self.add_error("products", "Choose the products it applies to.")
        if (
            merchant is not None
            and products is not None
            and any(product.merchant_id != merchant.id for product in products)
        ):
            self.add_error("products", "Only the merchant's own products.")
        if data.get("applies_to") == Promotion.AppliesTo.CATEGORIES and not data.get("categories"):
            self.add_error("categories", "Choose the categories it applies to.")
        return data


@admin.register(Promotion)
class PromotionAdmin(MerchantChoicesAdminMixin, admin.ModelAdmin):
    form = PromotionForm
    merchant_field = "merchant"
    list_display = ["name", "code", "merchant", "kind", "value", "starts_at", "ends_at", "uses"]
    list_filter = ["kind", "applies_to"]
    list_select_related = ["merchant"]
    search_fields = ["name", "code"]
    filter_horizontal = ["products", "categories"]
    readonly_fields = ["uses_reserved", "uses_consumed"]
    fieldsets = [
        (None, {"fields": ["merchant", "name", "code", "is_stackable"]}),
        (
            "Discount",
            {
                "fields": [
                    "kind",
                    "percent_off",
                    "amount_off",
                    "applies_to",
                    "products",
                    "categories",
                ]
            },
        ),
        (
            "Conditions",
            {
                "fields": [
                    "minimum_spend_amount",
                    "starts_at",
                    "ends_at",
                    "usage_limit",
                    "per_customer_limit",
                ]
            },
        ),
        ("Usage", {"fields": ["uses_reserved", "uses_consumed"]}),
    ]

    @admin.display(description="Value")
    def value(self, promotion: Promotion) -> str:
        if promotion.kind == Promotion.Kind.PERCENT:
            return f"{promotion.percent_off} %"
        if promotion.kind == Promotion.Kind.FIXED_AMOUNT:
            return Money(promotion.amount_off or 0, promotion.merchant.currency).format()
        return "free shipping"

    @admin.display(description="Uses (paid + open / limit)")
    def uses(self, promotion: Promotion) -> str:
        limit = "∞" if promotion.usage_limit is None else str(promotion.usage_limit)
        return f"{promotion.uses_consumed} + {promotion.uses_reserved} / {limit}"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Promotion, form: Any, change: bool) -> None:
        if not change:
            obj.save()
            return
        # Every field the form edits, never the counters a checkout moves meanwhile.
        editable = [
            field.name
            for field in Promotion._meta.concrete_fields
            if field.editable and not field.primary_key
        ]
        obj.save(update_fields=editable)
