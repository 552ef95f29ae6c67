"""`/api/v1/merchant/`: a merchant's own systems (`Authorization: MerchantKey <key>`) list
their orders to ship, ship them and mark them delivered, with the rules of the admin
(`orders.services.shipment_create` / `shipment_deliver`). Another merchant's order or
shipment is 404."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.pagination import CursorPagination
from clipcart_shared.serializers import CharField, IntegerField, QuerySerializer, UUIDField
from clipcart_shared.views import PublicApiView
from merchant_api.authentication import (
    IsMerchantSystem,
    MerchantKeyAuthentication,
    request_merchant_id,
)
from merchant_api.selectors import (
    MERCHANT_ORDER_STATUSES,
    merchant_order,
    merchant_order_render,
    merchant_orders,
    merchant_shipment,
    merchant_shipment_render,
)
from orders.apis import AddressSerializer, ShipmentLineSerializer
from orders.models import Order, Shipment
from orders.services import shipment_create, shipment_deliver


class MerchantApiView(PublicApiView):
    authentication_classes = [MerchantKeyAuthentication]
    permission_classes = [IsMerchantSystem]


class MerchantLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    variant_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    sku = serializers.CharField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    line_total = serializers.DictField()
    fulfilment_status = serializers.CharField()
    shipped_quantity = serializers.IntegerField()
    delivered_quantity = serializers.IntegerField()
    cancelled_quantity = serializers.IntegerField()
    to_ship_quantity = serializers.IntegerField()


class MerchantShipmentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    tracking_url = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(Shipment.Status.choices)
    shipped_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    lines = ShipmentLineSerializer(many=True)


class MerchantOrderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(Order.Status.choices)
    paid_at = serializers.DateTimeField(allow_null=True)
    shipping_address = AddressSerializer()
    lines = MerchantLineSerializer(many=True)
    shipments = serializers.ListField(child=serializers.DictField())


class MerchantOrderListApi(MerchantApiView):
    class Pagination(CursorPagination):
        ordering = ("-paid_at", "-id")

    pagination_class = Pagination

    class FilterSerializer(QuerySerializer):
        status = serializers.ChoiceField(MERCHANT_ORDER_STATUSES, required=False)
        since = serializers.DateTimeField(required=False, help_text="Paid at or after.")
        until = serializers.DateTimeField(required=False, help_text="Paid before.")

    @extend_schema(
        operation_id="merchant_orders_list",
        parameters=[FilterSerializer],
        responses=MerchantOrderSerializer(many=True),
        description="Paid orders holding your lines (only yours shown), newest first. "
        "`status` of your part: `to_ship`, `shipped` (not yet delivered), `delivered`.",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            merchant_orders(merchant_id=request_merchant_id(request), **filters.validated_data),
            request,
            view=self,
        )
        return paginator.get_paginated_response([merchant_order_render(o) for o in page or []])


def _order(request: Request, order_id: uuid.UUID) -> Order:
    try:
        return merchant_order(merchant_id=request_merchant_id(request), order_id=order_id)
    except Order.DoesNotExist as error:
        raise NotFound("No such order.") from error


class MerchantOrderDetailApi(MerchantApiView):
    @extend_schema(operation_id="merchant_orders_retrieve", responses=MerchantOrderSerializer)
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        return Response(merchant_order_render(_order(request, order_id)))


class MerchantShipmentCreateApi(MerchantApiView):
    class LineSerializer(serializers.Serializer):
        line_id = UUIDField()
        quantity = IntegerField(min_value=1, max_value=settings.MAX_LINE_QUANTITY)

    class ShipmentInputSerializer(serializers.Serializer):
        carrier = CharField(max_length=60)
        tracking_number = CharField(max_length=100)
        tracking_url = serializers.URLField(
            max_length=500, required=False, allow_blank=True, help_text="http(s) only."
        )
        lines = serializers.ListField(
            child=serializers.DictField(), min_length=1, max_length=settings.MAX_CART_LINES
        )

    @extend_schema(
        operation_id="merchant_shipments_create",
        request=ShipmentInputSerializer,
        responses={201: MerchantShipmentSerializer},
        description="Ship units of your lines of the order. 422 "
        "`quantity_exceeds_unshipped` for more than is left to ship (a replayed request "
        "ships nothing twice), 409 `order_not_shippable`, 404 for an order or line not "
        "yours. `Idempotency-Key` accepted.",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        data = self.ShipmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = self.LineSerializer(data=data.validated_data["lines"], many=True)
        if not lines.is_valid():
            raise serializers.ValidationError({"lines": lines.errors})
        shipment = shipment_create(
            order_id=order_id,
            merchant_id=request_merchant_id(request),
            carrier=data.validated_data["carrier"],
            tracking_number=data.validated_data["tracking_number"],
            tracking_url=data.validated_data.get("tracking_url", ""),
            lines=[(line["line_id"], line["quantity"]) for line in lines.validated_data],
            created_by=str(request.user.id),
        )
        return Response(merchant_shipment_render(shipment), status=status.HTTP_201_CREATED)


class MerchantShipmentDeliveredApi(MerchantApiView):
    @extend_schema(
        operation_id="merchant_shipments_delivered",
        request=None,
        responses=MerchantShipmentSerializer,
        description="Mark your shipment delivered (once; again changes nothing).",
    )
    def post(self, request: Request, shipment_id: uuid.UUID) -> Response:
        merchant_id = request_merchant_id(request)
        try:
            merchant_shipment(merchant_id=merchant_id, shipment_id=shipment_id)
        except Shipment.DoesNotExist as error:
            raise NotFound("No such shipment.") from error
        shipment_deliver(shipment_id=shipment_id, by=Shipment.DeliveredBy.MERCHANT)
        return Response(
            merchant_shipment_render(
                merchant_shipment(merchant_id=merchant_id, shipment_id=shipment_id)
            )
        )
