"""Stock in catalog's admin: the variants' stock on their pages, reservations and the
stock movements.

Products' and variants' pages edit stock, so they are registered here, above the
products they extend: `ProductStockAdmin` is `products.admin.ProductAdmin` with its
variant rows, and the variant pages are `VariantAdmin`. Stock is never written back from
a form: variants are saved without their counters, and on-hand changes only as an
adjustment (receive, write off, or a count checked against the level the form was opened
with), applied as a delta under the row lock and logged as a stock movement
(`inventory.forms`, ADR 13).

Stock reservations, for platform staff only: read-only, since the checkout flow owns
them (changing one here would desynchronise the variants' reserved counters).

Stock movements, for each merchant's staff (scoped like the rest of catalog's admin) and
platform staff: read-only for everyone, the log is only ever appended to by the stock
services. The variant pages show their latest movements and link to the full list.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from clipcart_shared.admin import ReadOnlyAdminMixin
from clipcart_shared.money import Money
from inventory.forms import (
    STOCK_FORM_FIELDS,
    VariantForm,
    VariantInlineFormSet,
    variant_form_save,
)
from inventory.models import Reservation, ReservationLine, StockMovement
from merchants.admin import MerchantChoicesAdminMixin
from products.admin import ProductAdmin
from products.models import Product, Variant
from products.selectors import STOCK_LEVELS, variants_by_stock_level
from products.services import product_changes_publish

RESERVATION_FIELDS = (
    "id",
    "key",
    "status",
    "expires_at",
    "lines_fingerprint",
    "created_at",
    "updated_at",
)


class SuperuserReadOnlyMixin(ReadOnlyAdminMixin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


class ReservationLineInline(SuperuserReadOnlyMixin, admin.TabularInline):
    model = ReservationLine
    fields = ["variant", "quantity"]
    readonly_fields = ["variant", "quantity"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReservationLine]:
        return super().get_queryset(request).select_related("variant")


@admin.register(Reservation)
class ReservationAdmin(SuperuserReadOnlyMixin, admin.ModelAdmin):
    list_display = ["key", "status", "expires_at", "created_at", "updated_at"]
    list_filter = ["status", "expires_at"]
    search_fields = ["key"]
    date_hierarchy = "expires_at"
    ordering = ["-expires_at"]
    fields = RESERVATION_FIELDS
    readonly_fields = RESERVATION_FIELDS
    inlines = [ReservationLineInline]


MOVEMENT_FIELDS = (
    "created_at",
    "variant",
    "kind",
    "delta",
    "on_hand_after",
    "actor",
    "reference",
    "note",
)
RECENT_MOVEMENTS = 20


@admin.register(StockMovement)
class StockMovementAdmin(MerchantChoicesAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    merchant_field = "variant__merchant"
    list_display = MOVEMENT_FIELDS
    list_select_related = ["variant"]
    list_filter = ["kind", "created_at"]
    search_fields = ["variant__sku", "variant__product__title", "reference", "actor", "note"]
    fields = MOVEMENT_FIELDS
    readonly_fields = MOVEMENT_FIELDS


def _movements_url(variant: Variant) -> str:
    return f"{reverse('admin:inventory_stockmovement_changelist')}?variant={variant.pk}"


def stock_movements_link(variant: Variant) -> str:
    """A link to the variant's movement list (empty for a variant not saved yet)."""
    if variant._state.adding:
        return "-"
    return format_html('<a href="{}">History</a>', _movements_url(variant))


def stock_movements_recent(variant: Variant) -> str:
    """The variant's latest movements as a small table, newest first, and a link to all."""
    if variant._state.adding:
        return "-"
    movements = list(
        StockMovement.objects.filter(variant=variant).order_by("-created_at", "-id")[
            :RECENT_MOVEMENTS
        ]
    )
    if not movements:
        return "No stock movements yet."
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                movement.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                movement.get_kind_display(),
                f"{movement.delta:+d}",
                movement.on_hand_after,
                movement.actor,
                movement.reference,
                movement.note,
            )
            for movement in movements
        ),
    )
    return format_html(
        "<table><thead><tr><th>When (UTC)</th><th>Kind</th><th>Change</th><th>On hand after"
        "</th><th>Who</th><th>Reference</th><th>Reason</th></tr></thead><tbody>{}</tbody>"
        '</table><p><a href="{}">All stock movements of this variant</a></p>',
        rows,
        _movements_url(variant),
    )


# --- the variants' stock on the product's page and their own --------------------------


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    formset = VariantInlineFormSet
    fields = [
        "sku",
        "title",
        "options",
        "price_amount",
        "quantity_on_hand",
        "quantity_reserved",
        *STOCK_FORM_FIELDS,
        "position",
        "stock_history",
    ]
    readonly_fields = ["quantity_reserved", "stock_history"]
    extra = 1

    @admin.display(description="Stock movements")
    def stock_history(self, variant: Variant) -> str:
        return stock_movements_link(variant)


def _actor(request: HttpRequest) -> dict[str, Any]:
    """Who the stock movements of this save name."""
    return {"actor": request.user.get_username(), "user_id": request.user.pk}


admin.site.unregister(Product)


@admin.register(Product)
class ProductStockAdmin(ProductAdmin):
    """`products.admin.ProductAdmin` with its variants' rows, stock included."""

    inlines = [VariantInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Variant:
            super().save_formset(request, form, formset, change)
            return
        saved = set(formset.save(commit=False))
        for variant in formset.deleted_objects:
            variant.delete()
        for variant_form in formset.forms:
            if variant_form.instance in saved:
                variant_form_save(variant_form, **_actor(request))
        formset.save_m2m()


class StockLevelFilter(admin.SimpleListFilter):
    """Low or out of stock, as the admin's home page counts them (`products.selectors`)."""

    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("low", f"Low (1 to {settings.LOW_STOCK_THRESHOLD} available)"),
            ("out", "Out (none available)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Variant]) -> QuerySet[Variant]:
        if self.value() in STOCK_LEVELS:
            return variants_by_stock_level(queryset, str(self.value()))
        return queryset


@admin.register(Variant)
class VariantAdmin(MerchantChoicesAdminMixin, admin.ModelAdmin):
    merchant_field = "product__merchant"
    form = VariantForm
    list_filter = [StockLevelFilter]
    list_display = ["sku", "product", "price", "quantity_on_hand", "quantity_reserved", "available"]
    list_select_related = ["product__merchant"]
    search_fields = ["sku", "product__title"]
    autocomplete_fields = ["product"]
    fieldsets = [
        (None, {"fields": ["product", "sku", "title", "options", "price_amount", "position"]}),
        (
            "Stock",
            {
                "description": "Record one change at a time: a receipt, a write-off, or a "
                "count typed over on hand. Each is applied to the stock as it is now and "
                "logged below; sales and returns are logged too.",
                "fields": [
                    "quantity_on_hand",
                    "quantity_reserved",
                    *STOCK_FORM_FIELDS,
                    "recent_stock_movements",
                ],
            },
        ),
    ]
    readonly_fields = ["quantity_reserved", "recent_stock_movements"]
    ordering = ["product__title", "position", "sku"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Variant]:
        available = F("quantity_on_hand") - F("quantity_reserved")
        return super().get_queryset(request).annotate(available_units=available)

    @admin.display(description="Price", ordering="price_amount")
    def price(self, variant: Variant) -> str:
        return Money(variant.price_amount, variant.product.merchant.currency).format()

    @admin.display(description="Available", ordering="available_units")
    def available(self, variant: Variant) -> int:
        return variant.quantity_available

    @admin.display(description="Stock movements")
    def recent_stock_movements(self, variant: Variant) -> str:
        return stock_movements_recent(variant)

    def save_model(self, request: HttpRequest, obj: Variant, form: Any, change: bool) -> None:
        variant_form_save(form, **_actor(request))

    def delete_model(self, request: HttpRequest, obj: Variant) -> None:
        with transaction.atomic():
            super().delete_model(request, obj)
            product_changes_publish(product_ids=[obj.product_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Variant]) -> None:
        with transaction.atomic():
            product_ids = set(queryset.values_list("product_id", flat=True))
            super().delete_queryset(request, queryset)
            product_changes_publish(product_ids=product_ids)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        product_ids = {form.instance.product_id}
        if change and "product" in form.changed_data and form.initial.get("product"):
            product_ids.add(form.initial["product"])  # the product it left changed too
        product_changes_publish(product_ids=product_ids)
