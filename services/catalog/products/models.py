from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import CombinedExpression

from merchants.models import Merchant

SEARCH_CONFIG = "english"


def product_search_vector() -> CombinedExpression:
    """Title weighs more than description. Queries must use this exact expression so that
    PostgreSQL can answer from the GIN index on it."""
    return SearchVector("title", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "description", weight="B", config=SEARCH_CONFIG
    )


class Category(models.Model):
    """What kind of thing a product is (beauty, fashion, home…): one list for the whole
    platform, kept by platform staff; merchants pick one per product (ADR 12).

    The slug is the stable key other services keep (the video service learns which
    categories a user likes by slug), so it never changes once created."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        ARCHIVED = "archived"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", null=True, blank=True
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    images = ArrayField(models.URLField(max_length=500), default=list, blank=True, size=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The card as last published (API.md shape): what the API serves and what the last
    # `product.changed` event said, kept in step by `product_changes_publish` (ADR 6).
    card = models.JSONField(null=True, blank=True, editable=False)
    # Hash of that card plus status, so an event goes out only on a change.
    published_card_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="product_listing_idx"),
            models.Index(fields=["merchant", "status", "-created_at"], name="product_merchant_idx"),
            GinIndex(product_search_vector(), name="product_search_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Variant(models.Model):
    """A buyable version of a product, with its own price and stock.

    Stock is two counters under CHECK constraints, so no code path can oversell:
    `quantity_reserved` is held for open checkouts and never exceeds `quantity_on_hand`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    # Copied from the product so the database can keep SKUs unique per merchant.
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="variants")
    sku = models.CharField("SKU", max_length=64)
    title = models.CharField(max_length=200, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text='e.g. {"size": "M"}')
    price_amount = models.PositiveIntegerField(help_text="Minor units of the merchant currency.")
    quantity_on_hand = models.PositiveIntegerField(default=0)
    quantity_reserved = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="variant_sku_per_merchant"),
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="variant_price_gte_0"),
            models.CheckConstraint(
                condition=Q(quantity_on_hand__gte=0), name="variant_on_hand_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(quantity_reserved__gte=0), name="variant_reserved_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(quantity_reserved__lte=F("quantity_on_hand")),
                name="variant_reserved_lte_on_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.title}".strip()

    @property
    def quantity_available(self) -> int:
        return self.quantity_on_hand - self.quantity_reserved
