"""Writes on products, and the `product.changed` events they cause."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable

from django.db import transaction

from clipcart_shared.outbox.services import Event, events_publish
from clipcart_shared.pages import pages_version_bump
from products.events import ProductChanged, product_changed_event
from products.models import Product
from products.selectors import product_cards_compute


def _card_hash(card: ProductChanged) -> str:
    return hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def product_changes_publish(*, product_ids: Iterable[uuid.UUID]) -> int:
    """Recompute the cards of these products; for each that differs from the last one
    published (title, images, price, stock status, status…), store it — the API serves
    the stored card — and emit `product.changed`. Returns how many changed.

    Every write that can change a card calls this in its own transaction, so the card,
    the event and the change commit together.
    """
    ids = list(product_ids)
    published = dict(Product.objects.filter(id__in=ids).values_list("id", "published_card_hash"))
    changed: list[Product] = []
    events: list[Event[ProductChanged]] = []
    for product_id, status, card in product_cards_compute(product_ids=ids):
        event = product_changed_event(product_id=product_id, status=status, card=card)
        card_hash = _card_hash(event["data"])
        if card_hash == published.get(product_id):
            continue
        changed.append(Product(id=product_id, card=card, published_card_hash=card_hash))
        events.append(event)
    if changed:
        Product.objects.bulk_update(changed, ["card", "published_card_hash"])
        events_publish(events=events)
        pages_version_bump()  # the product list's stored pages show these cards
    return len(changed)


@transaction.atomic
def products_set_status(*, product_ids: Iterable[uuid.UUID], status: str) -> int:
    """Activate, archive or draft several products at once (admin bulk actions)."""
    ids = list(product_ids)
    updated = Product.objects.filter(id__in=ids).exclude(status=status).update(status=status)
    product_changes_publish(product_ids=ids)
    return updated
