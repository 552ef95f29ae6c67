"""The order admin: the list, the order's page and its refund page."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from clipcart_shared.admin import MerchantScopedAdminMixin, request_merchant_ids
from clipcart_shared.errors import ApplicationError
from core.errors import CheckoutErrorCode
from orders.admin.display import is_platform_staff, money, short_id
from orders.admin.filters import FromVideoFilter, RefundFilter, ToShipFilter
from orders.admin.inlines import OrderLineInline, RefundInline
from orders.admin.shipping import OrderShipMixin, ShipmentInline
from orders.forms import STALE_MESSAGE, OrderRefundForm
from orders.models import Order
from orders.selectors import (
    ID_PREFIX_MIN_DIGITS,
    order_id_range,
    order_refundable_amount,
    orders_of_merchants,
    orders_with_merchant_share,
    refunds_with_share_of_lines,
)
from orders.services import order_refund
from payments import stripe_api

REFUND_PERMISSION = "orders.add_refund"


ORDER_FIELDS = ["id", "status", "email", "shipping_to", "created_at"]
PLATFORM_MONEY_FIELDS = ["subtotal", "shipping", "total", "refunded", "refundable"]
MERCHANT_MONEY_FIELDS = ["your_lines_total", "your_lines_refunded", "your_lines_refundable"]
PAYMENT_FIELDS = [
    "user_id",
    "paid_at",
    "payment_intent_id",
    "stripe_customer_id",
    "payment_failures",
    "last_payment_error",
    "is_disputed",
    "expires_at",
    "cancelled_at",
    "cancellation_reason",
    "updated_at",
]


# The change list's filter for orders with a line of a product (`?lines__product_id=<id>`).
PRODUCT_LOOKUP = "lines__product_id"


@admin.register(Order)
class OrderAdmin(OrderShipMixin, MerchantScopedAdminMixin, admin.ModelAdmin):
    """Orders, view-only; shipping and refunds from the order's own pages."""

    change_form_template = "orders/admin/order_change_form.html"
    refund_template = "orders/admin/order_refund.html"
    list_filter = ["status", "created_at", ToShipFilter, FromVideoFilter, RefundFilter]
    date_hierarchy = "created_at"
    # Searched by `get_search_results`: ids (whole or their start) and emails.
    search_fields = ["email"]
    search_help_text = (
        f"An order id, or its first {ID_PREFIX_MIN_DIGITS} characters or more; or (part of) "
        "the buyer's email."
    )
    ordering = ["-created_at", "-id"]
    list_per_page = 50
    inlines = [OrderLineInline, ShipmentInline, RefundInline]

    # --- scope and permissions ---------------------------------------------------------

    def scope_queryset(
        self, queryset: QuerySet[Order], merchant_ids: list[uuid.UUID]
    ) -> QuerySet[Order]:
        return orders_of_merchants(queryset, merchant_ids)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        orders = super().get_queryset(request)
        merchant_ids = request_merchant_ids(request)
        return orders if merchant_ids is None else orders_with_merchant_share(orders, merchant_ids)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from checkout

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # Catalog's product page links here: the orders with a line of one product.
        return lookup == PRODUCT_LOOKUP or super().lookup_allowed(lookup, value, request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the services change orders; a refund has its own page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # orders are records of payments

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(REFUND_PERMISSION))

    # --- the list -----------------------------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns = ["reference", "created_at", "email", "status"]
        if is_platform_staff(request):
            return [*columns, "total", "refunded", "is_disputed"]
        return [*columns, "your_lines_total", "your_lines_refunded"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(email__icontains=term)
        id_range = order_id_range(term)
        if id_range is not None:
            matches |= Q(id__range=id_range)
        if is_platform_staff(request):
            matches |= Q(payment_intent_id=term)  # what Stripe's dashboard shows
        return queryset.filter(matches), False

    # --- the order's page ---------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if is_platform_staff(request):
            return [
                (None, {"fields": ORDER_FIELDS}),
                ("Money", {"fields": PLATFORM_MONEY_FIELDS}),
                ("Payment", {"fields": PAYMENT_FIELDS}),
            ]
        return [
            (None, {"fields": [*ORDER_FIELDS, "paid_at"]}),
            ("Your lines", {"fields": MERCHANT_MONEY_FIELDS}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [
            field for _, options in self.get_fieldsets(request, obj) for field in options["fields"]
        ]

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        merchant_ids = request_merchant_ids(request)
        if isinstance(inline, RefundInline) and merchant_ids is not None and obj is not None:
            own_line_ids = list(
                obj.lines.filter(merchant_id__in=merchant_ids).values_list("id", flat=True)
            )
            kwargs["queryset"] = refunds_with_share_of_lines(kwargs["queryset"], own_line_ids)
        return kwargs

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = dict(extra_context or {})
        if self.has_ship_permission(request):
            extra_context["ship_url"] = self.ship_url(object_id)
        if self.has_refund_permission(request):
            extra_context["refund_url"] = reverse(
                "admin:orders_order_refund", args=[object_id], current_app=self.admin_site.name
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- the refund page ------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_refund",
        )
        return [refund, *self.ship_urls(), *super().get_urls()]

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Refund lines (or, for platform staff, the whole order) through the service. A
        refusal (unpaid order, too large an amount, Stripe unreachable or refusing) is
        shown as a message on the form, and nothing is written."""
        order = self.get_object(request, unquote(object_id))  # 404 outside the scope
        if order is None:
            raise Http404("No order matches the given id.")
        if not (self.has_view_permission(request, order) and self.has_refund_permission(request)):
            raise PermissionDenied
        assert isinstance(order, Order)
        form = OrderRefundForm(
            request.POST if request.method == "POST" else None,
            order=order,
            merchant_ids=request_merchant_ids(request),
        )
        if form.is_bound and form.is_valid():
            try:
                order = order_refund(
                    order=order,
                    amount=form.amount_minor,
                    line_ids=form.line_ids,
                    created_by=f"admin:{request.user.get_username()}",
                    reason=form.cleaned_data["reason"],
                    restock_units=form.restock_units,
                )
            except ApplicationError as error:
                messages.error(request, self._refusal(error, form))
            else:
                messages.success(
                    request,
                    f"Refunded {money(form.amount_minor, order.currency)} of order "
                    f"{short_id(order.id)}; the order is now {order.get_status_display().lower()}.",
                )
                return HttpResponseRedirect(
                    reverse(
                        "admin:orders_order_change",
                        args=[order.pk],
                        current_app=self.admin_site.name,
                    )
                )
        elif form.is_bound and form.is_stale:
            # Show the order as it is now (a fresh form), not the figures posted.
            messages.warning(request, STALE_MESSAGE)
            return HttpResponseRedirect(request.path)
        return self._refund_page(request, order, form)

    def _refund_page(
        self, request: HttpRequest, order: Order, form: OrderRefundForm
    ) -> HttpResponse:
        merchant_ids = request_merchant_ids(request)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {short_id(order.id)}",
            "subtitle": None,
            "opts": self.opts,
            "order": order,
            "form": form,
            "refundable": money(
                order_refundable_amount(
                    order=order, lines=None if merchant_ids is None else form.refundable_lines
                ),
                order.currency,
            ),
            "is_platform_staff": merchant_ids is None,
        }
        return TemplateResponse(request, self.refund_template, context)

    @staticmethod
    def _refusal(error: ApplicationError, form: OrderRefundForm) -> str:
        if isinstance(error, stripe_api.PaymentProviderRejected):
            return f"Stripe refused the refund ({error}). Nothing was refunded."
        if error.code == CheckoutErrorCode.REFUND_TOO_LARGE:
            remaining = money(form.refundable_for_choice, form.order.currency)
            where = "this order" if form.line_ids is None else "the ticked lines"
            return f"Nothing was refunded: at most {remaining} is left to refund on {where}."
        if error.code == CheckoutErrorCode.ORDER_NOT_REFUNDABLE:
            return (
                f"Nothing was refunded: the order is {form.order.get_status_display().lower()}, "
                "so there is no payment to refund."
            )
        if error.code == CheckoutErrorCode.PAYMENT_PROVIDER_UNAVAILABLE:
            return (
                "Stripe cannot be reached right now. The refund is pending: it is sent again "
                "automatically, with the same key so never twice. Do not refund it again."
            )
        return f"Nothing was refunded: {error.detail}"

    # --- columns and read-only fields ---------------------------------------------------

    @admin.display(description="Order")
    def reference(self, order: Order) -> str:
        return short_id(order.id)

    @admin.display(description="Ships to")
    def shipping_to(self, order: Order) -> str:
        address = order.shipping_address or {}
        street = ", ".join(filter(None, [address.get("line1"), address.get("line2")]))
        town = " ".join(filter(None, [address.get("postal_code"), address.get("city")]))
        return ", ".join(filter(None, [address.get("name"), street, town, address.get("country")]))

    @admin.display(description="Subtotal")
    def subtotal(self, order: Order) -> str:
        return money(order.subtotal_amount, order.currency)

    @admin.display(description="Shipping")
    def shipping(self, order: Order) -> str:
        return money(order.shipping_amount, order.currency)

    @admin.display(description="Total", ordering="total_amount")
    def total(self, order: Order) -> str:
        return money(order.total_amount, order.currency)

    @admin.display(description="Refunded", ordering="refunded_amount")
    def refunded(self, order: Order) -> str:
        return money(order.refunded_amount, order.currency)

    @admin.display(description="Left to refund")
    def refundable(self, order: Order) -> str:
        return money(order.total_amount - order.refunded_amount, order.currency)

    @admin.display(description="Your lines", ordering="merchant_subtotal")
    def your_lines_total(self, order: Order) -> str:
        return money(getattr(order, "merchant_subtotal", 0), order.currency)

    @admin.display(description="Refunded on your lines", ordering="merchant_refunded")
    def your_lines_refunded(self, order: Order) -> str:
        return money(getattr(order, "merchant_refunded", 0), order.currency)

    @admin.display(description="Left to refund on your lines")
    def your_lines_refundable(self, order: Order) -> str:
        subtotal = getattr(order, "merchant_subtotal", 0) or 0
        return money(subtotal - (getattr(order, "merchant_refunded", 0) or 0), order.currency)
