"""`manage.py event_samples`: the events catalog publishes, as its own code builds them,
printed as the JSON list of envelopes its subscribers receive. For the consumers'
contract tests (ADR 19), which run it in a catalog of their own and feed each envelope to
their real handler.

The samples are made by the real writes (`products.services`, which build each event with
`products.events`) in one transaction that is rolled back: nothing is left behind and
nothing is relayed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from clipcart_shared.outbox.models import OutboxEvent
from merchants.models import Merchant
from products.models import Category, Product, Variant
from products.services import product_changes_publish


class Command(BaseCommand):
    help = "Print sample events catalog publishes (as subscribers receive them) as JSON."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            product_ids = _samples_create()
            product_changes_publish(product_ids=product_ids)
            envelopes = [
                event.envelope()
                for event in OutboxEvent.objects.filter(
                    subject__in=[str(product_id) for product_id in product_ids]
                ).order_by("time", "id")
            ]
            transaction.set_rollback(True)
        self.stdout.write(json.dumps(envelopes, indent=2))


def _samples_create() -> list[uuid.UUID]:
    """An active product with a category, two variants (one sold out) and images; an
    archived one with neither category nor stock."""
    suffix = uuid.uuid4().hex[:12]
    merchant = Merchant.objects.create(
        name="Sample Outfitters", slug=f"sample-{suffix}", currency="EUR"
    )
    category = Category.objects.create(slug=f"sample-{suffix}", name="Samples")
    jacket = Product.objects.create(
        merchant=merchant,
        category=category,
        title="Sample rain jacket",
        description="Keeps a sample dry.",
        images=["https://images.example.com/jacket-front.jpg", "https://images.example.com/b.jpg"],
        status=Product.Status.ACTIVE,
    )
    Variant.objects.create(
        product=jacket,
        merchant=merchant,
        sku=f"JACKET-M-{suffix}",
        title="M",
        options={"size": "M"},
        price_amount=12_900,
        quantity_on_hand=40,
        position=0,
    )
    Variant.objects.create(
        product=jacket,
        merchant=merchant,
        sku=f"JACKET-L-{suffix}",
        title="L",
        options={"size": "L"},
        price_amount=13_900,
        quantity_on_hand=0,
        position=1,
    )
    mug = Product.objects.create(
        merchant=merchant, title="Sample mug", status=Product.Status.ARCHIVED
    )
    Variant.objects.create(
        product=mug, merchant=merchant, sku=f"MUG-{suffix}", price_amount=1_500, position=0
    )
    return [jacket.id, mug.id]
