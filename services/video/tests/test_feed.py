from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import CreatorFactory, ProductCardFactory, ProductTagFactory, VideoFactory
from videos.models import Video

pytestmark = pytest.mark.django_db

# The chronological feed (the ranked modes are tested in test_discovery_feed.py).
LATEST = "/api/v1/feed/?mode=latest"


def test_feed_lists_published_videos_newest_first_with_tags_and_cards(api_client):
    now = timezone.now()
    older = VideoFactory(published_at=now - timedelta(hours=2))
    newer = VideoFactory(published_at=now - timedelta(hours=1))
    VideoFactory(status=Video.Status.DRAFT, published_at=None)
    VideoFactory(status=Video.Status.REMOVED)
    card = ProductCardFactory(stock_status="out_of_stock", price_amount=2500)
    tag = ProductTagFactory(video=newer, product_id=card.product_id, start_ms=500, end_ms=900)

    body = api_client.get(LATEST).json()

    assert [video["id"] for video in body["results"]] == [str(newer.id), str(older.id)]
    first = body["results"][0]
    assert first["creator"]["handle"] == newer.creator.handle
    assert first["tags"] == [
        {
            "id": str(tag.id),
            "start_ms": 500,
            "end_ms": 900,
            "x": 0.5,
            "y": 0.5,
            "keyframes": [],
            "product": {
                "id": str(card.product_id),
                "title": card.title,
                "image": card.image,
                "price": {"amount": 2500, "currency": "EUR"},
                "stock_status": "out_of_stock",
                "sold_via_videos_30d": 0,
                "flash_deal": None,
            },
            "variant_id": None,
        }
    ]


def test_tags_of_archived_or_unknown_products_are_left_out(api_client):
    video = VideoFactory()
    ProductTagFactory(video=video, product_id=ProductCardFactory(status="archived").product_id)
    ProductTagFactory(video=video, product_id=ProductCardFactory().product_id)
    unknown = ProductTagFactory(video=video)
    unknown.product_id = unknown.merchant_id  # an id no card has
    unknown.save()
    tags = api_client.get(f"/api/v1/videos/{video.id}/").json()["tags"]
    assert len(tags) == 1


def test_video_objects_keep_the_formats_drf_rendered(api_client):
    """PostgreSQL writes them now (ADR 7): nulls for empty strings, floats as floats, times
    as DRF writes them, tags in time order."""
    creator = CreatorFactory(avatar_url="")
    whole_second = VideoFactory(creator=creator, published_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    VideoFactory(published_at=datetime(2026, 3, 1, 11, 0, 0, 120, tzinfo=UTC))
    bare_card = ProductCardFactory(image="", price_amount=None, currency="")
    variant_id = uuid.uuid4()
    later = ProductTagFactory(video=whole_second, start_ms=2000, x=1.0, y=0.0)
    first = ProductTagFactory(
        video=whole_second,
        product_id=bare_card.product_id,
        variant_id=variant_id,
        start_ms=0,
        x=0.1 + 0.2,
        y=1e-05,
        keyframes=[{"t_ms": 0, "x": 1.0, "y": 0.5}, {"t_ms": 900, "x": 0.25, "y": 0.5}],
    )

    feed = api_client.get(LATEST).json()["results"]
    single = api_client.get(f"/api/v1/videos/{whole_second.id}/").json()

    assert [video["published_at"] for video in feed] == [
        "2026-03-01T12:00:00Z",
        "2026-03-01T11:00:00.000120Z",
    ]
    assert feed[0] == single
    assert single["creator"]["avatar_url"] is None
    assert [tag["id"] for tag in single["tags"]] == [str(first.id), str(later.id)]
    shown = single["tags"][0]
    assert shown["product"] == {
        "id": str(bare_card.product_id),
        "title": bare_card.title,
        "image": None,
        "price": None,
        "stock_status": "in_stock",
        "sold_via_videos_30d": 0,
        "flash_deal": None,
    }
    assert (shown["variant_id"], shown["x"], shown["y"]) == (str(variant_id), 0.1 + 0.2, 1e-05)
    assert shown["keyframes"] == [
        {"x": 1.0, "y": 0.5, "t_ms": 0},
        {"x": 0.25, "y": 0.5, "t_ms": 900},
    ]
    positions = [single["tags"][1]["x"], single["tags"][1]["y"], shown["keyframes"][0]["x"]]
    assert all(isinstance(value, float) for value in positions)  # 1.0, not 1


def _cursor(query: str) -> str:
    return quote(base64.b64encode(query.encode()).decode())


def test_a_cursor_with_a_made_up_position_is_a_400(api_client):
    VideoFactory()
    response = api_client.get(f"{LATEST}&cursor={_cursor('o=0&p=yesterday')}")
    assert response.status_code == 400


def test_a_reversed_cursor_pages_back_as_drf_does(api_client):
    now = timezone.now()
    videos = [VideoFactory(published_at=now - timedelta(minutes=n)) for n in range(5)]
    # DRF's "previous" cursor from the 4th video: the 2 videos just before it, newest first.
    position = quote(str(videos[3].published_at))
    body = api_client.get(f"{LATEST}&limit=2&cursor={_cursor(f'r=1&p={position}')}").json()
    assert [video["id"] for video in body["results"]] == [str(videos[1].id), str(videos[2].id)]
    forward = api_client.get(body["next"]).json()
    assert [video["id"] for video in forward["results"]] == [str(videos[3].id), str(videos[4].id)]


def test_feed_pages_by_cursor_without_repeats(api_client):
    now = timezone.now()
    created = {str(VideoFactory(published_at=now - timedelta(minutes=n)).id) for n in range(7)}
    seen: list[str] = []
    url = f"{LATEST}&limit=3"
    while url:
        body = api_client.get(url).json()
        seen += [video["id"] for video in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created


def test_feed_answers_304_to_a_matching_etag_and_200_after_a_change(api_client):
    VideoFactory()
    first = api_client.get(LATEST)
    etag = first["ETag"]
    unchanged = api_client.get(LATEST, HTTP_IF_NONE_MATCH=etag)
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    VideoFactory()
    changed = api_client.get(LATEST, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def _feed_queries(api_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(f"{LATEST}&limit=20").status_code == 200
    return len(queries)


def test_feed_query_count_is_the_same_for_1_video_and_20_videos_with_5_tags(api_client):
    ProductTagFactory(video=VideoFactory())
    one = _feed_queries(api_client)
    for _ in range(19):
        ProductTagFactory.create_batch(5, video=VideoFactory())
    twenty = _feed_queries(api_client)
    assert one == twenty == 1


def test_the_feed_keeps_serving_from_the_read_model_when_catalog_is_down(api_client, catalog_down):
    video = VideoFactory()
    ProductTagFactory(video=video, product_id=ProductCardFactory(title="Still here").product_id)
    response = api_client.get(LATEST)
    assert response.status_code == 200
    assert response.json()["results"][0]["tags"][0]["product"]["title"] == "Still here"
