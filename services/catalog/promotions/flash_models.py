"""Flash deals: a merchant's time-boxed price on a product (or one of its variants)
tagged in a video, for 1 to 120 minutes, with a per-buyer quantity limit and an optional
total quantity.

Units sold at the deal price are held like stock and promotion uses (ADR 32): counters
moved with the reservation under CHECK constraints, so `units_reserved +
units_consumed` never passes `total_quantity` and a buyer's units never pass
`per_buyer_limit`, whatever the concurrency.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from merchants.models import Merchant
from products.models import Product, Variant

MAX_DURATION_MINUTES = 120


class FlashDeal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="flash_deals")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="flash_deals")
    variant = models.ForeignKey(
        Variant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flash_deals",
        help_text="Empty: every variant of the product.",
    )
    video_id = models.UUIDField(
        help_text="The video tagging the product (its id in the video admin): the deal shows "
        "on that video's tags and applies to lines added from it."
    )
    price_amount = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="The deal's unit price, minor units of the merchant's currency; below the "
        "list price.",
    )
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)],
        help_text="1 to 120 minutes.",
    )
    # starts_at + duration, kept so that "running now" is a plain indexed comparison.
    ends_at = models.DateTimeField(editable=False)
    per_buyer_limit = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Units one buyer gets at the deal price."
    )
    total_quantity = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Units at the deal price in total (paid and in open checkouts); empty: "
        "no limit but the stock.",
    )
    # Moved only by `promotions.flash` under the row lock, never by a form.
    units_reserved = models.PositiveIntegerField(default=0, editable=False)
    units_consumed = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-created_at"]
        indexes = [models.Index(fields=["product", "ends_at"], name="flash_deal_product_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_quantity__isnull=True)
                | Q(units_reserved__lte=F("total_quantity") - F("units_consumed")),
                name="flash_deal_units_within_total",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES),
                name="flash_deal_duration_1_to_120",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="flash_deal_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(price_amount__gte=1), name="flash_deal_price_gte_1"),
            models.CheckConstraint(
                condition=Q(per_buyer_limit__gte=1), name="flash_deal_per_buyer_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"Flash deal on {self.product_id} from {self.starts_at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.ends_at = self.starts_at + timedelta(minutes=self.duration_minutes)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "ends_at"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def remaining(self) -> int | None:
        if self.total_quantity is None:
            return None
        return max(self.total_quantity - self.units_reserved - self.units_consumed, 0)


class FlashDealBuyerUse(models.Model):
    """Units one buyer holds of a deal (reserved or paid), checked against the limit
    copied in when units were taken: a CHECK, not only code."""

    id = models.BigAutoField(primary_key=True)
    deal = models.ForeignKey(FlashDeal, on_delete=models.CASCADE, related_name="+")
    customer_id = models.CharField(max_length=128)
    units_held = models.PositiveIntegerField(default=0)
    unit_limit = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "customer_id"], name="flash_deal_buyer_once"),
            models.CheckConstraint(
                condition=Q(units_held__lte=F("unit_limit")), name="flash_deal_buyer_within_limit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.units_held}/{self.unit_limit}"
