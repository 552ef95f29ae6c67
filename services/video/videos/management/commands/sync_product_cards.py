"""Backfill the product-card read model from catalog (first start, or after an outage)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from core.catalog import product_pages
from productcards.services import product_cards_sync
from videos.models import ProductTag


class Command(BaseCommand):
    help = "Copy every active product card from catalog into the video service's read model."

    def handle(self, *args: Any, **options: Any) -> None:
        tagged = list(ProductTag.objects.values_list("product_id", flat=True).distinct())
        with transaction.atomic():
            stored, marked = product_cards_sync(cards=product_pages(), missing_ids=tagged)
        self.stdout.write(f"Product cards: {stored} stored, {marked} marked unavailable.")
