"""Product browsing for mobile (public). Quotes for checkout are `promotions.apis`."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
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
from products.selectors import product_card_get, product_list


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
    price = MoneySerializer()
    ends_at = serializers.DateTimeField()
    remaining = serializers.IntegerField(allow_null=True)
    per_buyer_limit = serializers.IntegerField()


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


def card_with_flash_deal(card: dict[str, Any]) -> dict[str, Any]:
    """Cards stored before flash deals existed carry no `flash_deal` key: null, as
    `CARDS_SQL` now writes it (flash deals themselves are not built yet, ADR 32)."""
    if "flash_deal" in card:
        return card
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
