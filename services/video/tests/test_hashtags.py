from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from discovery.models import VideoHashtag
from discovery.services import search_index_rebuild
from discovery.text import hashtag_normalize, hashtags_parse
from tests.factories import CreatorFactory, VideoFactory
from videos.models import Video
from videos.services import video_create, video_update


@pytest.mark.parametrize(
    ("caption", "tags"),
    [
        ("Obsessed #TikTokMadeMeBuyIt", ["tiktokmademebuyit"]),
        ("#tiktokmademebuyit and #TikTokMadeMeBuyIt again", ["tiktokmademebuyit"]),
        ("punctuation: #summer! #sale, #haul. (#ootd)", ["summer", "sale", "haul", "ootd"]),
        ("emoji right after #glow🔥 and before 🔥#skin", ["glow", "skin"]),
        ("emoji only #🔥 is no tag", []),
        ("non-Latin #красота #美容 #สวย #メイク", ["красота", "美容", "สวย", "メイク"]),
        ("combining marks stay in the tag #सौंदर्य", ["सौंदर्य"]),
        ("case folding #Straße", ["strasse"]),
        ("full-width letters #\uff33\uff21\uff2c\uff25", ["sale"]),
        ("double ##deal counts once", ["deal"]),
        ("trailing hash #", []),
        ("a lone # in the middle # here", []),
        ("inside a word: page#2 or mail#tag", []),
        ("digits alone are numbers #2024 but #top10 is a tag", ["top10"]),
        ("underscores #get_ready_with_me", ["get_ready_with_me"]),
        ("tags touching #one#two", ["one"]),
        ("", []),
    ],
)
def test_hashtags_are_parsed_unicode_aware_and_normalized(caption, tags):
    assert hashtags_parse(caption) == tags


def test_a_hashtag_longer_than_100_characters_is_not_one():
    assert hashtags_parse("#" + "a" * 101) == []
    assert hashtags_parse("#" + "a" * 100) == ["a" * 100]


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("#Sale", "sale"),
        ("SALE", "sale"),
        ("##sale", "sale"),
        ("sa-le", None),
        ("#", None),
        ("123", None),
        ("", None),
    ],
)
def test_a_path_hashtag_is_normalized_like_a_caption_tag(text, tag):
    assert hashtag_normalize(text) == tag


@pytest.mark.django_db
def test_creating_and_editing_a_video_keeps_its_hashtags():
    creator = CreatorFactory()
    video = video_create(
        creator=creator,
        stream_url="https://cdn.example.com/a.m3u8",
        thumbnail_url="https://cdn.example.com/a.jpg",
        caption="#Glow up #skincare",
        duration_ms=10_000,
    )
    assert sorted(VideoHashtag.objects.filter(video=video).values_list("tag", flat=True)) == [
        "glow",
        "skincare",
    ]

    video_update(video=video, caption="now just #haul")

    assert list(VideoHashtag.objects.filter(video=video).values_list("tag", flat=True)) == ["haul"]


@pytest.mark.django_db
def test_hashtag_page_lists_published_videos_with_the_tag_newest_first(api_client):
    now = timezone.now()
    older = VideoFactory(caption="#TikTokMadeMeBuyIt serum", published_at=now - timedelta(hours=2))
    newer = VideoFactory(
        caption="so good #tiktokmademebuyit", published_at=now - timedelta(hours=1)
    )
    VideoFactory(caption="#other")
    VideoFactory(caption="#tiktokmademebuyit draft", status=Video.Status.DRAFT, published_at=None)
    VideoFactory(caption="#tiktokmademebuyit removed", status=Video.Status.REMOVED)
    search_index_rebuild()

    for path_tag in ("tiktokmademebuyit", "TikTokMadeMeBuyIt", "%23tiktokmademebuyit"):
        body = api_client.get(f"/api/v1/hashtags/{path_tag}/videos/").json()
        assert [video["id"] for video in body["results"]] == [str(newer.id), str(older.id)]
        assert body["next"] is None
    # The feed's shape.
    assert set(body["results"][0]) == set(api_client.get(f"/api/v1/videos/{newer.id}/").json())


@pytest.mark.django_db
def test_hashtag_page_pages_by_cursor_without_repeats(api_client):
    now = timezone.now()
    videos = [
        VideoFactory(caption="#haul", published_at=now - timedelta(minutes=index))
        for index in range(5)
    ]
    search_index_rebuild()
    seen: list[str] = []
    url: str | None = "/api/v1/hashtags/haul/videos/?limit=2"
    while url:
        body = api_client.get(url).json()
        seen += [video["id"] for video in body["results"]]
        url = body["next"]
    assert seen == [str(video.id) for video in videos]


@pytest.mark.django_db
def test_an_unknown_hashtag_is_an_empty_list_and_a_malformed_one_400(api_client):
    assert api_client.get("/api/v1/hashtags/nobodyusesthis/videos/").json() == {
        "results": [],
        "next": None,
    }
    for bad in ("sa-le", "2024", "%F0%9F%94%A5"):
        response = api_client.get(f"/api/v1/hashtags/{bad}/videos/")
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "invalid_hashtag"
