"""Keeping the read model of catalog's product cards current."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from clipcart_shared.pages import pages_version_bump
from productcards.models import ProductCard
from productcards.signals import product_cards_changed

logger = logging.getLogger(__name__)

# Cards learned outside the event stream (a tag's lookup, a backfill) carry this time,
# so that any event about the product, whenever it was sent, wins over them.
BEFORE_ANY_EVENT = datetime(2000, 1, 1, tzinfo=UTC)

_UPSERT = f"""
INSERT INTO {ProductCard._meta.db_table}
    (product_id, merchant_id, merchant_name, title, image, price_amount, currency,
     stock_status, category_slug, status, flash_deal, source_time, updated_at)
VALUES (%(product_id)s, %(merchant_id)s, %(merchant_name)s, %(title)s, %(image)s,
        %(price_amount)s, %(currency)s, %(stock_status)s, %(category_slug)s, %(status)s,
        %(flash_deal)s::jsonb, %(source_time)s, now())
ON CONFLICT (product_id) DO UPDATE SET
    merchant_id = EXCLUDED.merchant_id, merchant_name = EXCLUDED.merchant_name,
    title = EXCLUDED.title, image = EXCLUDED.image, price_amount = EXCLUDED.price_amount,
    currency = EXCLUDED.currency, stock_status = EXCLUDED.stock_status,
    category_slug = EXCLUDED.category_slug, status = EXCLUDED.status,
    flash_deal = EXCLUDED.flash_deal, source_time = EXCLUDED.source_time, updated_at = now()
WHERE {ProductCard._meta.db_table}.source_time {{comparison}} EXCLUDED.source_time
RETURNING product_id
"""


def _row(card: dict[str, Any], source_time: datetime) -> dict[str, Any]:
    price = card.get("price") or {}
    images = card.get("images") or []
    # Cards from before catalog had categories carry no `category`: none, as null says.
    category = card.get("category") or {}
    return {
        "product_id": uuid.UUID(str(card["id"])),
        "merchant_id": uuid.UUID(str(card["merchant"]["id"])),
        "merchant_name": card["merchant"].get("name", ""),
        "title": card["title"],
        "image": images[0] if images else "",
        "price_amount": price.get("amount"),
        "currency": price.get("currency", ""),
        "stock_status": card["stock_status"],
        "category_slug": category.get("slug", ""),
        # The public API shows only active products; events say the status.
        "status": card.get("status", "active"),
        "flash_deal": None if not card.get("flash_deal") else json.dumps(card["flash_deal"]),
        "source_time": source_time,
    }


def product_card_apply(*, card: dict[str, Any], source_time: datetime) -> bool:
    """Store the card unless a newer one is already stored. Returns whether it was."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(comparison="<"), _row(card, source_time))
        is_applied = cursor.fetchone() is not None
    if is_applied:
        pages_version_bump()  # the feeds' stored pages show this card
        product_cards_changed.send(sender=ProductCard, product_ids=[uuid.UUID(str(card["id"]))])
    return is_applied


def product_card_remember(*, card: dict[str, Any]) -> None:
    """Store a card fetched from catalog's API when the read model has none or only an
    older fetched one; a card that came from an event is left alone."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(comparison="<="), _row(card, BEFORE_ANY_EVENT))
        is_stored = cursor.fetchone() is not None
    if is_stored:
        pages_version_bump()
        product_cards_changed.send(sender=ProductCard, product_ids=[uuid.UUID(str(card["id"]))])


def product_changed_apply(envelope: dict[str, Any]) -> None:
    """Handler of catalog's `product.changed`: the newest card wins, whatever the order
    of delivery (an older event after a newer one changes nothing)."""
    source_time = parse_datetime(envelope["time"])
    if source_time is None:
        raise ValueError(f"Event {envelope['id']} has no valid time.")
    is_applied = product_card_apply(card=envelope["data"], source_time=source_time)
    logger.info(
        "Product card %s",
        "updated" if is_applied else "unchanged (older event)",
        extra={"product_id": envelope["subject"], "event_id": envelope["id"]},
    )


def product_cards_sync(*, cards: Any, missing_ids: list[uuid.UUID]) -> tuple[int, int]:
    """Backfill: store every active card given; mark `missing_ids` (tagged products that
    catalog no longer lists) unavailable. Returns (stored, marked)."""
    stored = 0
    listed: set[uuid.UUID] = set()
    for card in cards:
        product_card_remember(card=card)
        listed.add(uuid.UUID(str(card["id"])))
        stored += 1
    gone = [product_id for product_id in missing_ids if product_id not in listed]
    marked = ProductCard.objects.filter(product_id__in=gone, source_time=BEFORE_ANY_EVENT).update(
        status="unavailable"
    )
    if marked:
        pages_version_bump()
    return stored, marked
