"""The mobile user's cart."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from carts.models import CartDiscount, CartLine
from carts.selectors import cart_render
from carts.services import (
    cart_discount_add,
    cart_discount_remove,
    cart_for_user,
    cart_line_add,
    cart_line_remove,
    cart_line_update,
)
from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.serializers import CharField, IntegerField, MoneySerializer, UUIDField
from clipcart_shared.views import PublicApiView


class SourceSerializer(serializers.Serializer):
    video_id = UUIDField()
    tag_id = UUIDField(required=False, allow_null=True)


class LineFlashDealSerializer(serializers.Serializer):
    price = MoneySerializer(help_text="The deal's unit price (the line's `unit_price`).")
    list_price = MoneySerializer(help_text="The unit price without the deal.")
    ends_at = serializers.DateTimeField()


class CartLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    variant_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneySerializer()
    list_price = MoneySerializer(help_text="Unit price times quantity.")
    discount = MoneySerializer(help_text="What promotions take off the line.")
    line_total = MoneySerializer(help_text="Net: list price less discount.")
    flash_deal = LineFlashDealSerializer(
        allow_null=True,
        help_text="The flash deal of the line's video whose price it has; null: none.",
    )
    source = SourceSerializer(allow_null=True)  # type: ignore[assignment]


class DiscountLineSerializer(serializers.Serializer):
    line_id = serializers.UUIDField()
    amount = MoneySerializer()


class DiscountSerializer(serializers.Serializer):
    code = serializers.CharField(allow_null=True, help_text="null: an automatic promotion.")
    kind = serializers.ChoiceField(["percent", "fixed_amount", "free_shipping"])
    description = serializers.CharField()
    amount = MoneySerializer(help_text="Off the lines and the shipping together.")
    merchant_id = serializers.UUIDField(help_text="The merchant part it applies to.")
    shipping = MoneySerializer(help_text="Off that merchant's shipping.")
    lines = DiscountLineSerializer(many=True, help_text="Off each line it applies to.")


class CodeRefusedSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField(help_text="`promotion_expired`, `promotion_exhausted`, …")


class CartSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    currency = serializers.CharField(allow_null=True)
    lines = CartLineSerializer(many=True)
    subtotal = MoneySerializer(allow_null=True, help_text="The lines' net totals.")
    discounts = DiscountSerializer(many=True)
    discount_total = MoneySerializer(allow_null=True)
    codes = serializers.ListField(child=serializers.CharField())
    codes_refused = CodeRefusedSerializer(
        many=True, help_text="Codes on the cart that no longer apply, and why."
    )
    price_version = serializers.CharField(
        allow_null=True,
        help_text="What these prices charge, as a tag: send it as the checkout's "
        "`price_version` (409 `prices_changed` when the checkout's differ). Null when "
        "catalog could not price the cart.",
    )


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


class CartDiscountAddApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "cart"

    class DiscountInputSerializer(serializers.Serializer):
        code = CharField(max_length=40, trim_whitespace=True)

    @extend_schema(
        operation_id="cart_discount_create",
        request=DiscountInputSerializer,
        responses={200: CartSerializer},
        description="Apply a code (case does not matter) to the cart; it replaces another "
        "code of the same merchant. 422 `promotion_unknown`, `promotion_expired`, "
        "`promotion_not_started`, `promotion_exhausted`, `promotion_not_applicable`, "
        "`promotion_minimum_not_met`, `promotion_already_used` or `cart_empty`, with "
        "nothing written.",
    )
    def post(self, request: Request) -> Response:
        data = self.DiscountInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_discount_add(user_id=mobile_user_id(request), code=data.validated_data["code"])
        return _cart(request)


class CartDiscountApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "cart"

    @extend_schema(operation_id="cart_discount_destroy", responses={200: CartSerializer})
    def delete(self, request: Request, code: str) -> Response:
        try:
            cart_discount_remove(user_id=mobile_user_id(request), code=code)
        except CartDiscount.DoesNotExist as error:
            raise NotFound("This code is not on the cart.") from error
        return _cart(request)
