"""The mobile user's cart."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from carts.models import CartLine
from carts.selectors import cart_render
from carts.services import cart_for_user, cart_line_add, cart_line_remove, cart_line_update
from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.serializers import IntegerField, MoneySerializer, UUIDField
from clipcart_shared.views import PublicApiView


class SourceSerializer(serializers.Serializer):
    video_id = UUIDField()
    tag_id = UUIDField(required=False, allow_null=True)


class CartLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    variant_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneySerializer()
    line_total = MoneySerializer()
    source = SourceSerializer(allow_null=True)  # type: ignore[assignment]


class CartSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    currency = serializers.CharField(allow_null=True)
    lines = CartLineSerializer(many=True)
    subtotal = MoneySerializer(allow_null=True)


def _cart(request: Request) -> Response:
    return Response(cart_render(cart_for_user(user_id=mobile_user_id(request))))


class CartApi(PublicApiView):
    permission_classes = [IsMobileUser]

    @extend_schema(operation_id="cart_retrieve", responses=CartSerializer)
    def get(self, request: Request) -> Response:
        return _cart(request)


class CartLineAddApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "cart"

    class CartLineInputSerializer(serializers.Serializer):
        variant_id = UUIDField()
        quantity = IntegerField(min_value=1, max_value=settings.MAX_LINE_QUANTITY)
        source = SourceSerializer(required=False, allow_null=True)  # type: ignore[assignment]

    @extend_schema(
        operation_id="cart_lines_create",
        request=CartLineInputSerializer,
        responses={201: CartSerializer},
    )
    def post(self, request: Request) -> Response:
        data = self.CartLineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = data.validated_data.get("source") or {}
        cart_line_add(
            user_id=mobile_user_id(request),
            variant_id=data.validated_data["variant_id"],
            quantity=data.validated_data["quantity"],
            source_video_id=source.get("video_id"),
            source_tag_id=source.get("tag_id"),
        )
        response = _cart(request)
        response.status_code = status.HTTP_201_CREATED
        return response


class CartLineApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "cart"

    class CartLineUpdateSerializer(serializers.Serializer):
        quantity = IntegerField(min_value=1, max_value=settings.MAX_LINE_QUANTITY)

    @extend_schema(
        operation_id="cart_lines_partial_update",
        request=CartLineUpdateSerializer,
        responses=CartSerializer,
    )
    def patch(self, request: Request, line_id: uuid.UUID) -> Response:
        data = self.CartLineUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            cart_line_update(
                user_id=mobile_user_id(request),
                line_id=line_id,
                quantity=data.validated_data["quantity"],
            )
        except CartLine.DoesNotExist as error:
            raise NotFound("No such cart line.") from error
        return _cart(request)

    @extend_schema(operation_id="cart_lines_destroy", responses={200: CartSerializer})
    def delete(self, request: Request, line_id: uuid.UUID) -> Response:
        try:
            cart_line_remove(user_id=mobile_user_id(request), line_id=line_id)
        except CartLine.DoesNotExist as error:
            raise NotFound("No such cart line.") from error
        return _cart(request)
