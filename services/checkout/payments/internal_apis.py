"""What video tells checkout's ledger (`/internal/v1/`, service credential only)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import CharField, CurrencyField, IntegerField, UUIDField
from clipcart_shared.views import InternalApiView
from payments.creator_payouts import creator_payout_post


class CreatorPayoutRecordApi(InternalApiView):
    """A creator's payout that video sent (ADR 33): posted once in the ledger — the
    creators' commission payable of each merchant down by its share, the platform's cash
    down by the amount. A repeat answers `recorded: false` and posts nothing."""

    class MerchantShareSerializer(serializers.Serializer):
        merchant_id = UUIDField()
        amount = IntegerField(min_value=-(2**53), max_value=2**53)

    class PayoutSerializer(serializers.Serializer):
        payout_id = UUIDField()
        creator_id = UUIDField()
        currency = CurrencyField()
        amount = IntegerField(min_value=1, max_value=2**53)
        stripe_transfer_id = CharField(max_length=255)
        merchants = serializers.ListField(min_length=1, max_length=1000)

        def validate_merchants(self, value: list[object]) -> list[dict[str, object]]:
            shares = CreatorPayoutRecordApi.MerchantShareSerializer(data=value, many=True)
            shares.is_valid(raise_exception=True)
            return list(shares.validated_data)

    class AnswerSerializer(serializers.Serializer):
        recorded = serializers.BooleanField()

    @extend_schema(
        operation_id="creator_payout_record",
        request=PayoutSerializer,
        responses={200: AnswerSerializer},
        description="422 `payout_shares_mismatch` when the merchants' shares do not add "
        "up to the amount.",
    )
    def post(self, request: Request) -> Response:
        body = self.PayoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        recorded = creator_payout_post(
            payout_id=data["payout_id"],
            currency=data["currency"],
            amount=data["amount"],
            stripe_transfer_id=data["stripe_transfer_id"],
            merchants=[(share["merchant_id"], share["amount"]) for share in data["merchants"]],
        )
        return Response({"recorded": recorded})
