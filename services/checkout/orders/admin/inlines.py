"""The order's lines and refunds, read-only, as the user may see them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from clipcart_shared.admin import ReadOnlyAdminMixin, console_admin_url, request_merchant_ids
from orders.admin.display import is_platform_staff, money
from orders.models import OrderLine, Refund


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [str(field) for field in self.get_fields(request, obj)]


class OrderLineInline(_ReadOnlyInline):
    """The order's lines the user may see: a merchant's staff, their own."""

    model = OrderLine
    verbose_name_plural = "Lines"
    fields = [
        "title",
        "sku",
        "quantity",
        "unit_price",
        "discount",
        "line_total",
        "refunded",
        "product_link",
        "video_link",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(self.fields)
        return [*fields, "merchant_name"] if is_platform_staff(request) else fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        lines = super().get_queryset(request).select_related("order")
        merchant_ids = request_merchant_ids(request)
        return lines if merchant_ids is None else lines.filter(merchant_id__in=merchant_ids)

    @admin.display(description="Unit price")
    def unit_price(self, line: OrderLine) -> str:
        return money(line.unit_price_amount, line.order.currency)

    @admin.display(description="Discount")
    def discount(self, line: OrderLine) -> str:
        return money(line.discount_amount, line.order.currency)

    @admin.display(description="Line total (net)")
    def line_total(self, line: OrderLine) -> str:
        return money(line.line_total_amount, line.order.currency)

    @admin.display(description="Refunded")
    def refunded(self, line: OrderLine) -> str:
        return money(line.refunded_amount, line.order.currency)

    @admin.display(description="Product")
    def product_link(self, line: OrderLine) -> SafeString:
        """The product's page in catalog's admin."""
        url = console_admin_url("catalog", f"products/product/{line.product_id}/change/")
        return format_html('<a href="{}">In catalog</a>', url)

    @admin.display(description="Bought from")
    def video_link(self, line: OrderLine) -> SafeString | str:
        """The video the buyer added it from, in video's admin ("-" when none)."""
        if line.source_video_id is None:
            return "-"
        url = console_admin_url("video", f"videos/video/{line.source_video_id}/change/")
        return format_html('<a href="{}">The video</a>', url)


class RefundInline(_ReadOnlyInline):
    """The order's refunds. A merchant's staff see those that touched their lines, each
    with the part that went to their lines (`OrderAdmin.get_formset_kwargs` narrows
    them: which lines are theirs depends on the order)."""

    model = Refund
    fields = ["created_at", "status", "amount_refunded", "reason", "created_by"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if is_platform_staff(request):
            return [*self.fields, "stripe_refund_id", "failure"]
        return ["on_your_lines" if field == "amount_refunded" else field for field in self.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Refund]:
        return super().get_queryset(request).select_related("order")

    @admin.display(description="Amount")
    def amount_refunded(self, refund: Refund) -> str:
        return money(refund.amount, refund.order.currency)

    @admin.display(description="On your lines")
    def on_your_lines(self, refund: Refund) -> str:
        return money(getattr(refund, "line_share", 0), refund.order.currency)
