"""Stripe's side of checkout, for platform staff only and read-only: the webhook log (every
event as received, and what the worker made of it) and the buyers' Stripe customers.
Neither concerns one merchant, so no group permission opens them to merchant staff.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from clipcart_shared.admin import ReadOnlyAdminMixin
from payments.models import StripeCustomer, WebhookEvent

# Everything shown, all read-only.
WEBHOOK_EVENT_FIELDS: list[Any] = [
    "event_id",
    "type",
    "status",
    "error",
    "received_at",
    "processed_at",
    "body",
]
STRIPE_CUSTOMER_FIELDS: list[Any] = ["user_id", "customer_id", "created_at"]


class PlatformReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shown to superusers only, whatever permissions a group grants, and changed by
    nobody: the services write these rows.

    (Used by `carts.admin` too; it belongs in a `core/admin.py` of the service.)"""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


@admin.register(WebhookEvent)
class WebhookEventAdmin(PlatformReadOnlyAdmin):
    list_display = ["event_id", "type", "status", "received_at", "processed_at"]
    list_filter = ["status", "type"]
    date_hierarchy = "received_at"
    search_fields = ["=event_id", "type"]
    fields = WEBHOOK_EVENT_FIELDS
    readonly_fields = WEBHOOK_EVENT_FIELDS

    @admin.display(description="Payload")
    def body(self, event: WebhookEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, sort_keys=True))


@admin.register(StripeCustomer)
class StripeCustomerAdmin(PlatformReadOnlyAdmin):
    list_display = ["user_id", "customer_id", "created_at"]
    search_fields = ["=user_id", "=customer_id"]
    fields = STRIPE_CUSTOMER_FIELDS
    readonly_fields = STRIPE_CUSTOMER_FIELDS
