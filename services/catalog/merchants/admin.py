"""The merchant admin, and the merchant choices every catalog admin adds to the shared
scoping (`MerchantChoicesAdminMixin`): catalog owns merchants, so only its admins can
offer a user's merchants, and their products, as form choices.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from clipcart_shared.admin import MerchantScopedAdminMixin, request_merchant_ids
from clipcart_shared.money import Money
from merchants.models import Merchant


def _scope_path_for(model: type[models.Model]) -> str | None:
    """How rows of `model` point at their merchant: "pk" for Merchant itself, "merchant"
    for a model with a `merchant` foreign key, None for models no merchant owns."""
    if issubclass(model, Merchant):
        return "pk"
    try:
        field = model._meta.get_field("merchant")
    except FieldDoesNotExist:
        return None
    if field.is_relation and field.related_model is Merchant:
        return "merchant"
    return None


class MerchantChoicesAdminMixin(MerchantScopedAdminMixin):
    """The shared merchant scoping, plus what the catalog, which owns merchants, adds:
    forms offer only the user's merchants (and those merchants' products) as choices,
    a merchant filter for superusers, and a single merchant already chosen on add forms.

    `merchant_field` is the lookup path from the model to its Merchant ("merchant",
    "product__merchant"; "pk" for the Merchant admin itself).
    """

    merchant_field: str = "merchant"

    def scoped_choices(self, request: HttpRequest, model: Any) -> QuerySet[Any] | None:
        """The rows of `model` the user may pick in a form, or None to leave it alone."""
        merchant_ids = request_merchant_ids(request)
        if merchant_ids is None:
            return None
        if not (isinstance(model, type) and issubclass(model, models.Model)):
            return None
        path = _scope_path_for(model)
        if path is None:
            return None
        return model._default_manager.filter(**{f"{path}__in": merchant_ids})

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> Any:
        choices = self.scoped_choices(request, db_field.related_model)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> Any:
        choices = self.scoped_choices(request, db_field.related_model)
        if choices is not None and "queryset" not in kwargs:
            kwargs["queryset"] = choices
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        """A merchant filter for superusers only: it would list every merchant's name."""
        filters = list(super().get_list_filter(request))
        if request_merchant_ids(request) is None and self.merchant_field != "pk":
            filters.append(self.merchant_field)
        return filters

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """Staff of a single merchant find it already chosen on add forms."""
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        field = self.merchant_field
        merchant_ids = request_merchant_ids(request)
        if merchant_ids is None or field == "pk" or "__" in field or field in initial:
            return initial
        if len(merchant_ids) == 1:
            initial[field] = merchant_ids[0]
        return initial


@admin.register(Merchant)
class MerchantAdmin(MerchantChoicesAdminMixin, admin.ModelAdmin):
    """Platform staff (superusers) manage merchants; a merchant's own staff may only
    rename it and set its shipping fee and the most units of a variant one buyer may hold.

    Registered as it is here, then extended by `products.admin.MerchantCardsAdmin`: a
    merchant's name is on its products' cards, which products republishes."""

    merchant_field = "pk"
    list_display = ["name", "slug", "currency", "shipping_fee", "created_at"]
    search_fields = ["name", "slug"]
    fields = [
        "name",
        "slug",
        "currency",
        "shipping_fee_amount",
        "max_units_per_buyer",
        "staff",
        "created_at",
    ]
    filter_horizontal = ["staff"]
    ordering = ["name"]

    @admin.display(description="Shipping fee", ordering="shipping_fee_amount")
    def shipping_fee(self, merchant: Merchant) -> str:
        return Money(merchant.shipping_fee_amount, merchant.currency).format()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if not request.user.is_superuser:
            return ["slug", "currency", "staff", "created_at"]
        # Prices are minor units of the merchant's currency: changing it later would
        # silently reprice every product.
        return ["created_at"] if obj is None else ["currency", "created_at"]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        if request.user.is_superuser and obj is None:
            return {"slug": ["name"]}
        return {}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)
