from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from discovery.models import VideoHashtag
from discovery.services import search_index_rebuild, trending_recompute, video_search_refresh
from discovery.text import similarity, trigrams
from tests.factories import (
    CreatorFactory,
    ProductCardFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
)
from videos.models import Video

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search/"


def _ids(api_client, q, kind="videos"):
    response = api_client.get(SEARCH, {"q": q, "type": kind})
    assert response.status_code == 200, response.content
    return [result["id"] for result in response.json()["results"]]


@pytest.fixture
def shop():
    """Two creators' videos, one tagging a serum, one a jacket."""
    clara = CreatorFactory(handle="clarabeauty", display_name="Clara Night")
    tom = CreatorFactory(handle="tom.outdoors", display_name="Tom Field")
    serum = ProductCardFactory(title="Vitamin C glow serum")
    jacket = ProductCardFactory(title="Rain shell jacket")
    glow = VideoFactory(creator=clara, caption="Morning routine #TikTokMadeMeBuyIt")
    hike = VideoFactory(creator=tom, caption="Ridge walk in the drizzle #hiking")
    ProductTagFactory(video=glow, product_id=serum.product_id)
    ProductTagFactory(video=hike, product_id=jacket.product_id)
    VideoFactory(
        creator=clara, caption="draft routine", status=Video.Status.DRAFT, published_at=None
    )
    search_index_rebuild()
    return {
        "clara": clara,
        "tom": tom,
        "serum": serum,
        "jacket": jacket,
        "glow": glow,
        "hike": hike,
    }


def test_trigrams_and_similarity_follow_pg_trgm():
    assert trigrams("cat") == ["  c", " ca", "at ", "cat"]
    assert similarity("clarabeauty", "clarabeauty") == 1.0
    assert similarity("clarabeuty", "clarabeauty") >= 0.3
    assert similarity("tom", "clarabeauty") < 0.3


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("routine", "glow"),  # caption
        ("drizzle", "hike"),
        ("#tiktokmademebuyit", "glow"),  # hashtag, with or without #
        ("TikTokMadeMeBuyIt", "glow"),
        ("clarabeauty", "glow"),  # handle
        ("@tom.outdoors", "hike"),
        ("outdoors", "hike"),  # part of a handle
        ("serum", "glow"),  # the tagged product's title
        ("rain jacket", "hike"),  # every word, in any order
        ("glo", "glow"),  # a prefix
    ],
)
def test_search_finds_videos_by_caption_hashtag_handle_and_product_title(
    api_client, shop, query, found
):
    assert _ids(api_client, query) == [str(shop[found].id)]


@pytest.mark.parametrize("query", ["clarabeuty", "clarabaeuty", "tom.outdoor", "#tiktokmademebuyt"])
def test_a_one_letter_typo_in_a_handle_or_hashtag_still_finds_it(api_client, shop, query):
    assert len(_ids(api_client, query)) == 1


def test_a_typo_in_a_handle_finds_the_creator(api_client, shop):
    assert _ids(api_client, "clarabeuty", "creators") == [str(shop["clara"].id)]
    body = api_client.get(SEARCH, {"q": "Clara", "type": "creators"}).json()
    assert body["results"] == [
        {
            "id": str(shop["clara"].id),
            "handle": "clarabeauty",
            "display_name": "Clara Night",
            "avatar_url": "https://img.example.com/avatar.jpg",
            "followers": 0,
        }
    ]


def test_unrelated_words_find_nothing(api_client, shop):
    assert _ids(api_client, "lawnmower") == []
    assert _ids(api_client, "serum drizzle") == []  # every word must match


def test_drafts_and_removed_videos_are_never_found(api_client, shop):
    Video.objects.filter(id=shop["glow"].id).update(status=Video.Status.REMOVED)
    assert _ids(api_client, "routine") == []


def test_product_search_shows_active_cards_with_merchant_and_social_proof(api_client, shop):
    ProductCardFactory(title="Glow serum refill", status="archived")
    search_index_rebuild()

    body = api_client.get(SEARCH, {"q": "serum", "type": "products"}).json()

    serum = shop["serum"]
    assert body["results"] == [
        {
            "id": str(serum.product_id),
            "title": "Vitamin C glow serum",
            "image": serum.image,
            "price": {"amount": 1999, "currency": "EUR"},
            "stock_status": "in_stock",
            "merchant": {"id": str(serum.merchant_id), "name": "Merchant"},
            "sold_via_videos_30d": 0,
        }
    ]


def test_a_renamed_product_is_found_by_its_new_title(api_client, shop):
    from productcards.services import product_card_apply

    card = shop["jacket"]
    product_card_apply(
        card={
            "id": str(card.product_id),
            "merchant": {"id": str(card.merchant_id), "name": "Merchant"},
            "title": "Storm anorak",
            "images": [],
            "price": {"amount": 1999, "currency": "EUR"},
            "stock_status": "in_stock",
        },
        source_time=timezone.now(),
    )
    assert _ids(api_client, "anorak") == [str(shop["hike"].id)]
    assert _ids(api_client, "anorak", "products") == [str(card.product_id)]
    assert _ids(api_client, "jacket") == []


def test_recent_engagement_lifts_an_equally_relevant_video(api_client):
    quiet, busy = VideoFactory(caption="#haul one"), VideoFactory(caption="#haul two")
    for index in range(20):
        engagement_event(f"viewer-{index}", busy, "tag_tap", timezone.now() - timedelta(hours=1))
    search_index_rebuild()
    trending_recompute()
    assert _ids(api_client, "haul") == [str(busy.id), str(quiet.id)]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "query_required"),
        ({"q": ""}, 400, "query_required"),
        ({"q": "   "}, 400, "query_required"),
        ({"q": "a" * 201}, 400, "query_too_long"),
        ({"q": "?!#@ ... --"}, 400, "query_not_searchable"),
        ({"q": "🔥🔥"}, 400, "query_not_searchable"),
        ({"q": "serum", "type": "shops"}, 400, "validation_error"),
        ({"q": "serum", "cursor": "not-a-cursor"}, 400, "validation_error"),
        ({"q": "serum", "cursor": "eyJyYW5rIjogIngiLCAiaWQiOiAieSJ9"}, 400, "validation_error"),
    ],
)
def test_bad_searches_get_a_clear_400(api_client, shop, params, status, code):
    response = api_client.get(SEARCH, params)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_query_of_200_characters_is_accepted(api_client, shop):
    assert api_client.get(SEARCH, {"q": "routine " + "x" * 192}).status_code == 200


def test_search_pages_by_cursor_without_repeats_or_gaps(api_client):
    videos = {str(VideoFactory(caption=f"#unboxing number {index}").id) for index in range(7)}
    search_index_rebuild()
    seen: list[str] = []
    url: str | None = f"{SEARCH}?q=unboxing&limit=3"
    while url:
        body = api_client.get(url).json()
        seen += [video["id"] for video in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == videos


@pytest.mark.parametrize("kind", ["videos", "products", "creators"])
def test_search_query_count_is_the_same_for_1_and_20_results(api_client, kind):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = api_client.get(SEARCH, {"q": "lamp", "type": kind, "limit": 50})
        assert response.status_code == 200
        return len(captured)

    def add_one() -> None:
        creator = CreatorFactory(handle=f"lamp_{CreatorFactory._meta.model.objects.count()}")
        card = ProductCardFactory(title="Lamp")
        for _ in range(3):
            ProductTagFactory(
                video=VideoFactory(creator=creator, caption="#lamp"), product_id=card.product_id
            )

    add_one()
    search_index_rebuild()
    one = queries()
    for _ in range(19):
        add_one()
    search_index_rebuild()
    twenty = queries()  # rendered again: the index changed
    assert (
        len(api_client.get(SEARCH, {"q": "lamp", "type": kind, "limit": 50}).json()["results"])
        >= 20
    )
    assert twenty == one == 2
    assert queries() == 0  # then the stored page


def test_a_handle_changed_in_the_admin_is_searchable_at_once(api_client, superuser_client, shop):
    tom = shop["tom"]
    response = superuser_client.post(
        f"/video/admin/creators/creator/{tom.id}/change/",
        {
            "handle": "tom.summits",
            "display_name": tom.display_name,
            "avatar_url": tom.avatar_url,
            "commission_rate_bps": tom.commission_rate_bps,
            "brand_merchant_id": "",
        },
    )
    assert response.status_code == 302
    assert _ids(api_client, "summits") == [str(shop["hike"].id)]
    assert _ids(api_client, "tom.summits", "creators") == [str(tom.id)]


def test_the_rebuild_command_indexes_rows_written_without_the_services(api_client):
    from django.core.management import call_command

    video = VideoFactory(caption="#thrift finds")
    assert _ids(api_client, "thrift") == []
    call_command("discovery_rebuild", stdout=io.StringIO())
    assert _ids(api_client, "thrift") == [str(video.id)]


def test_the_demo_videos_are_searchable_after_seeding(api_client):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    assert len(_ids(api_client, "#ultralight")) == 1
    assert api_client.get("/api/v1/hashtags/winter/videos/").json()["results"]


def test_a_caption_of_one_endless_word_is_saved_and_its_other_words_found(client_for):
    CreatorFactory(user_id="maker")
    response = client_for("maker").post(
        "/api/v1/videos/",
        {
            "stream_url": "https://cdn.example.com/a.m3u8",
            "thumbnail_url": "https://cdn.example.com/a.jpg",
            "caption": "0" * 2150 + " #longform",
            "duration_ms": 1,
        },
        format="json",
    )
    assert response.status_code == 201
    assert VideoHashtag.objects.filter(video_id=response.json()["id"], tag="longform").exists()


@pytest.mark.django_db(transaction=True)
def test_refreshes_of_one_video_at_once_write_its_hashtags_once():
    # A caption edit and a tagged product's new title arriving together both rewrite the
    # video's hashtags: the second waits for the first (it used to fail on the unique
    # constraint and be retried).
    video = VideoFactory(caption="Ridge walk #hiking #rain")
    barrier = threading.Barrier(6)
    errors: list[Exception] = []

    def refresh() -> None:
        try:
            barrier.wait()
            video_search_refresh(video_ids=[video.id])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refresh) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(VideoHashtag.objects.filter(video=video).values_list("tag", flat=True)) == [
        "hiking",
        "rain",
    ]
