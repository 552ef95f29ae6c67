"""Product browsing for mobile (public). Quotes for checkout are `promotions.apis`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.pages import shared_page
from clipcart_shared.pagination import CursorPagination, limit_parameter
from clipcart_shared.serializers import (
    MoneySerializer,
    QuerySerializer,
    UUIDField,
)
from clipcart_shared.views import PublicApiView
from products.models import Product
from products.selectors import card_time, product_card_get, product_list


class VariantCardSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sku = serializers.CharField()
    title = serializers.CharField()
    options = serializers.DictField(child=serializers.CharField())
    price = MoneySerializer()
    stock_status = serializers.ChoiceField(["in_stock", "low_stock", "out_of_stock"])


class MerchantRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class CategoryRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class FlashDealSerializer(serializers.Serializer):
    price = MoneySerializer(help_text="The deal's unit price.")
    ends_at = serializers.DateTimeField()
    remaining = serializers.IntegerField(
        allow_null=True, help_text="Units left at the deal price; null: no total limit."
    )
    per_buyer_limit = serializers.IntegerField(help_text="Units one buyer gets at this price.")
    video_id = serializers.UUIDField(
        help_text="The video it runs on: lines added from that video get the price."
    )
    variant_id = serializers.UUIDField(
        allow_null=True, help_text="The variant it is on; null: every variant."
    )


class ProductCardSerializer(serializers.Serializer):
    """The card stored on each product (`products.selectors.CARDS_SQL`)."""

    id = serializers.UUIDField()
    merchant = MerchantRefSerializer()
    category = CategoryRefSerializer(
        allow_null=True, help_text="What kind of product it is; null when not set."
    )
    title = serializers.CharField()
    description = serializers.CharField()
    images = serializers.ListField(child=serializers.URLField())
    price = MoneySerializer(allow_null=True, help_text="The lowest variant price.")
    stock_status = serializers.ChoiceField(["in_stock", "low_stock", "out_of_stock"])
    variants = VariantCardSerializer(many=True)
    flash_deal = FlashDealSerializer(
        allow_null=True, help_text="A flash deal running on the product; null when none."
    )


FLASH_DEAL_PUBLIC = ("price", "ends_at", "remaining", "per_buyer_limit", "video_id", "variant_id")


def card_with_flash_deal(card: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The card as the API shows it: its stored flash deal (the running or next one) only
    while it runs, by the clock, so a deal starts and ends on a stored page within its
    `FEED_MAX_STALENESS_SECONDS`; null otherwise (and for cards stored before deals)."""
    deal = card.get("flash_deal")
    moment = card_time(now or timezone.now())
    if deal and deal["starts_at"] <= moment < deal["ends_at"]:
        return {**card, "flash_deal": {key: deal[key] for key in FLASH_DEAL_PUBLIC}}
    return {**card, "flash_deal": None}


class ProductListApi(PublicApiView):
    class FilterSerializer(QuerySerializer):
        merchant = UUIDField(required=False)
        category = serializers.SlugField(
            required=False, max_length=60, help_text="Only products of this category (slug)."
        )
        q = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            trim_whitespace=True,
            help_text="Full-text search; empty is no search.",
        )

    pagination_class = CursorPagination

    @extend_schema(
        operation_id="products_list",
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str, description="From the previous page's `next`."),
            limit_parameter(),
        ],
        responses=ProductCardSerializer(many=True),
    )
    def get(self, request: Request) -> HttpResponse:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)

        def render() -> bytes:
            products = product_list(
                merchant_id=filters.validated_data.get("merchant"),
                category_slug=filters.validated_data.get("category"),
                query=filters.validated_data.get("q") or None,
            )
            paginator = self.pagination_class()
            page = paginator.paginate_queryset(products, request, view=self)
            answer = paginator.get_paginated_response(
                [card_with_flash_deal(row["card"]) for row in page]
            )
            return JSONRenderer().render(answer.data)

        # The same for every caller (no field is personal): one stored page for all.
        return shared_page(request, render)


class ProductDetailApi(PublicApiView):
    @extend_schema(operation_id="products_retrieve", responses=ProductCardSerializer)
    def get(self, request: Request, product_id: uuid.UUID) -> Response:
        try:
            card = product_card_get(product_id=product_id)
        except Product.DoesNotExist as error:
            raise NotFound("No such product.") from error
        return Response(card_with_flash_deal(card))
