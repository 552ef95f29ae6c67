from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Cart(models.Model):
    """A mobile user's one cart."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"cart of {self.user_id}"


class CartLine(models.Model):
    """A variant in the cart, with the video (and tag) it was added from. Prices shown
    are the last quote's; checkout quotes again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant_id = models.UUIDField()
    product_id = models.UUIDField()
    title = models.CharField(max_length=400)
    quantity = models.PositiveSmallIntegerField()
    unit_price_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    source_video_id = models.UUIDField(null=True, blank=True)
    source_tag_id = models.UUIDField(null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        constraints = [
            # The same variant from the same source is one line (its quantity grows).
            models.UniqueConstraint(
                fields=["cart", "variant_id", "source_video_id", "source_tag_id"],
                name="cart_line_per_variant_and_source",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=99), name="cart_line_quantity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class CartDiscount(models.Model):
    """A code the buyer applied to their cart: at most one per merchant part (a second
    code of the same merchant replaces the first). What it takes off is catalog's to
    say, at each quote (ADR 32)."""

    id = models.BigAutoField(primary_key=True)
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="discounts")
    code = models.CharField(max_length=40)
    merchant_id = models.UUIDField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "code"], name="cart_discount_code_once"),
            models.UniqueConstraint(
                fields=["cart", "merchant_id"], name="cart_discount_one_per_merchant"
            ),
        ]

    def __str__(self) -> str:
        return self.code
