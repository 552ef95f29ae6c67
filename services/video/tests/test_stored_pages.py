"""Shared pages served as stored bytes (clipcart_shared.pages, ADR 34): no SQL for a stored
page or a 304, stale at once after the writes that change them, never staler than
FEED_MAX_STALENESS_SECONDS, and never one caller's page for another."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.cache.backends import locmem
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clipcart_shared.outbox.services import event_consume
from discovery.services import not_interested_record, search_index_rebuild, trending_recompute
from tests.factories import ProductCardFactory, ProductTagFactory, VideoFactory
from videos.models import Video
from videos.services import video_remove

pytestmark = pytest.mark.django_db

FEED = "/api/v1/feed/"
LATEST = "/api/v1/feed/?mode=latest"
SHARED_PAGES = [
    LATEST,
    "/api/v1/feed/?mode=trending",
    "/api/v1/feed/",  # anonymous: trending
    "/api/v1/hashtags/lamp/videos/",
    "/api/v1/search/?q=lamp",
]


def _ids(response) -> list[str]:
    return [video["id"] for video in response.json()["results"]]


def _queries(client, path: str, **headers: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    return len(captured), response


@pytest.fixture
def lamp_video() -> Video:
    video = VideoFactory(caption="A #lamp for the desk")
    ProductTagFactory(video=video, product_id=ProductCardFactory(title="Lamp").product_id)
    search_index_rebuild()
    trending_recompute()
    return video


@pytest.mark.parametrize("path", SHARED_PAGES)
def test_a_stored_page_and_a_304_cost_no_query(api_client, lamp_video, path):
    first = api_client.get(path)
    assert first.status_code == 200 and _ids(first) == [str(lamp_video.id)]

    stored_queries, stored = _queries(api_client, path)
    not_modified_queries, not_modified = _queries(
        api_client, path, HTTP_IF_NONE_MATCH=first["ETag"]
    )

    assert (stored_queries, not_modified_queries) == (0, 0)
    assert stored.content == first.content and stored["ETag"] == first["ETag"]
    assert (not_modified.status_code, not_modified.content) == (304, b"")


@pytest.mark.parametrize("path", SHARED_PAGES)
def test_a_taken_down_video_leaves_every_stored_page_at_once(api_client, lamp_video, path):
    assert _ids(api_client.get(path)) == [str(lamp_video.id)]

    video_remove(video=lamp_video)

    assert _ids(api_client.get(path)) == []


def _card_changed(product_id: uuid.UUID, price: int, stock_status: str) -> dict:
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
            "price": {"amount": price, "currency": "EUR"},
            "stock_status": stock_status,
            "variants": [],
            "status": "active",
            "category": None,
        },
    }


@pytest.mark.parametrize("path", SHARED_PAGES)
def test_a_product_changed_shows_on_the_next_stored_page(api_client, lamp_video, path):
    product_id = lamp_video.tags.get().product_id
    before = api_client.get(path)

    assert event_consume(envelope=_card_changed(product_id, 999, "out_of_stock")) is True
    after = api_client.get(path, HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    product = after.json()["results"][0]["tags"][0]["product"]
    assert (product["price"]["amount"], product["stock_status"]) == (999, "out_of_stock")


def test_what_no_write_bumps_is_shown_within_the_staleness_bound(
    api_client, lamp_video, settings, monkeypatch
):
    settings.FEED_MAX_STALENESS_SECONDS = 5
    now = time.time()
    monkeypatch.setattr(locmem.time, "time", lambda: now)
    assert api_client.get(LATEST).json()["results"][0]["likes"] == 0
    Video.objects.filter(id=lamp_video.id).update(likes_count=3)  # a like: no bump

    monkeypatch.setattr(locmem.time, "time", lambda: now + 4.9)
    still = api_client.get(LATEST).json()["results"][0]["likes"]
    monkeypatch.setattr(locmem.time, "time", lambda: now + 5.1)
    later = api_client.get(LATEST).json()["results"][0]["likes"]

    assert (still, later) == (0, 3)


def test_signed_in_trending_pages_are_never_shared(api_client, client_for, lamp_video):
    other = VideoFactory(published_at=lamp_video.published_at)
    trending_recompute()
    alice, bob = client_for("alice"), client_for("bob")
    not_interested_record(user_id="alice", video_id=lamp_video.id)
    everyone = sorted([str(lamp_video.id), str(other.id)])

    # Interleaved, each twice: nobody gets another's page, nor the anonymous one.
    pages = []
    for _ in range(2):
        for client in (api_client, alice, bob):
            pages.append(sorted(_ids(client.get(f"{FEED}?mode=trending"))))

    assert pages == [everyone, [str(other.id)], everyone] * 2


def test_for_you_pages_are_each_users_own(client_for, lamp_video):
    other = VideoFactory()
    alice, bob = client_for("alice"), client_for("bob")
    not_interested_record(user_id="alice", video_id=other.id)
    not_interested_record(user_id="bob", video_id=lamp_video.id)

    pages = [_ids(client.get(FEED)) for client in (alice, bob, alice, bob)]

    assert pages == [[str(lamp_video.id)], [str(other.id)]] * 2


def test_a_page_of_each_host_keeps_its_own_next_links(api_client, lamp_video):
    VideoFactory()
    one = api_client.get(f"{LATEST}&limit=1", HTTP_HOST="127.0.0.1").json()
    other = api_client.get(f"{LATEST}&limit=1", HTTP_HOST="localhost").json()

    assert one["next"].startswith("http://127.0.0.1/")
    assert other["next"].startswith("http://localhost/")


def test_a_stored_search_page_costs_no_query_signed_in_with_the_embedded_caches(
    client_for, lamp_video, tmp_path
):
    # Search counts its GETs per user and per address. With the embedded run's caches
    # (the database cache as `default`, the pages' files), the counts are in the pages'
    # files too: neither the count nor the stored page is a statement.
    embedded = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "clipcart_cache",
        },
        "pages": {
            "BACKEND": "clipcart_shared.filecache.SharedFileCache",
            "LOCATION": str(tmp_path),
        },
    }
    with override_settings(CACHES=embedded):
        client = client_for("searcher")
        first = client.get("/api/v1/search/?q=lamp")
        assert first.status_code == 200

        stored_queries, stored = _queries(client, "/api/v1/search/?q=lamp")

    assert stored_queries == 0 and stored.content == first.content
