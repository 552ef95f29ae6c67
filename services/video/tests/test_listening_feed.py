""" "For you" listens (issue 19, ADR 21): not interested, skips, follows, the loop after a
purchase, creators spread out and fresh videos given a share of the first page."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from attribution.services import order_paid_apply
from creators.services import follow_create
from discovery.models import NotInterested
from discovery.selectors import for_you_video_ids
from discovery.services import search_index_rebuild, trending_recompute
from tests.factories import (
    CreatorFactory,
    ProductCardFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_paid,
    paid_line,
)

pytestmark = pytest.mark.django_db

FEED = "/api/v1/feed/"
SHOPPER = "shopper-1"


def _ids(body):
    return [video["id"] for video in body["results"]]


def _pages(client, url, count):
    seen: list[str] = []
    for _ in range(count):
        body = client.get(url).json()
        seen += _ids(body)
        url = body["next"]
    return seen


def _trending(video, fans=5, kind="tag_tap"):
    for index in range(fans):
        engagement_event(f"crowd-{video.id}-{index}", video, kind, timezone.now())


# --- not interested ---------------------------------------------------------------------------


def test_not_interested_in_a_creator_keeps_their_videos_out_of_the_next_three_pages(client_for):
    now = timezone.now()
    disliked = CreatorFactory()
    theirs = [
        VideoFactory(creator=disliked, published_at=now - timedelta(hours=index))
        for index in range(6)
    ]
    for video in theirs:
        _trending(video, fans=8)  # the hottest videos there are
    others = [VideoFactory(published_at=now - timedelta(days=3)) for _ in range(20)]
    for video in others:
        _trending(video, fans=2)
    trending_recompute()
    client = client_for(SHOPPER)
    disliked_ids = {str(video.id) for video in theirs}
    assert disliked_ids & set(_pages(client, f"{FEED}?limit=5", 3))  # before: among them

    answer = client.post(
        f"/api/v1/videos/{theirs[0].id}/not-interested/", {"reason": "creator"}, format="json"
    )

    assert answer.status_code == 204
    assert not disliked_ids & set(_pages(client, f"{FEED}?limit=5", 3))


def test_a_video_said_not_interested_to_never_comes_back(client_for):
    creator = CreatorFactory()
    videos = VideoFactory.create_batch(4, creator=creator)
    _trending(videos[0], fans=10)
    trending_recompute()
    client = client_for(SHOPPER)
    follow_create(user_id=SHOPPER, creator_id=creator.id)
    body = client.get(f"{FEED}?limit=2").json()  # a for-you snapshot ranked before

    client.post(f"/api/v1/videos/{videos[0].id}/not-interested/")

    gone = str(videos[0].id)
    assert gone not in _pages(client, f"{FEED}?limit=2", 2)
    assert gone not in _ids(client.get(f"{FEED}?mode=trending").json())
    assert gone not in _ids(client.get(f"{FEED}?mode=following").json())
    assert gone not in _ids(client.get(body["next"]).json())
    assert NotInterested.objects.get(user_id=SHOPPER).reason == ""


@pytest.mark.parametrize(
    ("video_id", "body", "status", "code"),
    [
        (uuid.uuid4(), {}, 404, "video_not_found"),
        (None, {"reason": "boring"}, 400, "validation_error"),
    ],
)
def test_not_interested_with_bad_input_is_refused_with_nothing_written(
    client_for, video_id, body, status, code
):
    video_id = video_id or VideoFactory().id
    answer = client_for(SHOPPER).post(
        f"/api/v1/videos/{video_id}/not-interested/", body, format="json"
    )
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer["Content-Type"] == "application/problem+json"
    assert NotInterested.objects.count() == 0


def test_not_interested_in_a_draft_is_unknown(client_for, api_client):
    draft = VideoFactory(status="draft", published_at=None)
    answer = client_for(SHOPPER).post(f"/api/v1/videos/{draft.id}/not-interested/")
    assert (answer.status_code, answer.json()["code"]) == (404, "video_not_found")
    assert api_client.post(f"/api/v1/videos/{draft.id}/not-interested/").status_code == 401


# --- skips -------------------------------------------------------------------------------------


def test_five_skips_of_a_hashtags_videos_put_it_below_videos_with_no_affinity():
    now = timezone.now()
    skipped = [
        VideoFactory(caption="#unboxing haul", published_at=now - timedelta(days=5))
        for _ in range(5)
    ]
    unseen = VideoFactory.create_batch(
        2, caption="more #unboxing", published_at=now - timedelta(days=3)
    )
    neutral = VideoFactory.create_batch(3, caption="#garden", published_at=now - timedelta(days=4))
    search_index_rebuild()
    before = for_you_video_ids(user_id=SHOPPER)
    assert set(before[:2]) == {video.id for video in unseen}  # newer, so first

    for index, video in enumerate(skipped):
        at = now - timedelta(hours=index + 1)
        if index % 2:
            engagement_event(SHOPPER, video, "impression", at, watch_ms=400)
        else:  # watched 3 s of 30: under 15 %
            engagement_event(SHOPPER, video, "view", at, watch_ms=3000)

    after = for_you_video_ids(user_id=SHOPPER)
    assert set(after[:3]) == {video.id for video in neutral}
    assert set(after[3:5]) == {video.id for video in unseen}


# --- follows -------------------------------------------------------------------------------------


def test_a_follow_lifts_the_creators_unseen_videos_to_the_first_page(client_for):
    now = timezone.now()
    creator = CreatorFactory()
    theirs = VideoFactory.create_batch(2, creator=creator, published_at=now - timedelta(days=10))
    for _ in range(15):
        _trending(VideoFactory(published_at=now - timedelta(days=2)), fans=3)
    trending_recompute()
    client = client_for(SHOPPER)
    their_ids = {str(video.id) for video in theirs}
    assert not their_ids & set(_ids(client.get(f"{FEED}?limit=10").json()))

    client.post(f"/api/v1/creators/{creator.id}/follow/")

    assert their_ids <= set(_ids(client.get(f"{FEED}?limit=10").json()))


# --- after a purchase ----------------------------------------------------------------------------


def test_after_a_purchase_the_first_page_leans_to_what_is_bought_with_it(client_for):
    now = timezone.now()
    bought_card, partner_card = ProductCardFactory(), ProductCardFactory()
    bought = ProductTagFactory(product_id=bought_card.product_id)
    only_bought = [
        ProductTagFactory(product_id=bought_card.product_id, merchant_id=bought.merchant_id)
        for _ in range(3)
    ]
    partner = ProductTagFactory(
        product_id=partner_card.product_id, video__published_at=now - timedelta(days=6)
    )
    for tag in [bought, *only_bought]:
        _trending(tag.video, fans=6)
    for _ in range(15):
        _trending(VideoFactory(published_at=now - timedelta(days=2)), fans=3)
    for index in range(3):  # other buyers bought both
        order_paid_apply(order_paid(f"buyer-{index}", [paid_line(bought), paid_line(partner)], now))
    trending_recompute()
    client = client_for(SHOPPER)
    first_page = set(_ids(client.get(f"{FEED}?limit=10").json()))
    assert str(partner.video_id) not in first_page
    assert {str(tag.video_id) for tag in only_bought} & first_page

    engagement_event(SHOPPER, bought.video, "tag_tap", now - timedelta(minutes=5))
    order_paid_apply(order_paid(SHOPPER, [paid_line(bought, source=bought)], now))

    first_page = set(_ids(client.get(f"{FEED}?limit=10").json()))
    assert str(partner.video_id) in first_page
    assert not {str(tag.video_id) for tag in [bought, *only_bought]} & first_page


# --- diversity and fresh videos ------------------------------------------------------------


def _creators_of(ids, videos):
    by_id = {str(video.id): video.creator_id for video in videos}
    return [by_id[video_id] for video_id in ids]


def test_no_more_than_two_videos_of_one_creator_in_any_ten(client_for):
    now = timezone.now()
    favourite = CreatorFactory()
    theirs = [
        VideoFactory(creator=favourite, published_at=now - timedelta(days=3, hours=index))
        for index in range(12)
    ]
    others = [VideoFactory(published_at=now - timedelta(days=4)) for _ in range(30)]
    follow_create(user_id=SHOPPER, creator_id=favourite.id)

    ids = _ids(client_for(SHOPPER).get(f"{FEED}?limit=20").json())

    creators = _creators_of(ids, [*theirs, *others])
    assert len(ids) == 20
    for start in range(len(ids) - 9):
        assert creators[start : start + 10].count(favourite.id) <= 2
    assert creators[:2] == [favourite.id, favourite.id]  # still first, where allowed


def test_when_other_creators_run_out_one_creators_videos_fill_the_page(client_for):
    now = timezone.now()
    favourite = CreatorFactory()
    theirs = [
        VideoFactory(creator=favourite, published_at=now - timedelta(days=3, hours=index))
        for index in range(8)
    ]
    others = [VideoFactory(published_at=now - timedelta(days=4)) for _ in range(2)]
    follow_create(user_id=SHOPPER, creator_id=favourite.id)

    ids = _ids(client_for(SHOPPER).get(f"{FEED}?limit=20").json())

    assert set(ids) == {str(video.id) for video in [*theirs, *others]}
    creators = _creators_of(ids, [*theirs, *others])
    assert creators[:2] == [favourite.id] * 2
    assert set(ids[2:4]) == {str(video.id) for video in others}
    assert creators[4:] == [favourite.id] * 6


@pytest.mark.parametrize(("share", "fresh_on_first_page"), [(0.1, 1), (0.2, 2), (0.0, 0)])
def test_a_share_of_the_first_page_goes_to_fresh_videos(
    client_for, settings, share, fresh_on_first_page
):
    settings.FEED_FRESH_SHARE = share
    now = timezone.now()
    established = [VideoFactory(published_at=now - timedelta(hours=26)) for _ in range(15)]
    for video in established:
        _trending(video, fans=5)  # not fresh: engaged with
    fresh = VideoFactory.create_batch(3, published_at=now - timedelta(hours=30))
    trending_recompute()

    body = client_for(SHOPPER).get(f"{FEED}?limit=10").json()

    ids, fresh_ids = _ids(body), {str(video.id) for video in fresh}
    assert len(fresh_ids & set(ids)) == fresh_on_first_page
    # In the first page's last places: the ranking's own order comes before them.
    assert not fresh_ids & set(ids[: 10 - fresh_on_first_page])
