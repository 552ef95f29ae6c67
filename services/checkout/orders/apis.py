"""Checkout and orders for mobile (own orders only). The order events for other services
are in `orders.event_apis`, the webhooks in `orders.webhook_apis`."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from carts.apis import DiscountSerializer, SourceSerializer
from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.pagination import CursorPagination
from clipcart_shared.serializers import (
    CharField,
    EmailField,
    IntegerField,
    MoneySerializer,
    RegexField,
    UUIDField,
)
from clipcart_shared.views import PublicApiView
from orders.models import Order, OrderLine, Shipment
from orders.return_apis import ReturnSerializer, units_lines_field
from orders.selectors import (
    order_of_user,
    order_render,
    orders_of_user,
)
from orders.services import (
    CheckoutLine,
    checkout_create,
    order_buyer_cancel,
)


class AddressSerializer(serializers.Serializer):
    name = CharField(max_length=200)
    line1 = CharField(max_length=200)
    line2 = CharField(max_length=200, required=False, allow_blank=True)
    city = CharField(max_length=100)
    postal_code = CharField(max_length=20)
    country = RegexField(r"^[A-Z]{2}$", help_text="ISO 3166-1 alpha-2")


class OrderLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    variant_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    merchant = serializers.DictField()
    title = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneySerializer(help_text="The list price of one unit.")
    list_price = MoneySerializer(help_text="Unit price times quantity.")
    discount = MoneySerializer(help_text="What promotions took off the line.")
    line_total = MoneySerializer(help_text="Net: what the line was charged.")
    source = SourceSerializer(allow_null=True)  # type: ignore[assignment]
    fulfilment_status = serializers.ChoiceField(OrderLine.Fulfilment.choices)


class ShipmentLineSerializer(serializers.Serializer):
    line_id = serializers.UUIDField()
    quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    merchant = serializers.DictField(help_text="`{id, name}`")
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField(allow_blank=True, help_text="http(s), or empty.")
    status = serializers.ChoiceField(Shipment.Status.choices)
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    lines = ShipmentLineSerializer(many=True)


class OrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(Order.Status.choices)
    email = serializers.EmailField()
    shipping_address = AddressSerializer()
    subtotal = MoneySerializer()
    shipping = MoneySerializer()
    total = MoneySerializer()
    discount_total = MoneySerializer(help_text="What promotions took off, lines and shipping.")
    discounts = DiscountSerializer(many=True)
    refunded = MoneySerializer()
    lines = OrderLineSerializer(many=True)
    shipments = ShipmentSerializer(many=True)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancellation_reason = serializers.CharField(
        allow_blank=True,
        help_text="Why it was cancelled (`expired`, `stock gone before payment`, …); empty "
        "unless cancelled.",
    )
    returns = ReturnSerializer(many=True)


class PaymentSheetSerializer(serializers.Serializer):
    provider = serializers.CharField()
    client_secret = serializers.CharField()
    customer = serializers.CharField()
    customer_session_client_secret = serializers.CharField(allow_null=True)
    ephemeral_key = serializers.CharField(allow_null=True)
    publishable_key = serializers.CharField()


class CheckoutResultSerializer(serializers.Serializer):
    order = OrderSerializer()
    payment = PaymentSheetSerializer()


class CheckoutCreateApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "checkout"
    idempotency_key_required = True

    class CheckoutLineSerializer(serializers.Serializer):
        variant_id = UUIDField()
        quantity = IntegerField(min_value=1, max_value=settings.MAX_LINE_QUANTITY)
        source = SourceSerializer(required=False, allow_null=True)  # type: ignore[assignment]

    class CheckoutInputSerializer(serializers.Serializer):
        email = EmailField()
        shipping_address = AddressSerializer()
        lines = serializers.ListField(
            child=serializers.DictField(),
            required=False,
            min_length=1,
            max_length=settings.MAX_CART_LINES,
            help_text="Buy now: these lines instead of the cart.",
        )
        price_version = CharField(
            required=False,
            max_length=40,
            help_text="The cart's `price_version` the buyer saw: 409 `prices_changed` (with "
            "the cart as now priced) when the checkout would charge other prices.",
        )

    @extend_schema(
        operation_id="checkouts_create",
        request=CheckoutInputSerializer,
        responses={201: CheckoutResultSerializer},
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)
        ],
        description="From the cart, or 'buy now' with `lines`. Stock is held for 15 "
        "minutes; pay with the returned `client_secret` in the payment sheet. With "
        "`price_version` (the cart's), 409 `prices_changed` and nothing held when the prices "
        "changed since (a flash deal ended).",
    )
    def post(self, request: Request) -> Response:
        data = self.CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = None
        if "lines" in data.validated_data:
            parsed = self.CheckoutLineSerializer(data=data.validated_data["lines"], many=True)
            if not parsed.is_valid():
                raise serializers.ValidationError({"lines": parsed.errors})
            lines = [_checkout_line(line) for line in parsed.validated_data]
        checkout = checkout_create(
            user_id=mobile_user_id(request),
            email=data.validated_data["email"],
            shipping_address=data.validated_data["shipping_address"],
            lines=lines,
            seen_price_version=data.validated_data.get("price_version"),
        )
        order = order_of_user(user_id=checkout.order.user_id, order_id=checkout.order.id)
        return Response(
            {
                "order": order_render(order),
                "payment": {
                    "provider": "stripe",
                    "client_secret": checkout.client_secret,
                    "customer": checkout.customer_id,
                    **checkout.customer_keys,
                    "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
                },
            },
            status=status.HTTP_201_CREATED,
        )


def _checkout_line(line: dict[str, Any]) -> CheckoutLine:
    source = line.get("source") or {}
    return CheckoutLine(
        variant_id=line["variant_id"],
        quantity=line["quantity"],
        source_video_id=source.get("video_id"),
        source_tag_id=source.get("tag_id"),
    )


class OrderListApi(PublicApiView):
    permission_classes = [IsMobileUser]
    pagination_class = CursorPagination

    @extend_schema(operation_id="orders_list", responses=OrderSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            orders_of_user(user_id=mobile_user_id(request)), request, view=self
        )
        return paginator.get_paginated_response([order_render(order) for order in page])


def own_order(request: Request, order_id: uuid.UUID) -> Order:
    try:
        return order_of_user(user_id=mobile_user_id(request), order_id=order_id)
    except Order.DoesNotExist as error:
        raise NotFound("No such order.") from error


class OrderDetailApi(PublicApiView):
    permission_classes = [IsMobileUser]

    @extend_schema(operation_id="orders_retrieve", responses=OrderSerializer)
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        return Response(order_render(own_order(request, order_id)))


class OrderCancelApi(PublicApiView):
    permission_classes = [IsMobileUser]

    class CancelInputSerializer(serializers.Serializer):
        lines = units_lines_field(
            required=False,
            help_text="After payment: these units of lines not yet shipped; default all.",
        )

    @extend_schema(
        operation_id="orders_cancel",
        request=CancelInputSerializer,
        responses=OrderSerializer,
        description="Unpaid: the whole order. Paid: the given (default every) units not "
        "yet shipped, refunded at once. 422 `cancel_quantity_exceeds` for shipped units; "
        "409 `order_not_cancellable` when nothing is left to cancel.",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        data = self.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = own_order(request, order_id)
        order_buyer_cancel(
            order_id=order.id, user_id=order.user_id, lines=data.validated_data.get("lines")
        )
        return Response(order_render(own_order(request, order_id)))
