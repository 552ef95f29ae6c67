from __future__ import annotations

from typing import Any

from rest_framework import serializers

from attribution.models import AttributionModel
from attribution.selectors import DayRange
from clipcart_shared.serializers import MoneySerializer, QuerySerializer


class DayRangeSerializer(QuerySerializer):
    """`from`/`to` (UTC days, both included; the last 30 days by default) and `model`."""

    # `from` is a Python keyword, so the fields are declared through the class namespace.
    locals()["from"] = serializers.DateField(
        source="start", required=False, help_text="First day (YYYY-MM-DD)."
    )
    locals()["to"] = serializers.DateField(
        source="end", required=False, help_text="Last day (YYYY-MM-DD); today by default."
    )
    model = serializers.ChoiceField(
        choices=AttributionModel.choices, default=AttributionModel.LAST_TOUCH
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            days = DayRange.checked(attrs.get("start"), attrs.get("end"))
        except ValueError as error:
            raise serializers.ValidationError({"from": str(error)}) from error
        return {"days": days, "model": attrs["model"]}


class EarningsMoneySerializer(serializers.Serializer):
    net = MoneySerializer()
    commission = MoneySerializer()


class EarningsSettlesOnSerializer(EarningsMoneySerializer):
    settles_on = serializers.DateField(
        allow_null=True,
        help_text="The UTC day these lines' return window closes; null while not all "
        "delivered or while a return is open on them.",
    )


class EarningsPendingSerializer(EarningsMoneySerializer):
    schedule = EarningsSettlesOnSerializer(
        many=True, help_text="The pending amounts by the day they are expected to settle."
    )


class EarningsIneligibleSerializer(serializers.Serializer):
    sales = MoneySerializer(help_text="Sales of lines fully refunded (returned or cancelled).")
    commission = MoneySerializer(help_text="The commission those sales had before refunds.")


class EarningsFiguresSerializer(serializers.Serializer):
    sales = MoneySerializer(help_text="Attributed sales before refunds.")
    refunds = MoneySerializer(help_text="Refunded since, of those sales.")
    net = MoneySerializer()
    commission = MoneySerializer(help_text="Commission on the net, refunds deducted.")
    pending = EarningsPendingSerializer(
        help_text="Lines not settled yet: not delivered, in their return window, or held "
        "by an open return."
    )
    settled = EarningsMoneySerializer(
        help_text="Lines delivered, past their return window, with no return open."
    )
    ineligible = EarningsIneligibleSerializer(
        help_text="Lines fully refunded: they settle nothing (their net is zero)."
    )


class EarningsVideoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    caption = serializers.CharField()
    thumbnail_url = serializers.CharField()
    status = serializers.CharField()


class EarningsByVideoSerializer(EarningsFiguresSerializer):
    video = EarningsVideoSerializer()
    orders = serializers.IntegerField(help_text="Orders with a share credited to the video.")
    units = serializers.IntegerField(help_text="Units on those orders' credited lines.")


class EarningsTotalSerializer(EarningsFiguresSerializer):
    currency = serializers.CharField()


class EarningsSerializer(serializers.Serializer):
    locals()["from"] = serializers.DateField()
    locals()["to"] = serializers.DateField()
    model = serializers.CharField()
    settlement_days = serializers.IntegerField(
        allow_null=True,
        help_text="Deprecated, always null: a sale settles after delivery, when its return "
        "window closes (`pending.schedule`), not a number of days after payment.",
    )
    totals = EarningsTotalSerializer(many=True, help_text="One per currency.")
    videos = EarningsByVideoSerializer(many=True, help_text="One per video and currency.")
