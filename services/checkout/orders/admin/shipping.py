"""Shipping in the order admin: the order's "Ship" page (units of the user's lines,
carrier, tracking) through `orders.services.shipment_create`, the shipments inline,
the shipments list with its bulk "Mark delivered", and the merchants' policies. A
merchant's staff see and ship only their own lines and shipments (404 for others')."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from clipcart_shared.admin import (
    MerchantScopedAdminMixin,
    ReadOnlyAdminMixin,
    request_merchant_ids,
)
from clipcart_shared.errors import ApplicationError
from orders.admin.display import short_id
from orders.models import MerchantPolicy, Order, Shipment
from orders.selectors import order_lines_of_merchants
from orders.services import shipment_create, shipment_deliver

SHIP_PERMISSION = "orders.add_shipment"
INLINE_FIELDS = ("shipped_at", "carrier", "tracking_number", "status", "units", "delivered_at")
SHIPMENT_FIELDS = (
    "order",
    "merchant_id",
    "carrier",
    "tracking_number",
    "tracking_url",
    "status",
    "shipped_at",
    "tracking_updated_at",
    "delivered_at",
    "delivered_by",
    "returns_close_at",
    "created_by",
)


class OrderShipForm(forms.Form):
    """One quantity per line the user may ship (what is left to ship at most), and the
    parcel's carrier and tracking. The service checks it all again under the lock."""

    carrier = forms.CharField(max_length=60)
    tracking_number = forms.CharField(max_length=100)
    tracking_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    def __init__(self, data: Any = None, *, order: Order, merchant_ids: list[uuid.UUID] | None):
        super().__init__(data)
        self.lines_to_ship = [
            line
            for line in order_lines_of_merchants(order=order, merchant_ids=merchant_ids)
            if line.quantity - line.cancelled_quantity - line.shipped_quantity > 0
        ]
        for line in self.lines_to_ship:
            left = line.quantity - line.cancelled_quantity - line.shipped_quantity
            self.fields[f"line_{line.id}"] = forms.IntegerField(
                min_value=0,
                max_value=left,
                initial=left,
                label=f"{line.title} ({line.sku})",
                help_text=f"{left} of {line.quantity} left to ship"
                + ("" if merchant_ids else f"; sold by {line.merchant_name}"),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = self.chosen_lines(cleaned)
        if not chosen:
            raise forms.ValidationError("Put at least one unit in the parcel.")
        if len({line.merchant_id for line, _ in chosen}) > 1:
            raise forms.ValidationError("A parcel holds the lines of one merchant only.")
        return cleaned

    def chosen_lines(self, cleaned: dict[str, Any] | None = None) -> list[tuple[Any, int]]:
        cleaned = self.cleaned_data if cleaned is None else cleaned
        return [
            (line, cleaned[f"line_{line.id}"])
            for line in self.lines_to_ship
            if cleaned.get(f"line_{line.id}")
        ]


class OrderShipMixin:
    """Mixed into `OrderAdmin`: the order's "Ship" page."""

    ship_template = "orders/admin/order_ship.html"

    def has_ship_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(SHIP_PERMISSION))

    def ship_urls(self) -> list[URLPattern]:
        opts = self.opts  # type: ignore[attr-defined]
        return [
            path(
                "<path:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),  # type: ignore[attr-defined]
                name=f"{opts.app_label}_{opts.model_name}_ship",
            )
        ]

    def ship_url(self, object_id: str) -> str:
        return reverse("admin:orders_order_ship", args=[object_id])

    def ship_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if order is None:
            raise Http404("No order matches the given id.")
        if not self.has_ship_permission(request):
            raise PermissionDenied
        merchant_ids = request_merchant_ids(request)
        form = OrderShipForm(
            request.POST if request.method == "POST" else None,
            order=order,
            merchant_ids=merchant_ids,
        )
        if form.is_bound and form.is_valid():
            chosen = form.chosen_lines()
            try:
                shipment = shipment_create(
                    order_id=order.id,
                    merchant_id=chosen[0][0].merchant_id,
                    carrier=form.cleaned_data["carrier"],
                    tracking_number=form.cleaned_data["tracking_number"],
                    tracking_url=form.cleaned_data["tracking_url"] or "",
                    lines=[(line.id, quantity) for line, quantity in chosen],
                    created_by=f"admin:{request.user.get_username()}",
                )
            except ApplicationError as error:
                messages.error(request, f"Nothing was shipped: {error.detail}")
            else:
                units = sum(line.quantity for line in shipment.lines.all())
                messages.success(
                    request,
                    f"Shipped {units} unit(s) of order {short_id(order.id)} with "
                    f"{shipment.carrier} {shipment.tracking_number}.",
                )
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": f"Ship order {short_id(order.id)}",
            "subtitle": None,
            "opts": self.opts,  # type: ignore[attr-defined]
            "order": order,
            "form": form,
            "is_platform_staff": merchant_ids is None,
        }
        return TemplateResponse(request, self.ship_template, context)


class ShipmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The order's shipments the user may see: a merchant's staff, their own."""

    model = Shipment
    extra = 0
    can_delete = False
    fields = readonly_fields = INLINE_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shipment]:
        shipments = super().get_queryset(request).prefetch_related("lines__line")
        merchant_ids = request_merchant_ids(request)
        return shipments if merchant_ids is None else shipments.filter(merchant_id__in=merchant_ids)

    @admin.display(description="Units")
    def units(self, shipment: Shipment) -> str:
        return ", ".join(f"{item.quantity} x {item.line.title}" for item in shipment.lines.all())


@admin.register(Shipment)
class ShipmentAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    """Shipments, view-only, with the bulk "Mark delivered"."""

    list_display = ["tracking_number", "carrier", "order_reference", "status", "shipped_at"]
    list_filter = ["status", "shipped_at"]
    search_fields = ["tracking_number"]
    ordering = ["-shipped_at", "-id"]
    actions = ["mark_delivered"]
    fields = readonly_fields = SHIPMENT_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # from the order's Ship page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_deliver_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(SHIP_PERMISSION))

    @admin.display(description="Order")
    def order_reference(self, shipment: Shipment) -> str:
        return short_id(shipment.order_id)

    @admin.action(description="Mark delivered", permissions=["deliver"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        # The queryset is already the user's own shipments (the scoped changelist).
        due = list(queryset.exclude(status=Shipment.Status.DELIVERED).values_list("id", flat=True))
        for shipment_id in due:
            shipment_deliver(shipment_id=shipment_id, by=Shipment.DeliveredBy.MERCHANT)
        messages.success(request, f"{len(due)} shipment(s) marked delivered.")


class MerchantPolicyForm(forms.ModelForm):
    class Meta:
        model = MerchantPolicy
        fields = ["merchant_id", "return_window_days", "return_instructions"]


@admin.register(MerchantPolicy)
class MerchantPolicyAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    """A merchant's after-sale rules. Its staff add and edit their own only (the
    merchant is one of theirs); platform staff every merchant's. The platform fee
    (basis points, ADR 30) is set by platform staff; merchant staff see it."""

    form = MerchantPolicyForm
    list_display = ["merchant_id", "return_window_days", "platform_fee_bps", "updated_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [*MerchantPolicyForm.Meta.fields, "platform_fee_bps"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = ["merchant_id"] if obj is not None else []
        if request_merchant_ids(request) is not None:
            readonly.append("platform_fee_bps")
        return readonly

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        merchant_ids = request_merchant_ids(request)
        if obj is None and merchant_ids is not None and "merchant_id" in form.base_fields:
            form.base_fields["merchant_id"] = forms.TypedChoiceField(
                choices=[(str(merchant_id), str(merchant_id)) for merchant_id in merchant_ids],
                coerce=uuid.UUID,
                label="Merchant",
            )
        return form
