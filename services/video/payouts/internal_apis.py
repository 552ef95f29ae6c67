"""What checkout asks of creators' payouts (`/internal/v1/`, service credential only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import QuerySerializer
from clipcart_shared.views import InternalApiView
from payouts.selectors import creator_balances_by_merchant


class CreatorBalancesApi(InternalApiView):
    """What video owes creators per merchant and currency, as of `before`: checkout's
    periodic audit compares it with its ledger's commission owed to creators (ADR 38)."""

    class BalancesQuerySerializer(QuerySerializer):
        before = serializers.DateTimeField()

    class BalanceSerializer(serializers.Serializer):
        merchant_id = serializers.UUIDField()
        currency = serializers.CharField()
        amount = serializers.IntegerField(
            help_text="Minor units owed to creators: commission and clawbacks posted before "
            "`before`, less the payouts checkout recorded before then."
        )

    class BalancesSerializer(serializers.Serializer):
        before = serializers.DateTimeField()
        balances = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        operation_id="creator_balances",
        parameters=[BalancesQuerySerializer],
        responses={200: BalancesSerializer},
    )
    def get(self, request: Request) -> Response:
        query = self.BalancesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        before = query.validated_data["before"]
        balances = creator_balances_by_merchant(before=before)
        return Response(
            {
                "before": before,
                "balances": self.BalanceSerializer(balances, many=True).data,
            }
        )
