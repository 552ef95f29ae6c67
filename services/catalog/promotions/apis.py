"""Quotes for checkout (internal): lines priced, with the merchants' promotions applied."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from clipcart_shared.serializers import (
    CharField,
    CurrencyField,
    MoneySerializer,
    RegexField,
    UUIDField,
)
from clipcart_shared.views import InternalApiView
from core.serializers import MAX_LINES, LineInputSerializer, LinesInputSerializer
from products.selectors import quote_build
from promotions.flash import quote_flash_deals_apply
from promotions.models import CODE_PATTERN, CreatorCodeRequest
from promotions.pricing import code_normalize, quote_promotions_apply
from promotions.services import creator_code_request_create


class QuoteFlashDealSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    price = MoneySerializer()
    list_price = MoneySerializer(help_text="The unit price without the deal.")
    ends_at = serializers.DateTimeField()


class QuoteLineInputSerializer(LineInputSerializer):
    video_id = UUIDField(
        required=False,
        allow_null=True,
        help_text="The video the line was added from (its source): a flash deal on that "
        "video applies to it.",
    )


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
    flash_deal = QuoteFlashDealSerializer(
        allow_null=True, help_text="The flash deal whose price `unit_price` is; null: none."
    )
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
    creator_id = serializers.UUIDField(
        allow_null=True, help_text="A creator code's creator (video's id); null otherwise."
    )
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
        lines = serializers.ListField(
            child=QuoteLineInputSerializer(), min_length=1, max_length=MAX_LINES, allow_empty=False
        )
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
        description="Price lines, with the running flash deals of the lines' videos (the "
        "deal price replaces the unit price) and the merchants' automatic promotions and the "
        "codes asked applied (ADR 32). A code that cannot apply is not an error here: it is "
        "named in `codes_refused` with the reason, and the caller decides.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.QuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = data["lines"]
        quote = quote_build(
            lines=serializer.line_tuples(),
            currency=data.get("currency"),
        )
        # A flash price replaces the unit price; promotions then apply on it.
        quote = quote_flash_deals_apply(
            quote=quote,
            video_ids=[line.get("video_id") for line in lines],
            customer_id=data.get("customer_id"),
        )
        quote = quote_promotions_apply(
            quote=quote, codes=data["codes"], customer_id=data.get("customer_id")
        )
        return Response(quote, status=status.HTTP_200_OK)


class CreatorCodeRequestSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    merchant_id = serializers.UUIDField()
    creator_id = serializers.UUIDField()
    creator_handle = serializers.CharField()
    code = serializers.CharField(help_text="The code asked for; empty: the merchant picks.")
    message = serializers.CharField()
    status = serializers.ChoiceField(choices=CreatorCodeRequest.Status.values)
    created_at = serializers.DateTimeField()


class CreatorCodeRequestCreateApi(InternalApiView):
    class CreatorCodeRequestInputSerializer(serializers.Serializer):
        merchant_id = serializers.UUIDField()
        creator_id = serializers.UUIDField()
        creator_handle = RegexField(r"^[a-z0-9_.]{2,30}$", help_text="The creator's handle.")
        code = RegexField(
            CODE_PATTERN.replace("A-Z", "A-Za-z"),
            required=False,
            allow_blank=True,
            default="",
            help_text="The code the creator would like: 3 to 40 of A-Z, 0-9, - and _ "
            "(empty: none).",
        )
        message = CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="creator_code_requests_create",
        request=CreatorCodeRequestInputSerializer,
        responses={200: CreatorCodeRequestSerializer, 201: CreatorCodeRequestSerializer},
        description="A creator asks a merchant for a creator code (video sends it; the "
        "merchant grants it in the admin). 201 new, 200 when the creator's open request to "
        "that merchant was updated. 404 `merchant_not_found`.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.CreatorCodeRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        code_request, created = creator_code_request_create(
            merchant_id=data["merchant_id"],
            creator_id=data["creator_id"],
            creator_handle=data["creator_handle"],
            code=code_normalize(data["code"]) if data["code"] else "",
            message=data["message"],
        )
        body = CreatorCodeRequestSerializer(
            {
                "id": code_request.id,
                "merchant_id": code_request.merchant_id,
                "creator_id": code_request.creator_id,
                "creator_handle": code_request.creator_handle,
                "code": code_request.code,
                "message": code_request.message,
                "status": code_request.status,
                "created_at": code_request.created_at,
            }
        ).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
