"""Creators: platform staff edit them; a merchant's staff may look at their brand's own
creator accounts only."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from clipcart_shared.admin import MerchantScopedAdminMixin, request_merchant_ids
from creators.models import Creator
from creators.signals import creators_changed
from productcards.models import ProductCard


@admin.register(Creator)
class CreatorAdmin(MerchantScopedAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "display_name", "commission", "brand", "created_at"]
    list_filter = [("brand_merchant_id", admin.EmptyFieldListFilter)]
    search_fields = ["handle", "display_name"]
    fields = [
        "handle",
        "display_name",
        "avatar_url",
        "commission_rate_bps",
        "brand_merchant_id",
        "user_id",
        "created_at",
    ]
    # The identity provider's subject ties the profile to its user: never re-pointed.
    readonly_fields = ["user_id", "created_at"]

    def scope_queryset(
        self, queryset: QuerySet[Creator], merchant_ids: list[uuid.UUID]
    ) -> QuerySet[Creator]:
        return queryset.filter(brand_merchant_id__in=merchant_ids)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, models.URLField):  # avatars are served over https
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Creator]:
        # The brand's name as catalog's cards last told it (merchants live in catalog).
        names = ProductCard.objects.filter(merchant_id=OuterRef("brand_merchant_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(brand_name=Subquery(names.values("merchant_name")[:1]))
        )

    @admin.display(description="Commission", ordering="commission_rate_bps")
    def commission(self, creator: Creator) -> str:
        return f"{creator.commission_rate_bps / 100:g} %"

    @admin.display(description="Brand account of", ordering="brand_merchant_id")
    def brand(self, creator: Creator) -> str:
        if creator.brand_merchant_id is None:
            return self.get_empty_value_display()
        return getattr(creator, "brand_name", None) or str(creator.brand_merchant_id)

    def save_model(self, request: HttpRequest, obj: Creator, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # A new handle or name is what search finds the creator and their videos by.
        creators_changed.send(sender=Creator, creator_ids=[obj.id])

    def has_add_permission(self, request: HttpRequest) -> bool:
        # People become creators in the app (`creator_create`), tied to their login.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Platform staff only, whatever permissions a merchant's staff were granted:
        # the commission rate and the brand link are the platform's decisions.
        return request_merchant_ids(request) is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Their videos, and the sales credited to them, keep pointing at the profile.
        return False
