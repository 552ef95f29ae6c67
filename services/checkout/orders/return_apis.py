"""A buyer's returns of an order's delivered units (own orders only)."""

from __future__ import annotations

import uuid

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.pagination import CursorPagination, limit_parameter
from clipcart_shared.serializers import CharField, IntegerField, UUIDField
from clipcart_shared.views import PublicApiView
from orders.models import Order, OrderReturn
from orders.selectors import order_of_user, return_render, returns_of_order
from orders.services import order_return_request


class UnitsLineInputSerializer(serializers.Serializer):
    line_id = UUIDField()
    quantity = IntegerField(min_value=1, max_value=settings.MAX_LINE_QUANTITY)


class UnitsLineSerializer(serializers.Serializer):
    line_id = serializers.UUIDField()
    quantity = serializers.IntegerField()


class ReturnSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    merchant_id = serializers.UUIDField()
    status = serializers.ChoiceField(OrderReturn.Status.choices)
    reason = serializers.ChoiceField(OrderReturn.Reason.choices)
    note = serializers.CharField(allow_blank=True)
    lines = UnitsLineSerializer(many=True)
    instructions = serializers.CharField(
        allow_blank=True, help_text="How to send it back: the shop's words, once approved."
    )
    rejection_reason = serializers.CharField(allow_blank=True, help_text="Why, if rejected.")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    received_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(
        allow_null=True, help_text="Rejected or refunded at; null while open."
    )


def units_lines_field(**kwargs: object) -> serializers.ListField:
    return serializers.ListField(
        child=UnitsLineInputSerializer(),
        min_length=1,
        max_length=settings.MAX_CART_LINES,
        **kwargs,  # type: ignore[arg-type]
    )


class OrderReturnsApi(PublicApiView):
    permission_classes = [IsMobileUser]
    throttle_scope = "writes"
    idempotency_key_required = True
    pagination_class = CursorPagination  # the list's schema: {results, next}

    class ReturnInputSerializer(serializers.Serializer):
        lines = units_lines_field()
        reason = serializers.ChoiceField(OrderReturn.Reason.choices)
        note = CharField(max_length=1000, required=False, allow_blank=True, default="")

    class Pagination(CursorPagination):
        ordering = ("-requested_at", "-id")

    @extend_schema(
        operation_id="order_returns_create",
        request=ReturnInputSerializer,
        responses={201: ReturnSerializer, 200: ReturnSerializer},
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)
        ],
        description="Return delivered units of one shop's lines within its return window. "
        "422 `return_not_delivered`, `return_window_closed`, `return_quantity_exceeds` "
        "(units delivered, less returned, less held by open returns), "
        "`return_several_merchants`; 404 for a line of another order. The same "
        "Idempotency-Key again answers the same return.",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        data = self.ReturnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_return, is_new = order_return_request(
            order_id=order_id,
            user_id=mobile_user_id(request),
            lines=data.validated_data["lines"],
            reason=data.validated_data["reason"],
            note=data.validated_data["note"],
            idempotency_key=request.headers["Idempotency-Key"],
        )
        order_return = returns_of_order(order=order_return.order).get(id=order_return.id)
        return Response(
            return_render(order_return),
            status=status.HTTP_201_CREATED if is_new else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="order_returns_list",
        parameters=[
            OpenApiParameter("cursor", str, description="From the previous page's `next`."),
            limit_parameter(),
        ],
        responses=ReturnSerializer(many=True),
    )
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        try:
            order = order_of_user(user_id=mobile_user_id(request), order_id=order_id)
        except Order.DoesNotExist as error:
            raise NotFound("No such order.") from error
        paginator = self.Pagination()
        page = paginator.paginate_queryset(returns_of_order(order=order), request, view=self)
        return paginator.get_paginated_response([return_render(r) for r in page or []])
