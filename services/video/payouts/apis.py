"""Creators' payout accounts: their status and Stripe's onboarding link for the app, and
Stripe's Connect webhook; the earnings answer with its payouts."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from attribution.apis import DayRangeSerializer, EarningsSerializer
from attribution.selectors import creator_earnings
from clipcart_shared.auth import IsMobileUser, mobile_user_id
from clipcart_shared.connect import PayoutStatus
from clipcart_shared.views import PublicApiView
from creators.selectors import creator_for_user
from payouts.selectors import creator_payout_account_render, creator_payouts_summary
from payouts.services import connect_webhook_receive, creator_payout_account_onboard


class PayoutAccountSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        PayoutStatus.choices,
        help_text="`none`: no account yet; `pending`: onboarding not finished or being "
        "verified; `enabled`: transfers can be paid out; `restricted`: Stripe needs more "
        "from the creator (open a new onboarding link).",
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class OnboardingLinkSerializer(serializers.Serializer):
    onboarding_url = serializers.URLField(
        help_text="Stripe's onboarding page for this creator; it works once and expires in "
        "minutes: ask for a new one each time."
    )


class CreatorPayoutAccountApi(PublicApiView):
    permission_classes = [IsMobileUser]
    # Each POST calls Stripe: throttled per user like every write.
    throttle_scope = "writes"

    @extend_schema(operation_id="creators_me_payout_account", responses=PayoutAccountSerializer)
    def get(self, request: Request) -> Response:
        creator = creator_for_user(user_id=mobile_user_id(request))
        account = creator_payout_account_render(creator=creator)
        return Response(PayoutAccountSerializer(account).data)

    @extend_schema(
        operation_id="creators_me_payout_account_onboard",
        request=None,
        responses={200: OnboardingLinkSerializer},
        description="Creates the creator's Stripe Express account if they have none, and "
        "answers a fresh onboarding link of it. 403 `not_a_creator`; 503 "
        "`payout_provider_unavailable`, 502 `payout_provider_rejected` when Stripe cannot "
        "or will not.",
    )
    def post(self, request: Request) -> Response:
        creator = creator_for_user(user_id=mobile_user_id(request))
        url = creator_payout_account_onboard(creator=creator)
        return Response(OnboardingLinkSerializer({"onboarding_url": url}).data)


class ConnectWebhookAnswerSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField()


class ConnectWebhookApi(PublicApiView):
    # Stripe authenticates by signature, not by token.
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    @extend_schema(
        operation_id="creators_payout_accounts_stripe_webhook",
        request={"application/json": dict},
        parameters=[OpenApiParameter("Stripe-Signature", location="header", required=True)],
        responses={200: ConnectWebhookAnswerSerializer},
        description="Stripe's Connect events (`account.updated`), signature checked on the "
        "raw body against VIDEO_STRIPE_WEBHOOK_SECRETS (400 `invalid_signature`, nothing "
        "written); 400 `invalid_event` for a signed body that is not a Stripe event. Applied "
        "once per event id (a redelivery answers `duplicate: true`); other event types and "
        "accounts that are not creators' are acknowledged and ignored.",
    )
    def post(self, request: Request) -> Response:
        answer = connect_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        return Response({"received": True, "duplicate": answer.is_duplicate})


class PayoutCurrencySerializer(serializers.Serializer):
    currency = serializers.CharField()
    paid_out = serializers.IntegerField(help_text="Commission paid out to the creator, ever.")
    clawed_back = serializers.IntegerField(
        help_text="Commission taken back by refunds after it settled (from later payouts)."
    )
    balance = serializers.IntegerField(
        help_text="Settled commission not paid out yet, less clawbacks; negative when a "
        "clawback exceeded it: it carries forward (never charged to the creator)."
    )


class NextPayoutAmountSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.IntegerField(help_text="What it would pay (minor units).")
    status = serializers.ChoiceField(
        ["scheduled", "due", "below_minimum", "account_not_enabled"],
        help_text="`due`: this batch has not paid it yet, the next run does; "
        "`below_minimum`: it rolls over to a later batch; `account_not_enabled`: it waits "
        "for the payout account.",
    )


class NextPayoutSerializer(serializers.Serializer):
    on = serializers.DateTimeField(help_text="When the next batch begins.")
    minimum = serializers.IntegerField(help_text="The least a payout sends (minor units).")
    amounts = NextPayoutAmountSerializer(many=True)


# The earnings answer's component keeps its name (`Earnings`): generated clients see the
# fields added, not a new type.
@extend_schema_serializer(component_name="Earnings")
class EarningsWithPayoutsSerializer(EarningsSerializer):
    payouts = PayoutCurrencySerializer(
        many=True, help_text="Per currency, all time (not limited to the days asked)."
    )
    next_payout = NextPayoutSerializer()


class CreatorEarningsApi(PublicApiView):
    """The earnings answer: attribution's figures with the creator's payouts (paid out,
    the balance and the next payout), which only this app knows."""

    permission_classes = [IsMobileUser]

    @extend_schema(
        operation_id="creators_me_earnings",
        description="The caller's attributed sales and commission per video and currency for "
        "a range of payment days, under one attribution model. Refunds since count against "
        "the sale. A line is `settled` once delivered, its return window closed and no "
        "return open on it; `ineligible` when fully refunded (returned or cancelled); "
        "`pending` otherwise, with the day each pending amount is expected to settle. "
        "`payouts` and `next_payout`: what was paid out, clawed back and is owed, under the "
        "model each merchant pays commission by, and the next batch.",
        parameters=[DayRangeSerializer],
        responses=EarningsWithPayoutsSerializer,
    )
    def get(self, request: Request) -> Response:
        creator = creator_for_user(user_id=mobile_user_id(request))
        query = DayRangeSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        earnings = creator_earnings(creator_id=creator.id, **query.validated_data)
        earnings |= creator_payouts_summary(creator=creator)
        return Response(EarningsWithPayoutsSerializer(earnings).data)
