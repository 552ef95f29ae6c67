from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from clipcart_shared.outbox.services import event_consume
from productcards.models import ProductCard

pytestmark = pytest.mark.django_db

PRODUCT = str(uuid.uuid4())


def _envelope(title: str, time: str, status: str = "active", category: dict | None = None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "product.changed",
        "source": "catalog",
        "time": time,
        "subject": PRODUCT,
        "data": {
            "id": PRODUCT,
            "merchant": {"id": str(uuid.uuid4()), "name": "M"},
            "title": title,
            "description": "",
            "images": ["https://img.example.com/1.jpg"],
            "price": {"amount": 1500, "currency": "EUR"},
            "stock_status": "low_stock",
            "variants": [],
            "status": status,
            "category": category,
        },
    }


FASHION = {"slug": "fashion", "name": "Fashion"}
HOME = {"slug": "home", "name": "Home"}


def test_product_changed_creates_then_updates_the_card():
    assert event_consume(envelope=_envelope("First", "2026-11-01T10:00:00+00:00")) is True
    assert event_consume(envelope=_envelope("Second", "2026-11-01T11:00:00+00:00")) is True
    card = ProductCard.objects.get()
    assert (card.title, card.price_amount, card.stock_status) == ("Second", 1500, "low_stock")
    assert card.source_time == datetime(2026, 11, 1, 11, tzinfo=UTC)


def test_a_duplicate_or_an_older_event_leaves_the_newest_card():
    newer = _envelope("Newer", "2026-11-01T11:00:00+00:00")
    event_consume(envelope=newer)
    assert event_consume(envelope=newer) is False  # the same event again
    event_consume(envelope=_envelope("Older", "2026-11-01T10:00:00+00:00"))
    assert ProductCard.objects.get().title == "Newer"


def test_an_archived_product_keeps_its_card_with_its_status():
    event_consume(envelope=_envelope("Gone", "2026-11-01T12:00:00+00:00", status="archived"))
    assert ProductCard.objects.get().status == "archived"


def test_product_changed_stores_the_category_slug():
    event_consume(envelope=_envelope("Jacket", "2026-11-01T10:00:00+00:00", category=FASHION))
    assert ProductCard.objects.get().category_slug == "fashion"

    event_consume(envelope=_envelope("Jacket", "2026-11-01T11:00:00+00:00", category=None))
    assert ProductCard.objects.get().category_slug == ""  # the merchant cleared it


def test_an_older_event_does_not_overwrite_the_category_slug():
    event_consume(envelope=_envelope("Throw", "2026-11-01T11:00:00+00:00", category=HOME))
    event_consume(envelope=_envelope("Throw", "2026-11-01T10:00:00+00:00", category=FASHION))
    assert ProductCard.objects.get().category_slug == "home"


def test_an_event_from_before_categories_stores_no_category():
    envelope = _envelope("Mug", "2026-11-01T10:00:00+00:00")
    del envelope["data"]["category"]  # catalog before categories sent no such field

    assert event_consume(envelope=envelope) is True
    card = ProductCard.objects.get()
    assert (card.title, card.category_slug) == ("Mug", "")


def test_sync_command_backfills_every_active_card_from_the_real_catalog(catalog):
    from django.core.management import call_command

    call_command("sync_product_cards")

    stored = set(ProductCard.objects.values_list("product_id", flat=True))
    assert {str(product_id) for product_id in stored} == {p["id"] for p in catalog.active_products}
    assert set(ProductCard.objects.values_list("status", flat=True)) == {"active"}
    # The demo products all have a category; the backfill keeps each one's slug.
    assert dict(ProductCard.objects.values_list("product_id", "category_slug")) == {
        uuid.UUID(p["id"]): p["category"]["slug"] for p in catalog.active_products
    }
    assert "" not in set(ProductCard.objects.values_list("category_slug", flat=True))
