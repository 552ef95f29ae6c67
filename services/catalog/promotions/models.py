"""Promotions a merchant defines: percent or fixed amount off, or free shipping, on its
whole part of a cart, on chosen products or on chosen categories, automatic or by code (ADR 32).

Usage is two counters on the promotion, held (reserved) with the stock of a checkout
and consumed when it is paid, under CHECK constraints as stock is (ADR 4): whatever the
code paths do, `uses_reserved + uses_consumed` never passes `usage_limit`. A buyer's
uses are a counter row per (promotion, customer) under the same kind of CHECK.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from merchants.models import Merchant
from products.models import Category, Product

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{2,39}$"


class Promotion(models.Model):
    class Kind(models.TextChoices):
        PERCENT = "percent", "Percent off"
        FIXED_AMOUNT = "fixed_amount", "Fixed amount off"
        FREE_SHIPPING = "free_shipping", "Free shipping"

    class AppliesTo(models.TextChoices):
        MERCHANT = "merchant", "The whole merchant part of the cart"
        PRODUCTS = "products", "Chosen products"
        CATEGORIES = "categories", "Products of chosen categories"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="promotions")
    name = models.CharField(
        max_length=120, help_text="What buyers read on their cart, e.g. “10 % off everything”."
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    percent_off = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="For percent off: 1 to 100.",
    )
    amount_off = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="For a fixed amount off: minor units of the merchant's currency.",
    )
    applies_to = models.CharField(
        max_length=10, choices=AppliesTo.choices, default=AppliesTo.MERCHANT
    )
    products = models.ManyToManyField(
        Product, blank=True, related_name="promotions", help_text="When on chosen products."
    )
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="promotions",
        help_text="When on chosen categories: the merchant's products in them (as the "
        "product is categorised at the time of the quote).",
    )
    minimum_spend_amount = models.PositiveIntegerField(
        default=0,
        help_text="The merchant part of the cart (list prices) must reach this, in minor units.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: runs until ended.")
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Uses in total (paid orders and open checkouts)."
    )
    per_customer_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Uses per buyer."
    )
    code = models.CharField(
        max_length=40,
        null=True,
        blank=True,
        unique=True,
        validators=[RegexValidator(CODE_PATTERN, "3 to 40 of A-Z, 0-9, - and _.")],
        help_text="Buyers type it (case does not matter); empty: applies by itself.",
    )
    is_stackable = models.BooleanField(
        default=False,
        help_text="Automatic only: applies on top of a code or another automatic promotion.",
    )
    # A creator code: the creator (video's id; catalog calls no service, so it is known
    # only from a creator's request, `CreatorCodeRequest`) whose latest video tagging
    # a bought product is credited as if tapped (ADR 36).
    creator_id = models.UUIDField(null=True, blank=True, editable=False)
    creator_handle = models.CharField(max_length=30, blank=True, default="", editable=False)
    single_use_codes = models.BooleanField(
        default=False,
        help_text="Applies only through single-use codes generated for it (no code of its "
        "own, never by itself).",
    )
    # A generated single-use code is a promotion of its own with one use (CHECK below),
    # its terms copied from the promotion it was generated for (`promotions.batches`);
    # its scope (products, categories) is read from that promotion.
    batch_source = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="batch_codes",
    )
    # Moved only by `promotions.services.usage` under the row lock, never by a form.
    uses_reserved = models.PositiveIntegerField(default=0, editable=False)
    uses_consumed = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-created_at"]
        indexes = [models.Index(fields=["merchant", "starts_at"], name="promotion_merchant_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True)
                | Q(uses_reserved__lte=F("usage_limit") - F("uses_consumed")),
                name="promotion_uses_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(kind="percent", percent_off__gte=1, percent_off__lte=100)
                | Q(kind="fixed_amount", amount_off__gte=1)
                | Q(kind="free_shipping"),
                name="promotion_value_fits_kind",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="promotion_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(code__isnull=True) | Q(code__regex=CODE_PATTERN),
                name="promotion_code_format",
            ),
            models.CheckConstraint(
                condition=Q(code__isnull=True) | Q(is_stackable=False),
                name="promotion_code_not_stackable",
            ),
            models.CheckConstraint(
                condition=Q(creator_id__isnull=True)
                | Q(code__isnull=False, batch_source__isnull=True),
                name="promotion_creator_code_has_a_code",
            ),
            models.CheckConstraint(
                condition=Q(batch_source__isnull=True) | Q(usage_limit=1, code__isnull=False),
                name="promotion_batch_code_single_use",
            ),
            models.CheckConstraint(
                condition=Q(single_use_codes=False)
                | Q(code__isnull=True, is_stackable=False, batch_source__isnull=True),
                name="promotion_single_use_source_has_no_code",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code or 'automatic'}: {self.name}"

    @property
    def uses_left(self) -> int | None:
        if self.usage_limit is None:
            return None
        return max(self.usage_limit - self.uses_reserved - self.uses_consumed, 0)


class PromotionCustomerUse(models.Model):
    """How many uses one buyer holds of a promotion (reserved or consumed), checked
    against the limit copied in when the use was taken: a CHECK, not only code."""

    id = models.BigAutoField(primary_key=True)
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="+")
    customer_id = models.CharField(max_length=128)
    uses_held = models.PositiveIntegerField(default=0)
    use_limit = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "customer_id"], name="promotion_customer_use_once"
            ),
            models.CheckConstraint(
                condition=Q(uses_held__lte=F("use_limit")), name="promotion_customer_within_limit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.uses_held}/{self.use_limit}"


class CreatorCodeRequest(models.Model):
    """A creator asking a merchant for a code of their own, sent by the video service
    (`POST /internal/v1/creator-code-requests/`, from the app's
    `POST /api/v1/creators/me/codes/`): the one way catalog learns a creator's id. The
    merchant grants it by making a promotion for that creator in the admin."""

    class Status(models.TextChoices):
        OPEN = "open", "Asked"
        GRANTED = "granted", "Granted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="creator_code_requests"
    )
    creator_id = models.UUIDField()
    creator_handle = models.CharField(max_length=30)
    code = models.CharField(
        max_length=40,
        blank=True,
        default="",
        validators=[RegexValidator(CODE_PATTERN, "3 to 40 of A-Z, 0-9, - and _.")],
        help_text="The code the creator would like (the merchant decides).",
    )
    message = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "creator_id"],
                condition=Q(status="open"),
                name="creator_code_request_one_open",
            ),
            models.CheckConstraint(
                condition=Q(status="open", promotion__isnull=True)
                | Q(status="granted", promotion__isnull=False),
                name="creator_code_request_granted_names_promotion",
            ),
        ]

    def __str__(self) -> str:
        asked = f" (asks for {self.code})" if self.code else ""
        return f"@{self.creator_handle}{asked}"


# Flash deals are promotions' too, kept in their own module (Django finds them here).
from promotions.flash_models import FlashDeal, FlashDealBuyerUse  # noqa: E402

__all__ = [
    "CreatorCodeRequest",
    "FlashDeal",
    "FlashDealBuyerUse",
    "Promotion",
    "PromotionCustomerUse",
]
