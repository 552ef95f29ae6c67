"""The order list's filters the home page links to (`orders.admin.home`): each keeps
exactly the orders the home page counted, for the signed-in user's merchants."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from clipcart_shared.admin import request_merchant_ids
from orders.home_selectors import orders_from_video, orders_to_ship, orders_with_refunds
from orders.models import Order, Refund


class ToShipFilter(admin.SimpleListFilter):
    title = "to ship"
    parameter_name = "to_ship"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Units left to ship")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "yes":
            return orders_to_ship(queryset, request_merchant_ids(request))
        return queryset


class FromVideoFilter(admin.SimpleListFilter):
    title = "bought from a video"
    parameter_name = "from_video"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "A line picked from a video"), ("no", "No line from a video")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() in ("yes", "no"):
            merchant_ids = request_merchant_ids(request)
            return orders_from_video(queryset, merchant_ids, is_from_video=self.value() == "yes")
        return queryset


class RefundFilter(admin.SimpleListFilter):
    title = "refunds"
    parameter_name = "refund"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (Refund.Status.FAILED, "A refund failed"),
            ("stuck", "A refund pending over 10 minutes"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() in (Refund.Status.FAILED, "stuck"):
            return orders_with_refunds(queryset, str(self.value()))
        return queryset
