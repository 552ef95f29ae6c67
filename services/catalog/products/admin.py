"""Products and categories, and what a merchant's page does to its products' cards; each
scoped to the user's merchants.

Products are archived, never deleted, by anyone (there is no delete page and no bulk
*Delete selected*): orders, video tags and sales keep their ids, and archiving is what
tells the other services (`product.changed`, status `archived`) to stop showing it.

Every save publishes `product.changed` for the products it touched (only cards that
really changed produce an event). A product's variants are edited with their stock, on
its page and their own, so inventory's admin adds them: `inventory.admin` registers the
product page with its variant rows (`ProductStockAdmin`) and the variant pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.forms import SimpleArrayField
from django.db.models import (
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import ngettext

from clipcart_shared.admin import console_admin_url, thumbnail
from clipcart_shared.money import Money
from merchants.admin import MerchantAdmin, MerchantChoicesAdminMixin
from merchants.models import Merchant
from products.models import Category, Product, Variant
from products.services import product_changes_publish, products_set_status


def _lowest_price_and_stock(queryset: QuerySet[Product]) -> QuerySet[Product]:
    # Subqueries, not joins: the changelist's search across variants stays row-exact.
    variants = Variant.objects.filter(product=OuterRef("pk")).order_by().values("product")
    return queryset.annotate(
        lowest_price_amount=Subquery(
            variants.annotate(value=Min("price_amount")).values("value")[:1]
        ),
        available_total=Coalesce(
            Subquery(
                variants.annotate(value=Sum(F("quantity_on_hand") - F("quantity_reserved"))).values(
                    "value"
                )[:1],
                output_field=IntegerField(),
            ),
            Value(0),
        ),
    )


@admin.register(Product)
class ProductAdmin(MerchantChoicesAdminMixin, admin.ModelAdmin):
    merchant_field = "merchant"
    list_display = [
        "picture",
        "title",
        "merchant",
        "category",
        "status",
        "lowest_price",
        "available_stock",
        "updated_at",
    ]
    list_display_links = ["picture", "title"]
    list_filter = ["status", "category"]
    list_select_related = ["merchant", "category"]
    search_fields = ["title", "description", "variants__sku"]
    fields = [
        "merchant",
        "title",
        "category",
        "description",
        "images",
        "status",
        "created_at",
        "updated_at",
    ]
    # On a product's own page: where it is in the video and checkout admins.
    change_only_fields = ["videos_and_orders"]
    actions = ["activate", "archive"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return _lowest_price_and_stock(super().get_queryset(request))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A deleted product would vanish without `product.changed`, leaving its card in
        # video's feeds and dangling ids in orders and sales: the *Archive* action is the
        # way to take one off sale. (This also removes Django's bulk *Delete selected*.)
        return False

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "images":  # image URLs are https unless they say otherwise
            return SimpleArrayField(
                forms.URLField(max_length=500, assume_scheme="https"),
                max_length=db_field.size,
                required=False,
                label="Images",
                help_text="Image URLs, separated by commas; the first is the card image.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        return [*fields, *self.change_only_fields] if obj is not None else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A product stays with its merchant: its variants' SKUs are unique per merchant
        # and other services hold the product under that merchant.
        if obj is not None:
            return ["merchant", "created_at", "updated_at", *self.change_only_fields]
        return ["created_at", "updated_at"]

    @admin.display(description="Picture")
    def picture(self, product: Product) -> str:
        return thumbnail(product.images[0] if product.images else None, alt="")

    @admin.display(description="Elsewhere")
    def videos_and_orders(self, product: Product) -> SafeString:
        """Links to the video admin's videos tagging it and checkout's orders of it (the
        other admins keep their own scoping: staff see their merchants' rows there too)."""
        return format_html(
            '<a href="{}">Videos tagging it</a> · <a href="{}">Its orders</a>',
            console_admin_url("video", "videos/video/", tags__product_id=product.pk),
            console_admin_url("checkout", "orders/order/", lines__product_id=product.pk),
        )

    @admin.display(description="Lowest price", ordering="lowest_price_amount")
    def lowest_price(self, product: Product) -> str:
        amount = getattr(product, "lowest_price_amount", None)
        if amount is None:
            return self.get_empty_value_display()
        return Money(amount, product.merchant.currency).format()

    @admin.display(description="Available", ordering="available_total")
    def available_stock(self, product: Product) -> int:
        return int(getattr(product, "available_total", 0))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        product_changes_publish(product_ids=[form.instance.id])

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Product], status: str) -> int:
        return products_set_status(
            product_ids=list(queryset.values_list("pk", flat=True)), status=status
        )

    @admin.action(description="Activate", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = self._set_status(request, queryset, Product.Status.ACTIVE)
        self.message_user(
            request,
            ngettext("%d product activated.", "%d products activated.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description="Archive", permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        count = self._set_status(request, queryset, Product.Status.ARCHIVED)
        self.message_user(
            request,
            ngettext("%d product archived.", "%d products archived.", count) % count,
            messages.SUCCESS,
        )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The platform's one list of categories, kept by platform staff (superusers);
    merchant staff only pick from it on their products. A category with products cannot
    be deleted (PROTECT); its slug is fixed once created, since other services keep it."""

    list_display = ["name", "slug", "product_count"]
    search_fields = ["name", "slug"]
    fields = ["name", "slug"]
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(product_total=Count("products"))

    @admin.display(description="Products", ordering="product_total")
    def product_count(self, category: Category) -> int:
        return int(getattr(category, "product_total", 0))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["slug"]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {"slug": ["name"]} if obj is None else {}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:  # the name is on its products' cards
            product_changes_publish(product_ids=obj.products.values_list("id", flat=True))


admin.site.unregister(Merchant)


@admin.register(Merchant)
class MerchantCardsAdmin(MerchantAdmin):
    """`merchants.admin.MerchantAdmin`, and a changed merchant's products republished: its
    name is on every card of its products."""

    def save_model(self, request: HttpRequest, obj: Merchant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:  # the merchant's name is on every card of its products
            product_changes_publish(product_ids=obj.products.values_list("id", flat=True))
