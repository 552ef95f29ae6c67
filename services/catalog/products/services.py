"""Writes on products, and the `product.changed` events they cause."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable

from django.db import transaction

from clipcart_shared.outbox.services import events_publish
from products.models import Product
from products.selectors import product_card, products_for_cards

PRODUCT_CHANGED = "product.changed"


def _card_hash(card: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def product_changes_publish(*, product_ids: Iterable[uuid.UUID]) -> int:
    """Emit `product.changed` for each product whose card (title, image, price, stock
    status, status…) differs from the last one sent. Returns how many were sent.

    Call it in the transaction that changed the products: the event commits with them.
    """
    changed: list[Product] = []
    events: list[dict[str, object]] = []
    for product in products_for_cards(product_ids=product_ids):
        card = {**product_card(product), "status": product.status}
        card_hash = _card_hash(card)
        if card_hash == product.published_card_hash:
            continue
        product.published_card_hash = card_hash
        changed.append(product)
        events.append({"type": PRODUCT_CHANGED, "subject": str(product.id), "data": card})
    if changed:
        Product.objects.bulk_update(changed, ["published_card_hash"])
        events_publish(events=events)
    return len(changed)


@transaction.atomic
def products_set_status(*, product_ids: Iterable[uuid.UUID], status: str) -> int:
    """Activate, archive or draft several products at once (admin bulk actions)."""
    ids = list(product_ids)
    updated = Product.objects.filter(id__in=ids).exclude(status=status).update(status=status)
    product_changes_publish(product_ids=ids)
    return updated
