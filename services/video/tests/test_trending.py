"""Trending for everyone: what it scores, how it is recomputed, the snapshot it pages
through, and the social proof on product cards recounted with it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from attribution.services import order_paid_apply
from discovery.models import FeedSnapshot, VideoTrend
from discovery.services import trending_recompute
from tests.factories import ProductTagFactory, VideoFactory, engagement_event, order_paid, paid_line
from videos.models import Video

pytestmark = pytest.mark.django_db

FEED = "/api/v1/feed/"
SHOPPER = "shopper-1"


def _ids(body):
    return [video["id"] for video in body["results"]]


def _all_pages(client, url):
    seen: list[str] = []
    while url:
        body = client.get(url).json()
        seen += _ids(body)
        url = body["next"]
    return seen


def test_a_brand_new_video_with_strong_engagement_tops_trending(api_client):
    now = timezone.now()
    old_favourite = VideoFactory(published_at=now - timedelta(days=3))
    for index in range(30):  # popular, but three days ago: outside the 48 hours
        engagement_event(f"fan-{index}", old_favourite, "tag_tap", now - timedelta(days=3))
    steady = VideoFactory(published_at=now - timedelta(days=1))
    for index in range(5):
        engagement_event(f"viewer-{index}", steady, "view", now - timedelta(hours=20))
    newcomer = VideoFactory(published_at=now - timedelta(minutes=30))
    for index in range(10):
        engagement_event(f"tapper-{index}", newcomer, "tag_tap", now - timedelta(minutes=10))
        engagement_event(f"tapper-{index}", newcomer, "add_to_cart", now - timedelta(minutes=9))
    quiet = VideoFactory(published_at=now - timedelta(hours=1))
    trending_recompute()

    ids = _ids(api_client.get(f"{FEED}?mode=trending").json())

    assert ids[:2] == [str(newcomer.id), str(steady.id)]
    # Unscored videos follow, newest first; nothing is left out.
    assert ids[2:] == [str(quiet.id), str(old_favourite.id)]


def test_attributed_purchases_count_in_trending(api_client):
    now = timezone.now()
    viewed, bought = VideoFactory(), VideoFactory()
    for index in range(5):
        engagement_event(f"viewer-{index}", viewed, "view", now - timedelta(hours=1))
    tag = ProductTagFactory(video=bought)
    engagement_event(SHOPPER, bought, "tag_tap", now - timedelta(hours=2))
    order_paid_apply(order_paid(SHOPPER, [paid_line(tag)], now - timedelta(hours=1)))
    trending_recompute()
    assert _ids(api_client.get(f"{FEED}?mode=trending").json())[0] == str(bought.id)


def test_trending_is_recomputed_by_the_task_not_per_request(api_client):
    first, second = VideoFactory(), VideoFactory()
    engagement_event("a", first, "tag_tap", timezone.now())
    trending_recompute()
    engagement_event("b", second, "add_to_cart", timezone.now())
    engagement_event("c", second, "add_to_cart", timezone.now())
    assert _ids(api_client.get(FEED).json())[0] == str(first.id)  # anonymous: trending
    trending_recompute()
    assert _ids(api_client.get(FEED).json())[0] == str(second.id)


def test_trending_works_before_the_scheduler_ever_ran(api_client):
    video = VideoFactory()
    assert _ids(api_client.get(FEED).json()) == [str(video.id)]
    assert FeedSnapshot.objects.filter(mode="trending").count() == 1


def test_trending_pages_stay_in_one_order_while_it_is_recomputed(api_client):
    videos = [VideoFactory() for _ in range(6)]
    trending_recompute()
    body = api_client.get(f"{FEED}?mode=trending&limit=3").json()
    first_page = _ids(body)
    for index in range(10):  # the last video of page one now leads
        engagement_event(
            f"u{index}", Video.objects.get(id=first_page[-1]), "add_to_cart", timezone.now()
        )
    VideoFactory()  # and a new one is published
    trending_recompute()
    rest = _all_pages(api_client, body["next"])
    assert sorted(first_page + rest) == sorted(str(video.id) for video in videos)


def test_old_snapshots_are_dropped_and_their_cursors_get_a_clear_400(api_client, settings):
    VideoFactory.create_batch(3)
    trending_recompute(now=timezone.now() - timedelta(days=2))
    body = api_client.get(f"{FEED}?mode=trending&limit=1").json()
    trending_recompute()  # drops snapshots older than FEED_SNAPSHOT_SECONDS (a day)

    response = api_client.get(body["next"])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


# --- social proof ----------------------------------------------------------------------------


def test_product_cards_carry_units_sold_through_videos_in_30_days(api_client):
    now = timezone.now()
    video = VideoFactory()
    tag = ProductTagFactory(video=video)
    engagement_event(SHOPPER, video, "tag_tap", now - timedelta(days=1))
    order_paid_apply(order_paid(SHOPPER, [paid_line(tag, quantity=3)], now - timedelta(hours=1)))
    # Not through a video: no touch before it.
    order_paid_apply(order_paid("walk-in", [paid_line(tag, quantity=5)], now - timedelta(hours=1)))
    # Through a video, but 40 days ago.
    engagement_event("early", video, "tag_tap", now - timedelta(days=40, hours=1))
    order_paid_apply(order_paid("early", [paid_line(tag, quantity=7)], now - timedelta(days=40)))
    trending_recompute()

    for mode in ("latest", "trending"):
        card = api_client.get(f"{FEED}?mode={mode}").json()["results"][0]["tags"][0]["product"]
        assert card["sold_via_videos_30d"] == 3
    assert (
        api_client.get(f"/api/v1/videos/{video.id}/").json()["tags"][0]["product"][
            "sold_via_videos_30d"
        ]
        == 3
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_and_cold_starts_all_succeed(api_client):
    videos = VideoFactory.create_batch(3)
    engagement_event("a", videos[1], "tag_tap", timezone.now())
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run(action):
        try:
            barrier.wait()
            action()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    def first_page():
        assert APIClient().get(FEED).status_code == 200

    threads = [
        threading.Thread(target=run, args=(action,))
        for action in (trending_recompute, trending_recompute, first_page, first_page)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert list(VideoTrend.objects.values_list("video_id", flat=True)) == [videos[1].id]
    assert _ids(api_client.get(FEED).json())[0] == str(videos[1].id)
