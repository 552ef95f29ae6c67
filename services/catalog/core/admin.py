"""What every catalog admin shares: merchant scoping, and the merchant staff group.

Merchant staff are `is_staff` users linked to their merchant(s) through `Merchant.staff`.
An admin built on `MerchantScopedAdminMixin` shows them only their merchants' objects,
answers 404 for anyone else's, and offers only their merchants (and those merchants'
products) as choices in forms. Superusers see everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from merchants.models import Merchant
from merchants.selectors import merchant_list_for_user

MERCHANT_STAFF_GROUP = "Merchant staff"
MERCHANT_STAFF_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("products", "product"): ("view", "add", "change", "delete"),
    ("products", "variant"): ("view", "add", "change", "delete"),
    ("merchants", "merchant"): ("view", "change"),
    ("inventory", "stockmovement"): ("view",),
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


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


class MerchantScopedAdminMixin(_AdminBase):
    """Limits a ModelAdmin to the merchants the signed-in user may act for.

    `merchant_field` is the lookup path from the model to its Merchant ("merchant",
    "product__merchant"; "pk" for the Merchant admin itself).
    """

    merchant_field: str = "merchant"

    def is_unscoped(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def user_merchants(self, request: HttpRequest) -> QuerySet[Merchant]:
        return merchant_list_for_user(user=request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if self.is_unscoped(request):
            return queryset
        return queryset.filter(**{f"{self.merchant_field}__in": self.user_merchants(request)})

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> models.Model | None:
        """Django redirects to the index for a missing object; a scoped user gets a 404
        instead, for another merchant's object and a missing one alike, so the answer
        does not tell them which ids exist."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not self.is_unscoped(request):
            raise Http404(f"No {self.opts.verbose_name} matches the given id.")
        return obj

    def scoped_choices(self, request: HttpRequest, model: Any) -> QuerySet[Any] | None:
        """The rows of `model` the user may pick in a form, or None to leave it alone."""
        if self.is_unscoped(request):
            return None
        if not (isinstance(model, type) and issubclass(model, models.Model)):
            return None
        path = _scope_path_for(model)
        if path is None:
            return None
        return model._default_manager.filter(**{f"{path}__in": self.user_merchants(request)})

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
        if self.is_unscoped(request) and self.merchant_field != "pk":
            filters.append(self.merchant_field)
        return filters

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """Staff of a single merchant find it already chosen on add forms."""
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        field = self.merchant_field
        if self.is_unscoped(request) or field == "pk" or "__" in field or field in initial:
            return initial
        merchants = list(self.user_merchants(request).values_list("pk", flat=True)[:2])
        if len(merchants) == 1:
            initial[field] = merchants[0]
        return initial
