"""Stock reservations, for platform staff only: read-only, since the checkout flow owns
them (changing one here would desynchronise the variants' reserved counters)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from clipcart_shared.admin import ReadOnlyAdminMixin
from inventory.models import Reservation, ReservationLine

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
