"""What checkout asks attribution (`/internal/v1/`, service credential only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from attribution.models import AttributionModel
from attribution.selectors import order_commission
from clipcart_shared.serializers import QuerySerializer, UUIDField
from clipcart_shared.views import InternalApiView


class OrderCommissionApi(InternalApiView):
    """The commission the merchant's lines of one order owe creators, under the model the
    merchant chose, net of the refunds applied. Checkout asks when the merchant's part
    settles, to transfer the merchant its share less this (ADR 30)."""

    class CommissionQuerySerializer(QuerySerializer):
        order_id = UUIDField()
        merchant_id = UUIDField()

    class CommissionSerializer(serializers.Serializer):
        order_id = serializers.UUIDField()
        merchant_id = serializers.UUIDField()
        model = serializers.ChoiceField(AttributionModel.values)
        lines = serializers.DictField(
            child=serializers.IntegerField(),
            help_text="{line id: commission in minor units}, for the lines whose "
            "`order.paid` is recorded (a line missing: not heard of yet).",
        )
        refund_ids = serializers.ListField(
            child=serializers.UUIDField(),
            help_text="The order's refunds applied to the credits (a refund missing: "
            "its `order.refunded` not applied yet).",
        )
        refunds = serializers.DictField(
            child=serializers.IntegerField(),
            help_text="{refund id: commission its reversing credits took back from these "
            "lines, in minor units (negative or 0)}, for the applied refunds that reversed "
            "some commission: what checkout's ledger claws back for that refund (ADR 38).",
        )

    @extend_schema(
        operation_id="order_commission",
        parameters=[CommissionQuerySerializer],
        responses={200: CommissionSerializer},
    )
    def get(self, request: Request) -> Response:
        query = self.CommissionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        order_id = query.validated_data["order_id"]
        merchant_id = query.validated_data["merchant_id"]
        answer = order_commission(order_id=order_id, merchant_id=merchant_id)
        return Response({"order_id": str(order_id), "merchant_id": str(merchant_id), **answer})
