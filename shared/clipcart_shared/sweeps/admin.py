from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from clipcart_shared.admin import ReadOnlyAdminMixin
from clipcart_shared.sweeps.models import SweepBackoff


@admin.register(SweepBackoff)
class SweepBackoffAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Rows periodic tasks keep failing on, for platform staff."""

    list_display = ["task", "key", "failures", "retry_at", "updated_at"]
    list_filter = ["task"]
    search_fields = ["=key"]
    fields = readonly_fields = ["task", "key", "failures", "retry_at", "last_error", "updated_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)
