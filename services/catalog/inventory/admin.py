"""Stock reservations, for platform staff only: read-only, since the checkout flow owns
them (changing one here would desynchronise the variants' reserved counters).

Stock movements, for each merchant's staff (scoped like the rest of catalog's admin) and
platform staff: read-only for everyone, the log is only ever appended to by the stock
services. The variant pages show their latest movements and link to the full list.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from clipcart_shared.admin import ReadOnlyAdminMixin
from core.admin import MerchantChoicesAdminMixin
from inventory.models import Reservation, ReservationLine, StockMovement
from products.models import Variant

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
