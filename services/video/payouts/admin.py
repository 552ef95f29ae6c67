"""Creators' payout accounts and the Connect webhook log, for platform staff only and
read-only: they are written from Stripe's answers and events, and concern no merchant."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from clipcart_shared.admin import ReadOnlyAdminMixin
from payouts.models import ConnectWebhookEvent, CreatorPayoutAccount


class _PlatformReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(CreatorPayoutAccount)
class CreatorPayoutAccountAdmin(_PlatformReadOnlyAdmin):
    list_display = ["creator", "stripe_account_id", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["=stripe_account_id", "creator__handle"]


@admin.register(ConnectWebhookEvent)
class ConnectWebhookEventAdmin(_PlatformReadOnlyAdmin):
    list_display = ["event_id", "type", "stripe_account_id", "outcome", "received_at"]
    list_filter = ["outcome", "type"]
    search_fields = ["=event_id", "=stripe_account_id"]
