"""Catalog's product cards as last heard, and what the feeds show on them beside: the
units of each product sold through videos."""

from __future__ import annotations

from django.db import models


class ProductCard(models.Model):
    """Catalog's product card as last heard (the `product.changed` read model), so the
    feed never calls catalog. Written only by `productcards.services`."""

    product_id = models.UUIDField(primary_key=True)
    merchant_id = models.UUIDField(db_index=True)
    merchant_name = models.CharField(max_length=120, blank=True)
    title = models.CharField(max_length=200)
    image = models.URLField(max_length=500, blank=True)
    price_amount = models.PositiveIntegerField(null=True)
    currency = models.CharField(max_length=3, blank=True)
    stock_status = models.CharField(max_length=20)
    # Catalog's category slug ("" when none): what the "for you" feed learns a user's
    # affinity to. Not shown in the feed's JSON.
    category_slug = models.CharField(max_length=60, blank=True, db_index=True)
    # Catalog's status: only `active` products show in feeds.
    status = models.CharField(max_length=10)
    # Catalog's `flash_deal` of the card: the deal running or next on the product, with
    # its video and times; the feeds show it on that video's tags while it runs.
    flash_deal = models.JSONField(null=True, blank=True)
    # Time of the catalog event this card came from: an older event never overwrites it.
    source_time = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["title"], name="productcard_title_idx")]

    def __str__(self) -> str:
        return self.title


class ProductSocialProof(models.Model):
    """Units of a product sold through videos (attributed sale lines) in the last 30
    days, shown on its product cards; rewritten by discovery's `trending_recompute`."""

    product_id = models.UUIDField(primary_key=True)
    units_30d = models.PositiveIntegerField()

    class Meta:
        # Discovery's table, kept when the model moved to the cards it is shown on.
        db_table = "discovery_productsocialproof"

    def __str__(self) -> str:
        return f"{self.product_id}: {self.units_30d}"
