from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import ProductCardFactory, ProductTagFactory, VideoFactory
from videos.models import Video

pytestmark = pytest.mark.django_db


def test_feed_lists_published_videos_newest_first_with_tags_and_cards(api_client):
    now = timezone.now()
    older = VideoFactory(published_at=now - timedelta(hours=2))
    newer = VideoFactory(published_at=now - timedelta(hours=1))
    VideoFactory(status=Video.Status.DRAFT, published_at=None)
    VideoFactory(status=Video.Status.REMOVED)
    card = ProductCardFactory(stock_status="out_of_stock", price_amount=2500)
    tag = ProductTagFactory(video=newer, product_id=card.product_id, start_ms=500, end_ms=900)

    body = api_client.get("/api/v1/feed/").json()

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


def test_feed_pages_by_cursor_without_repeats(api_client):
    now = timezone.now()
    created = {str(VideoFactory(published_at=now - timedelta(minutes=n)).id) for n in range(7)}
    seen: list[str] = []
    url = "/api/v1/feed/?limit=3"
    while url:
        body = api_client.get(url).json()
        seen += [video["id"] for video in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created


def test_feed_answers_304_to_a_matching_etag_and_200_after_a_change(api_client):
    VideoFactory()
    first = api_client.get("/api/v1/feed/")
    etag = first["ETag"]
    unchanged = api_client.get("/api/v1/feed/", HTTP_IF_NONE_MATCH=etag)
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    VideoFactory()
    changed = api_client.get("/api/v1/feed/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def _feed_queries(api_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get("/api/v1/feed/?limit=20").status_code == 200
    return len(queries)


def test_feed_query_count_is_the_same_for_1_video_and_20_videos_with_5_tags(api_client):
    ProductTagFactory(video=VideoFactory())
    one = _feed_queries(api_client)
    for _ in range(19):
        ProductTagFactory.create_batch(5, video=VideoFactory())
    twenty = _feed_queries(api_client)
    assert one == twenty == 3


def test_the_feed_keeps_serving_from_the_read_model_when_catalog_is_down(api_client, catalog_down):
    video = VideoFactory()
    ProductTagFactory(video=video, product_id=ProductCardFactory(title="Still here").product_id)
    response = api_client.get("/api/v1/feed/")
    assert response.status_code == 200
    assert response.json()["results"][0]["tags"][0]["product"]["title"] == "Still here"
