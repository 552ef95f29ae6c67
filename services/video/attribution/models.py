"""Sales credited to the videos and creators that drove them.

Checkout's `order.paid` becomes one `SaleLine` per paid line and, for every attribution
model, one `Credit` per eligible touch (or one unattributed credit). Refunds add
reversing credits; no credit is ever updated or deleted, except by the recompute command
that rebuilds an order's rows from the same inputs.

Checkout's `order.delivered`, `order.return_requested` and `order.return_closed` are kept
as they arrive (`DeliveryReceived`, `ReturnReceived`) and summed onto each line
(`SaleLine.delivered_quantity`, `returns_close_at`, `held_quantity`): what settlement
reads (ADR 26).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

MAX_BPS = 10_000


class AttributionModel(models.TextChoices):
    LAST_TOUCH = "last_touch", "Last touch"
    FIRST_TOUCH = "first_touch", "First touch"
    LINEAR = "linear", "Linear"
    TIME_DECAY = "time_decay", "Time decay"
    POSITION_BASED = "position_based", "Position based"


class CreatorCodeRule(models.TextChoices):
    """Where a creator code's touch goes in a line's path when in-app touches are there
    too (the code is a click on the creator's latest published video tagging the
    product, published before the payment)."""

    CODE_WINS = "code_wins", "The code wins: a click at the payment, the last touch"
    TAP_WINS = "tap_wins", "An in-app tap wins: a click at the start of the click window"


class MerchantAttributionSettings(models.Model):
    """A merchant's lookback windows, the model its reports open with, and where its
    creator codes' touches go (`CreatorCodeRule`)."""

    merchant_id = models.UUIDField(primary_key=True)
    merchant_name = models.CharField(max_length=120, blank=True)
    click_window = models.DurationField(default=timedelta(days=7))
    view_window = models.DurationField(default=timedelta(days=1))
    default_model = models.CharField(
        max_length=20, choices=AttributionModel.choices, default=AttributionModel.LAST_TOUCH
    )
    creator_code_rule = models.CharField(
        max_length=10,
        choices=CreatorCodeRule.choices,
        default=CreatorCodeRule.CODE_WINS,
        db_default=CreatorCodeRule.CODE_WINS,
        help_text="When a creator code and an in-app tap disagree, which one is the last touch.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "merchant attribution settings"
        verbose_name_plural = "merchant attribution settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(click_window__gte=timedelta(0), view_window__gte=timedelta(0)),
                name="attribution_windows_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(
                    click_window__lte=timedelta(days=90), view_window__lte=timedelta(days=90)
                ),
                name="attribution_windows_at_most_90_days",
            ),
        ]

    def __str__(self) -> str:
        return self.merchant_name or str(self.merchant_id)


class ProductCommissionRate(models.Model):
    """A merchant's commission rate for one product, overriding every creator's own."""

    product_id = models.UUIDField(primary_key=True)
    merchant_id = models.UUIDField(db_index=True)
    rate_bps = models.PositiveIntegerField(validators=[MaxValueValidator(MAX_BPS)])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_bps__lte=MAX_BPS), name="product_rate_at_most_100pct"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.rate_bps} bps"


class SaleLine(models.Model):
    """A paid order line as `order.paid` told it: the primary key makes it recorded once."""

    line_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    user_id = models.CharField(max_length=128)
    merchant_id = models.UUIDField()
    product_id = models.UUIDField()
    variant_id = models.UUIDField()
    quantity = models.PositiveIntegerField()
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    paid_at = models.DateTimeField()
    # The cart line's source: a click on that video when the line was added.
    source_video_id = models.UUIDField(null=True, blank=True)
    source_tag_id = models.UUIDField(null=True, blank=True)
    source_added_at = models.DateTimeField(null=True, blank=True)
    # The creator code applied to the line's merchant part, if any: a click touch on
    # that creator's latest published video tagging the product (ADR 36).
    code = models.CharField(max_length=40, blank=True, default="", db_default="")
    code_creator_id = models.UUIDField(null=True, blank=True)
    # Eligible touches after collapsing repeats (0: unattributed).
    touch_count = models.PositiveSmallIntegerField(default=0)
    recorded_at = models.DateTimeField(auto_now_add=True)
    # What settlement reads, summed from the deliveries and returns received for the
    # line (`attribution.services.settlement.order_settlement_refresh`): units delivered,
    # the first delivery, the latest end of a return window, units in open returns.
    delivered_quantity = models.PositiveIntegerField(default=0, db_default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    returns_close_at = models.DateTimeField(null=True, blank=True)
    held_quantity = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-paid_at", "line_id"]
        indexes = [
            models.Index(fields=["merchant_id", "paid_at"], name="saleline_merchant_time_idx"),
            models.Index(fields=["product_id", "paid_at"], name="saleline_product_time_idx"),
            models.Index(fields=["paid_at"], name="saleline_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id} ({self.order_id})"


class Credit(models.Model):
    """Part of a line's amount credited to one touch (a video, its creator) under one
    model; with `refund_id`, the (negative) part of a refund reversing that credit.
    A sale's credits add up exactly to the line amount for each model.

    Read-only: a view (`attribution_credit`) over `CreditTouch`, one row per model whose
    amount is set, so reports, earnings, refunds and payouts read one row per (line,
    model, touch) as before (ADR 9, issue 18). Its id is the touch's id x 8 + the model's
    place in `AttributionModel` (stable while the touch row stays)."""

    id = models.BigAutoField(primary_key=True)
    sale_line = models.ForeignKey(
        SaleLine, on_delete=models.DO_NOTHING, related_name="credits", db_index=False
    )
    model = models.CharField(max_length=20, choices=AttributionModel.choices)
    # The touch's place in the line's touch path (0 = first); 0 for an unattributed line.
    position = models.PositiveSmallIntegerField()
    refund_id = models.UUIDField(null=True, blank=True)
    # Null for an unattributed line: it still counts in totals.
    video_id = models.UUIDField(null=True, blank=True)
    creator_id = models.UUIDField(null=True, blank=True)
    touch_type = models.CharField(max_length=20, blank=True)
    touched_at = models.DateTimeField(null=True, blank=True)
    merchant_id = models.UUIDField()
    product_id = models.UUIDField()
    currency = models.CharField(max_length=3)
    amount = models.IntegerField()
    commission_rate_bps = models.PositiveIntegerField()
    commission_amount = models.IntegerField()
    is_self_purchase = models.BooleanField(default=False)
    occurred_at = models.DateTimeField()
    paid_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        managed = False  # the view `attribution_credit`, made by migration 0007
        ordering = ["sale_line", "model", "position", "occurred_at"]

    def __str__(self) -> str:
        return f"{self.model} {self.amount} to {self.video_id or 'unattributed'}"


def _amounts_set_together() -> Q:
    """Each model's amount and commission are both set (it credits the touch) or both
    empty (no credit under that model, e.g. last touch on an earlier touch)."""
    condition = Q()
    for model in AttributionModel.values:
        amount, commission = f"{model}_amount__isnull", f"{model}_commission__isnull"
        condition &= Q(**{amount: True, commission: True}) | Q(**{amount: False, commission: False})
    return condition


def _any_model(suffix: str, **lookup: Any) -> Q:
    condition = Q()
    for model in AttributionModel.values:
        condition |= Q(**{f"{model}_{suffix}{key}": value for key, value in lookup.items()})
    return condition


def _every_model(suffix: str, lookup: str, value: Any) -> Q:
    condition = Q()
    for model in AttributionModel.values:
        condition &= Q(**{f"{model}_{suffix}__isnull": True}) | Q(
            **{f"{model}_{suffix}{lookup}": value}
        )
    return condition


class CreditTouch(models.Model):
    """What is stored of a line's credits: one row per (line, touch) of its path, or per
    (line, touch, refund) for a refund's reversals, with each model's amount and
    commission as columns (empty where that model gives the touch nothing). An
    unattributed line has one row, position 0, no video, the whole amount in every model.
    Five times fewer rows and index entries than one row per model (issue 18)."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: `credit_touch_once` starts with the sale line.
    sale_line = models.ForeignKey(
        SaleLine, on_delete=models.PROTECT, related_name="credit_touches", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    refund_id = models.UUIDField(null=True, blank=True)
    video_id = models.UUIDField(null=True, blank=True)
    creator_id = models.UUIDField(null=True, blank=True)
    touch_type = models.CharField(max_length=20, blank=True)
    touched_at = models.DateTimeField(null=True, blank=True)
    # Copied from the line, so reports read one table.
    merchant_id = models.UUIDField()
    product_id = models.UUIDField()
    currency = models.CharField(max_length=3)
    commission_rate_bps = models.PositiveIntegerField()
    # The buyer is the video's creator: credited (reports show the sale) at a rate of zero.
    is_self_purchase = models.BooleanField(default=False, db_default=False)
    # When the money moved: the payment, or the refund for a reversal.
    occurred_at = models.DateTimeField()
    paid_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    last_touch_amount = models.IntegerField(null=True, blank=True)
    last_touch_commission = models.IntegerField(null=True, blank=True)
    first_touch_amount = models.IntegerField(null=True, blank=True)
    first_touch_commission = models.IntegerField(null=True, blank=True)
    linear_amount = models.IntegerField(null=True, blank=True)
    linear_commission = models.IntegerField(null=True, blank=True)
    time_decay_amount = models.IntegerField(null=True, blank=True)
    time_decay_commission = models.IntegerField(null=True, blank=True)
    position_based_amount = models.IntegerField(null=True, blank=True)
    position_based_commission = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sale_line", "position", "occurred_at"]
        constraints = [
            # The database, not a check, makes an event credit a touch once.
            models.UniqueConstraint(
                fields=["sale_line", "position", "refund_id"],
                name="credit_touch_once",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=_amounts_set_together(), name="credit_touch_pairs"),
            models.CheckConstraint(
                condition=_any_model("amount", __isnull=False), name="credit_touch_some_model"
            ),
            models.CheckConstraint(
                condition=Q(refund_id__isnull=False)
                | (_every_model("amount", "__gte", 0) & _every_model("commission", "__gte", 0)),
                name="credit_touch_sale_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(commission_rate_bps__lte=MAX_BPS),
                name="credit_touch_rate_at_most_100pct",
            ),
            models.CheckConstraint(
                condition=Q(is_self_purchase=False) | _every_model("commission", "", 0),
                name="credit_touch_self_purchase_earns_nothing",
            ),
        ]
        # What reports and earnings filter on (merchant, creator, video, each by time);
        # the model is a column, so no index carries it.
        indexes = [
            models.Index(fields=["merchant_id", "paid_at"], name="credit_touch_merchant_idx"),
            models.Index(fields=["creator_id", "paid_at"], name="credit_touch_creator_idx"),
            models.Index(fields=["video_id", "paid_at"], name="credit_touch_video_idx"),
        ]

    def __str__(self) -> str:
        video = self.video_id or "unattributed"
        return f"position {self.position} of {self.sale_line_id} ({video})"


class RefundReceived(models.Model):
    """Every `order.refunded` heard, applied or held: a refund that arrives before its
    order's `order.paid` waits here (`applied_at` empty) and is applied with it."""

    refund_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    refunded_at = models.DateTimeField()
    # [{line_id, amount}] as the event said.
    lines = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["refunded_at"]
        verbose_name = "refund received"
        verbose_name_plural = "refunds received"

    def __str__(self) -> str:
        return f"refund {self.refund_id} of {self.order_id}"


class DeliveryReceived(models.Model):
    """Every `order.delivered` heard (one per shipment), whether its order's `order.paid`
    came first or not: the lines it names count as delivered once their sale is known."""

    shipment_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    delivered_at = models.DateTimeField()
    returns_close_at = models.DateTimeField()
    # [{line_id, quantity}] as the event said.
    lines = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivered_at"]
        verbose_name = "delivery received"
        verbose_name_plural = "deliveries received"

    def __str__(self) -> str:
        return f"delivery {self.shipment_id} of {self.order_id}"


class ReturnReceived(models.Model):
    """Every return heard: open from `order.return_requested` until `order.return_closed`
    (`closed_at` set, whichever of the two arrived first). An open return holds its
    lines from settling."""

    class Status(models.TextChoices):
        REQUESTED = "requested"
        REJECTED = "rejected"
        REFUNDED = "refunded"

    return_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    # [{line_id, quantity}] as the event said.
    lines = models.JSONField()
    requested_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["requested_at"]
        verbose_name = "return received"
        verbose_name_plural = "returns received"
        constraints = [
            models.CheckConstraint(
                condition=Q(status="requested", closed_at__isnull=True)
                | (~Q(status="requested") & Q(closed_at__isnull=False)),
                name="return_received_closed_when_decided",
            ),
        ]

    def __str__(self) -> str:
        return f"return {self.return_id} of {self.order_id} ({self.status})"


class SalesReport(Credit):
    """The merchant's sales report in the admin (a view over credits, no table)."""

    class Meta:
        proxy = True
        verbose_name = "sales report"
        verbose_name_plural = "sales reports"
