"""Admin building blocks every service uses: read-only rows (for platform staff only,
where they concern no one merchant), scoping to a merchant,
thumbnails of images the browser loads, and links to the other services' admins."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

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


class PlatformReadOnlyAdminMixin(ReadOnlyAdminMixin):
    """Read-only rows for platform staff only, whatever permissions a group grants:
    logs and records that concern no one merchant (webhook events, carts, payouts)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)


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


# --- pictures the browser loads ------------------------------------------------------------


def web_image_url(url: str | None) -> str | None:
    """`url` when a browser may load it as an image here: an absolute http(s) URL with a
    host; None for anything else (`javascript:`, `data:`, relative or empty). The server
    never fetches it; it is only written, escaped, into an `<img src>`."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return url.strip()


def thumbnail(url: str | None, *, alt: str = "", size: int = 48) -> SafeString | str:
    """A small `<img>` for a change list's column (the URL escaped, http(s) only), or ""
    when there is no loadable picture (the admin then shows its empty value)."""
    src = web_image_url(url)
    if src is None:
        return ""
    return format_html(
        '<img src="{}" alt="{}" class="clipcart-thumbnail" width="{}" height="{}" '
        'loading="lazy" referrerpolicy="no-referrer" '
        'style="object-fit:cover;border-radius:4px;background:#d9dee3;vertical-align:middle">',
        src,
        alt,
        size,
        size,
    )


# --- links between the three admins ---------------------------------------------------------


def console_admin_url(service: str, path: str = "", **query: Any) -> str:
    """Where the browser opens `path` of `service`'s admin (catalog, video, checkout), from
    the `CONSOLE_ADMIN_URLS` setting: the embedded run's port, or `/<service>/admin/` behind
    the gateway. `query` becomes a change list's filter (`tags__product_id=...`)."""
    base = str(settings.CONSOLE_ADMIN_URLS[service])
    url = f"{base.rstrip('/')}/{path.lstrip('/')}"
    return f"{url}?{urlencode(query)}" if query else url
