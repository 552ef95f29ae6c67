"""Mobile users' carts, read-only and for platform staff only (a cart holds any
merchant's products, and it is the buyer's to change, in the app)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from carts.models import Cart, CartLine
from clipcart_shared.admin import ReadOnlyAdminMixin
from clipcart_shared.money import Money
from payments.admin import PlatformReadOnlyAdmin

CART_FIELDS: list[Any] = ["id", "user_id", "created_at", "updated_at"]
CART_LINE_FIELDS: list[Any] = ["title", "quantity", "unit_price", "source_video_id", "added_at"]


class CartLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartLine
    fields = CART_LINE_FIELDS
    readonly_fields = CART_LINE_FIELDS
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    @admin.display(description="Unit price (last quote)")
    def unit_price(self, line: CartLine) -> str:
        return Money(line.unit_price_amount, line.currency).format()


@admin.register(Cart)
class CartAdmin(PlatformReadOnlyAdmin):
    list_display = ["user_id", "line_count", "updated_at"]
    search_fields = ["=user_id"]
    date_hierarchy = "updated_at"
    fields = CART_FIELDS
    readonly_fields = CART_FIELDS
    inlines = [CartLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cart]:
        return super().get_queryset(request).annotate(lines_total=Count("lines"))

    @admin.display(description="Lines", ordering="lines_total")
    def line_count(self, cart: Cart) -> int:
        return int(getattr(cart, "lines_total", 0))
