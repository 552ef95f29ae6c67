"""Follows, likes and shares (API.md video "Social" and "Feedback"): idempotent writes,
counters on the cards, and the `following` feed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from creators.models import Creator, Follow
from engagement.models import VideoLike
from tests.factories import CreatorFactory, VideoFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/feed/"
FAN = "fan-1"


def _follow_url(creator_id) -> str:
    return f"/api/v1/creators/{creator_id}/follow/"


def _ids(body):
    return [video["id"] for video in body["results"]]


def test_following_twice_counts_once_and_unfollowing_twice_changes_nothing(client_for):
    creator = CreatorFactory()
    video = VideoFactory(creator=creator)
    client = client_for(FAN)

    answers = [client.post(_follow_url(creator.id)) for _ in range(2)]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[1].json() == {
        "id": str(creator.id),
        "handle": creator.handle,
        "display_name": creator.display_name,
        "avatar_url": creator.avatar_url,
        "followers": 1,
    }
    assert Follow.objects.filter(user_id=FAN).count() == 1
    card = client.get(f"/api/v1/videos/{video.id}/").json()
    assert card["creator"]["followers"] == 1
    following = client.get("/api/v1/creators/me/following/").json()
    assert [entry["creator"]["id"] for entry in following["results"]] == [str(creator.id)]
    assert following["next"] is None

    assert [client.delete(_follow_url(creator.id)).status_code for _ in range(2)] == [204, 204]
    assert Creator.objects.get(id=creator.id).followers_count == 0
    assert client.get("/api/v1/creators/me/following/").json()["results"] == []


def test_following_yourself_or_an_unknown_creator_is_refused_with_nothing_written(client_for):
    me = CreatorFactory(user_id=FAN)
    client = client_for(FAN)

    yourself = client.post(_follow_url(me.id))
    unknown = client.post(_follow_url(uuid.uuid4()))
    unknown_unfollow = client.delete(_follow_url(uuid.uuid4()))

    assert (yourself.status_code, yourself.json()["code"]) == (422, "cannot_follow_yourself")
    assert yourself["Content-Type"] == "application/problem+json"
    assert (unknown.status_code, unknown.json()["code"]) == (404, "creator_not_found")
    assert (unknown_unfollow.status_code, unknown_unfollow.json()["code"]) == (
        404,
        "creator_not_found",
    )
    assert Follow.objects.count() == 0
    assert Creator.objects.get(id=me.id).followers_count == 0


def test_follows_need_a_token(api_client):
    creator = CreatorFactory()
    assert api_client.post(_follow_url(creator.id)).status_code == 401
    assert api_client.get("/api/v1/creators/me/following/").status_code == 401
    response = api_client.get(f"{FEED}?mode=following")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_the_following_feed_pages_the_newest_videos_of_followed_creators(client_for):
    now = timezone.now()
    followed, other = CreatorFactory.create_batch(2)
    theirs = [
        VideoFactory(creator=followed, published_at=now - timedelta(hours=index))
        for index in range(5)
    ]
    VideoFactory.create_batch(3, creator=other)
    client = client_for(FAN)
    assert _ids(client.get(f"{FEED}?mode=following").json()) == []
    client.post(_follow_url(followed.id))

    body = client.get(f"{FEED}?mode=following&limit=3").json()
    rest = client.get(body["next"]).json()

    assert _ids(body) + _ids(rest) == [str(video.id) for video in theirs]
    assert rest["next"] is None
    assert body["results"][0]["creator"]["followers"] == 1


def _send(client, *events):
    return client.post(
        "/api/v1/events/",
        {
            "events": [
                {
                    "event_id": str(uuid.uuid4()),
                    "type": kind,
                    "video_id": str(video.id),
                    "occurred_at": at.isoformat(),
                }
                for kind, video, at in events
            ]
        },
        format="json",
    )


def _likes(client, video) -> int:
    return client.get(f"/api/v1/videos/{video.id}/").json()["likes"]


def test_likes_are_counted_once_per_user_and_an_unlike_takes_one_back(client_for):
    now = timezone.now()
    video = VideoFactory()
    fan, other = client_for(FAN), client_for("fan-2")

    answer = _send(fan, ("like", video, now - timedelta(minutes=3)), ("share", video, now))
    assert answer.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    _send(fan, ("like", video, now - timedelta(minutes=2)))  # liked again: still one
    _send(other, ("like", video, now - timedelta(minutes=2)))
    assert _likes(fan, video) == 2

    _send(fan, ("unlike", video, now - timedelta(minutes=1)))
    assert _likes(fan, video) == 1
    # An older like arriving late changes nothing: the unlike came after it.
    _send(fan, ("like", video, now - timedelta(minutes=4)))
    assert _likes(fan, video) == 1
    assert VideoLike.objects.get(user_id=FAN).is_liked is False
    # Shown on the feed's cards too.
    assert fan.get(f"{FEED}?mode=latest").json()["results"][0]["likes"] == 1


def test_a_like_of_an_unknown_video_is_rejected_and_counts_nothing(client_for):
    answer = _send(client_for(FAN), ("like", VideoFactory.build(id=uuid.uuid4()), timezone.now()))
    assert answer.json()["rejected"] == [{"index": 0, "code": "unknown_video"}]
    assert VideoLike.objects.count() == 0


@override_settings(THROTTLE_RATES={"writes.user": "2/min", "writes.ip": "100/min"})
def test_follows_and_not_interested_share_the_write_rate(client_for):
    creators = CreatorFactory.create_batch(2)
    video = VideoFactory()
    client = client_for(FAN)
    assert client.post(_follow_url(creators[0].id)).status_code == 200
    assert client.post(f"/api/v1/videos/{video.id}/not-interested/").status_code == 204

    answer = client.post(_follow_url(creators[1].id))

    assert (answer.status_code, answer.json()["code"]) == (429, "throttled")
    assert Follow.objects.count() == 1
