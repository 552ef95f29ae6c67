"""Quotes for checkout (internal): lines priced, with the merchants' promotions applied."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import CharField, CurrencyField, MoneySerializer
from clipcart_shared.views import InternalApiView
from core.serializers import LinesInputSerializer
from products.selectors import quote_build
from promotions.pricing import quote_promotions_apply


class QuoteLineSerializer(serializers.Serializer):
    variant_id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    category_id = serializers.UUIDField(allow_null=True, help_text="The product's category.")
    merchant_id = serializers.UUIDField()
    sku = serializers.CharField()
    title = serializers.CharField()
    variant_title = serializers.CharField()
    image = serializers.URLField(allow_null=True)
    quantity = serializers.IntegerField()
    unit_price = MoneySerializer()
    line_total = MoneySerializer(help_text="At list price: unit price times quantity.")
    discount = MoneySerializer(help_text="What the promotions take off this line.")
    net_total = MoneySerializer(help_text="What the line costs: line total less discount.")
    stock_status = serializers.CharField()
    available = serializers.IntegerField()
    max_units_per_buyer = serializers.IntegerField(
        help_text="The merchant's cap on units of this variant in one buyer's unpaid checkouts."
    )


class QuoteMerchantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    shipping_fee = MoneySerializer()
    shipping_discount = MoneySerializer(help_text="Taken off the fee by free shipping.")


class DiscountLineSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The line's position in the request.")
    amount = MoneySerializer()


class DiscountSerializer(serializers.Serializer):
    promotion_id = serializers.UUIDField()
    merchant_id = serializers.UUIDField()
    code = serializers.CharField(allow_null=True)
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = MoneySerializer(help_text="Lines and shipping.")
    shipping = MoneySerializer()
    lines = DiscountLineSerializer(many=True)


class CodeRefusedSerializer(serializers.Serializer):
    code = serializers.CharField()
    reason = serializers.CharField(help_text="`promotion_unknown`, `promotion_expired`, …")


class QuoteApi(InternalApiView):
    class QuoteInputSerializer(LinesInputSerializer):
        currency = CurrencyField(required=False, help_text="Refuse lines in another currency.")
        codes = serializers.ListField(
            child=CharField(max_length=40), required=False, max_length=20, default=list
        )
        customer_id = CharField(
            max_length=128, required=False, help_text="The buyer, for per-buyer limits."
        )

    class QuoteSerializer(serializers.Serializer):
        lines = QuoteLineSerializer(many=True)
        merchants = QuoteMerchantSerializer(many=True)
        discounts = DiscountSerializer(many=True)
        codes_refused = CodeRefusedSerializer(many=True)

    @extend_schema(
        operation_id="quotes_create",
        request=QuoteInputSerializer,
        responses={200: QuoteSerializer},
        description="Price lines, with the merchants' automatic promotions and the codes "
        "asked applied (ADR 32). A code that cannot apply is not an error here: it is "
        "named in `codes_refused` with the reason, and the caller decides.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quote = quote_build(lines=serializer.line_tuples(), currency=data.get("currency"))
        quote = quote_promotions_apply(
            quote=quote, codes=data["codes"], customer_id=data.get("customer_id")
        )
        return Response(quote, status=status.HTTP_200_OK)
