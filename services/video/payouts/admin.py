"""Creators' payout accounts, the Connect webhook log, and creators' payouts and balance
entries, for platform staff only and read-only: they are written from Stripe's answers
and events and by the payout run (ADR 33)."""

from __future__ import annotations

from django.contrib import admin

from clipcart_shared.admin import PlatformReadOnlyAdminMixin
from payouts.models import (
    BalanceEntry,
    ConnectWebhookEvent,
    CreatorPayout,
    CreatorPayoutAccount,
)


class _PlatformReadOnlyAdmin(PlatformReadOnlyAdminMixin, admin.ModelAdmin):
    pass


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


@admin.register(CreatorPayout)
class CreatorPayoutAdmin(_PlatformReadOnlyAdmin):
    list_display = [
        "created_at",
        "creator",
        "batch",
        "amount",
        "currency",
        "status",
        "stripe_transfer_id",
        "ledger_recorded_at",
    ]
    list_filter = ["status", "currency"]
    date_hierarchy = "created_at"
    search_fields = ["=stripe_transfer_id", "=stripe_account_id", "creator__handle"]


@admin.register(BalanceEntry)
class BalanceEntryAdmin(_PlatformReadOnlyAdmin):
    list_display = ["created_at", "creator", "kind", "amount", "currency", "merchant_id"]
    list_filter = ["kind", "currency"]
    date_hierarchy = "created_at"
    search_fields = ["=source_key", "creator__handle", "=merchant_id"]
