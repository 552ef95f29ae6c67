"""Admin scoping to the merchants a user works for.

Merchant staff are `is_staff` users linked to catalog merchants through
`MerchantMembership` (merchants live in catalog; this service knows them by id). An
admin built on `MerchantScopedAdminMixin` shows them only the rows its `scope_queryset`
keeps for their merchants and answers 404 for every other row, on change, delete and
history pages alike. Superusers (platform staff) see everything.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from clipcart_shared.merchant_access.models import MerchantMembership, merchant_ids_for_user

_MERCHANT_IDS_ATTRIBUTE = "_clipcart_merchant_ids"


def request_merchant_ids(request: HttpRequest) -> list[uuid.UUID] | None:
    """The merchants the signed-in user acts for (None: all of them, a superuser).

    Kept on the request: one admin page asks many times (queryset, object, permissions,
    form choices) and the answer cannot change while the page is built.
    """
    if not hasattr(request, _MERCHANT_IDS_ATTRIBUTE):
        setattr(request, _MERCHANT_IDS_ATTRIBUTE, merchant_ids_for_user(request.user))
    merchant_ids: list[uuid.UUID] | None = getattr(request, _MERCHANT_IDS_ATTRIBUTE)
    return merchant_ids


if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin
else:
    _AdminBase = object


class MerchantScopedAdminMixin(_AdminBase):
    """Limits a ModelAdmin to the rows of the merchants the signed-in user acts for.

    Subclasses say which rows those are in `scope_queryset`.
    """

    def scope_queryset(
        self, queryset: QuerySet[Any], merchant_ids: list[uuid.UUID]
    ) -> QuerySet[Any]:
        raise NotImplementedError

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


@admin.register(MerchantMembership)
class MerchantMembershipAdmin(admin.ModelAdmin):
    """Which admin user works for which catalog merchant: platform staff only (merchant
    staff hold no permission on it, so it does not show for them)."""

    list_display = ["user", "merchant_name", "merchant_id"]
    list_select_related = ["user"]
    search_fields = ["user__username", "merchant_name"]
    ordering = ["merchant_name", "user__username"]
