"""`/api/v1/merchant/returns/`: a merchant's systems list the returns of their lines and
decide them, with the rules of the admin (`orders.services.order_return_approve` /
`_reject` / `_receive`). Another merchant's return is 404."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.pagination import CursorPagination
from clipcart_shared.serializers import BooleanField, CharField, QuerySerializer
from merchant_api.apis import MerchantApiView
from merchant_api.authentication import request_merchant_id
from orders.models import OrderReturn
from orders.return_apis import ReturnSerializer
from orders.selectors import return_render, returns_of_merchant
from orders.services import order_return_approve, order_return_receive, order_return_reject


def _by(request: Request) -> str:
    return f"merchant key {request.user.id}"


class MerchantReturnListApi(MerchantApiView):
    class Pagination(CursorPagination):
        ordering = ("-requested_at", "-id")

    class FilterSerializer(QuerySerializer):
        status = serializers.ChoiceField(OrderReturn.Status.choices, required=False)

    @extend_schema(
        operation_id="merchant_returns_list",
        parameters=[FilterSerializer],
        responses=ReturnSerializer(many=True),
        description="Returns of your lines, newest first; of one `status` if given.",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(
            returns_of_merchant(
                merchant_id=request_merchant_id(request),
                status=filters.validated_data.get("status"),
            ),
            request,
            view=self,
        )
        return paginator.get_paginated_response([return_render(r) for r in page or []])


class MerchantReturnApproveApi(MerchantApiView):
    @extend_schema(
        operation_id="merchant_returns_approve",
        request=None,
        responses=ReturnSerializer,
        description="Requested → approved: the buyer is sent your return instructions. "
        "409 `return_not_in_state` otherwise.",
    )
    def post(self, request: Request, return_id: uuid.UUID) -> Response:
        order_return = order_return_approve(
            return_id=return_id, merchant_id=request_merchant_id(request), by=_by(request)
        )
        return Response(return_render(order_return))


class MerchantReturnRejectApi(MerchantApiView):
    class RejectionSerializer(serializers.Serializer):
        reason = CharField(max_length=500, help_text="Told to the buyer.")

    @extend_schema(
        operation_id="merchant_returns_reject",
        request=RejectionSerializer,
        responses=ReturnSerializer,
        description="Requested → rejected, with the reason the buyer is told; its units "
        "settle as if never asked. 409 `return_not_in_state` otherwise.",
    )
    def post(self, request: Request, return_id: uuid.UUID) -> Response:
        data = self.RejectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_return = order_return_reject(
            return_id=return_id,
            merchant_id=request_merchant_id(request),
            by=_by(request),
            reason=data.validated_data["reason"],
        )
        return Response(return_render(order_return))


class MerchantReturnReceivedApi(MerchantApiView):
    class ReceiptSerializer(serializers.Serializer):
        restock = BooleanField(required=False, default=False, help_text="Units back to stock.")
        refund_shipping = BooleanField(
            required=False,
            default=False,
            help_text="Refund your shipping share too (only when your whole part comes back).",
        )

    @extend_schema(
        operation_id="merchant_returns_received",
        request=ReceiptSerializer,
        responses=ReturnSerializer,
        description="Approved → received: the units are refunded (then `refunded`), and "
        "restocked if `restock`. 409 `return_not_in_state` otherwise.",
    )
    def post(self, request: Request, return_id: uuid.UUID) -> Response:
        data = self.ReceiptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_return = order_return_receive(
            return_id=return_id,
            merchant_id=request_merchant_id(request),
            by=_by(request),
            restock=data.validated_data["restock"],
            refund_shipping=data.validated_data["refund_shipping"],
        )
        return Response(return_render(order_return))
