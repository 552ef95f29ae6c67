"""Admin building blocks every service uses: read-only rows, and scoping to a merchant."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.contrib.admin.options import BaseModelAdmin

    _Base = BaseModelAdmin[Any]
    _ModelAdminBase = ModelAdmin[Any]
else:
    _Base = object
    _ModelAdminBase = object


class ReadOnlyAdminMixin(_Base):
    """Rows to look at, never to add, change or delete here: they are written by the
    service's own code (events, payments, attribution) or by the app."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


_MERCHANT_IDS_ATTRIBUTE = "_clipcart_merchant_ids"


def request_merchant_ids(request: HttpRequest) -> list[uuid.UUID] | None:
    """The merchants the signed-in user acts for (None: all of them, a superuser).

    Each service says how it knows a user's merchants in its `MERCHANT_IDS_FOR_USER`
    setting (the dotted path of a `function(user) -> list[UUID] | None`): catalog, which
    owns merchants, from `Merchant.staff`; video and checkout from `MerchantMembership`.
    Kept on the request: one admin page asks many times (queryset, object, permissions,
    form choices) and the answer cannot change while the page is built.
    """
    if not hasattr(request, _MERCHANT_IDS_ATTRIBUTE):
        merchant_ids_for_user = import_string(settings.MERCHANT_IDS_FOR_USER)
        setattr(request, _MERCHANT_IDS_ATTRIBUTE, merchant_ids_for_user(request.user))
    merchant_ids: list[uuid.UUID] | None = getattr(request, _MERCHANT_IDS_ATTRIBUTE)
    return merchant_ids


class MerchantScopedAdminMixin(_ModelAdminBase):
    """Limits a ModelAdmin to the rows of the merchants the signed-in user acts for.

    Merchant staff are `is_staff` users linked to their merchant(s); they see only the
    rows `scope_queryset` keeps for their merchants and get 404 for every other row, on
    change, delete and history pages alike. Superusers (platform staff) see everything.

    `merchant_field` is the lookup path from a row to its merchant's id ("merchant_id",
    "product__merchant"; "pk" for a merchant admin itself); an admin whose rows reach
    their merchant another way overrides `scope_queryset` instead.
    """

    merchant_field: str = "merchant_id"

    def scope_queryset(
        self, queryset: QuerySet[Any], merchant_ids: list[uuid.UUID]
    ) -> QuerySet[Any]:
        return queryset.filter(**{f"{self.merchant_field}__in": merchant_ids})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        merchant_ids = request_merchant_ids(request)
        if merchant_ids is None:
            return queryset
        return self.scope_queryset(queryset, merchant_ids)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> models.Model | None:
        """Django redirects to the index for a missing object; a merchant's staff get a
        404 instead, for another merchant's object and a missing one alike, so the answer
        does not tell them which ids exist."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None and request_merchant_ids(request) is not None:
            raise Http404(f"No {self.opts.verbose_name} matches the given id.")
        return obj
