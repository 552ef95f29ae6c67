"""Who works for which catalog merchant, for the services that know merchants by id.

The scoping itself is `clipcart_shared.admin.MerchantScopedAdminMixin`; video and
checkout point its `MERCHANT_IDS_FOR_USER` setting at `merchant_ids_for_user` here.
"""

from __future__ import annotations

from django.contrib import admin

from clipcart_shared.merchant_access.models import MerchantMembership


@admin.register(MerchantMembership)
class MerchantMembershipAdmin(admin.ModelAdmin):
    """Which admin user works for which catalog merchant: platform staff only (merchant
    staff hold no permission on it, so it does not show for them)."""

    list_display = ["user", "merchant_name", "merchant_id"]
    list_select_related = ["user"]
    search_fields = ["user__username", "merchant_name"]
    ordering = ["merchant_name", "user__username"]
