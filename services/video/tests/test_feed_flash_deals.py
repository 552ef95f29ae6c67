"""A flash deal on a video's product card in the feed: carried by `product.changed` into
the read model, shown on that video's tags only, and only while it runs by the clock
(a stored page shows its start and end within FEED_MAX_STALENESS_SECONDS, no write)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from clipcart_shared.outbox.services import event_consume
from tests.factories import ProductCardFactory, ProductTagFactory, VideoFactory

pytestmark = pytest.mark.django_db

LATEST = "/api/v1/feed/?mode=latest"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _card_changed(product_id: uuid.UUID, deal: dict | None) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "product.changed",
        "source": "catalog",
        "time": timezone.now().isoformat(),
        "subject": str(product_id),
        "data": {
            "id": str(product_id),
            "merchant": {"id": str(uuid.uuid4()), "name": "M"},
            "title": "Lamp",
            "description": "",
            "images": ["https://img.example.com/1.jpg"],
            "price": {"amount": 1200, "currency": "EUR"},
            "stock_status": "in_stock",
            "variants": [],
            "flash_deal": deal,
            "status": "active",
            "category": None,
        },
    }


def _deal(video_id: uuid.UUID, starts: datetime, ends: datetime) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "video_id": str(video_id),
        "variant_id": None,
        "price": {"amount": 800, "currency": "EUR"},
        "starts_at": _iso(starts),
        "ends_at": _iso(ends),
        "remaining": 7,
        "per_buyer_limit": 2,
    }


def _deals_by_video(client) -> dict[str, object]:
    return {
        video["id"]: video["tags"][0]["product"]["flash_deal"]
        for video in client.get(LATEST).json()["results"]
    }


@pytest.fixture
def two_videos():
    product_id = ProductCardFactory(title="Lamp").product_id
    on_deal, other = VideoFactory(), VideoFactory()
    for video in (on_deal, other):
        ProductTagFactory(video=video, product_id=product_id)
    return product_id, on_deal, other


def test_the_deal_shows_on_its_videos_tags_only(api_client, two_videos):
    product_id, on_deal, other = two_videos
    now = timezone.now()
    deal = _deal(on_deal.id, now - timedelta(minutes=1), now + timedelta(minutes=19))

    assert event_consume(envelope=_card_changed(product_id, deal)) is True
    shown = _deals_by_video(api_client)

    assert shown[str(other.id)] is None
    assert shown[str(on_deal.id)] == {
        "price": {"amount": 800, "currency": "EUR"},
        "ends_at": deal["ends_at"],
        "remaining": 7,
        "per_buyer_limit": 2,
        "video_id": str(on_deal.id),
        "variant_id": None,
    }
    detail = api_client.get(f"/api/v1/videos/{on_deal.id}/").json()
    assert detail["tags"][0]["product"]["flash_deal"]["remaining"] == 7


def test_a_card_without_a_deal_shows_null(api_client, two_videos):
    product_id, _, _ = two_videos

    assert event_consume(envelope=_card_changed(product_id, None)) is True

    assert set(_deals_by_video(api_client).values()) == {None}


def test_a_deal_starts_and_ends_on_stored_pages_by_the_clock(api_client, settings):
    settings.FEED_MAX_STALENESS_SECONDS = 1
    now = timezone.now()
    starting, ending = VideoFactory(), VideoFactory()
    for video, deal in (
        (starting, _deal(starting.id, now + timedelta(seconds=2), now + timedelta(minutes=20))),
        (ending, _deal(ending.id, now - timedelta(minutes=20), now + timedelta(seconds=2))),
    ):
        product_id = ProductCardFactory().product_id
        ProductTagFactory(video=video, product_id=product_id)
        assert event_consume(envelope=_card_changed(product_id, deal)) is True

    before = _deals_by_video(api_client)
    time.sleep(3.2)  # whole seconds in the stored times; no write in between
    after = _deals_by_video(api_client)

    assert before[str(starting.id)] is None and before[str(ending.id)] is not None
    assert after[str(starting.id)] is not None and after[str(ending.id)] is None
