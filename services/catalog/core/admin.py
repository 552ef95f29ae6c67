"""What every catalog admin shares: the merchant staff group, and merchant choices.

Merchant staff are `is_staff` users linked to their merchant(s) through `Merchant.staff`
(`merchants.selectors.merchant_ids_for_user`, the catalog's `MERCHANT_IDS_FOR_USER`).
The scoping to their merchants' rows is `clipcart_shared.admin.MerchantScopedAdminMixin`,
as in every service; `MerchantChoicesAdminMixin` adds what only the owner of merchants
can: form choices limited to their merchants and those merchants' products.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from clipcart_shared.admin import MerchantScopedAdminMixin, request_merchant_ids
from merchants.models import Merchant

MERCHANT_STAFF_GROUP = "Merchant staff"
MERCHANT_STAFF_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("products", "product"): ("view", "add", "change", "delete"),
    ("products", "variant"): ("view", "add", "change", "delete"),
    ("merchants", "merchant"): ("view", "change"),
    ("inventory", "stockmovement"): ("view",),
    ("promotions", "promotion"): ("view", "add", "change"),
}


def merchant_staff_group_ensure() -> Group:
    """The "Merchant staff" group with the model permissions merchant staff need.

    Idempotent: adds what is missing, never removes a permission someone granted.
    The permissions are created by `migrate`, so run it first.
    """
    group, _ = Group.objects.get_or_create(name=MERCHANT_STAFF_GROUP)
    wanted = Q()
    expected = 0
    for (app_label, model), actions in MERCHANT_STAFF_PERMISSIONS.items():
        codenames = [f"{action}_{model}" for action in actions]
        expected += len(codenames)
        wanted |= Q(content_type__app_label=app_label, codename__in=codenames)
    permissions = list(Permission.objects.filter(wanted))
    if len(permissions) != expected:
        raise ImproperlyConfigured(
            "Some merchant staff permissions do not exist yet; run `manage.py migrate`."
        )
    group.permissions.add(*permissions)
    return group


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
