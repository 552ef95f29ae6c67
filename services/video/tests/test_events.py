from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from engagement.models import DailyVideoStats, EngagementEvent
from engagement.services import stats_roll_up
from tests.factories import ProductTagFactory, VideoFactory
from videos.models import Video

pytestmark = pytest.mark.django_db


def _event(video, type="impression", **fields):
    return {
        "event_id": str(uuid.uuid4()),
        "type": type,
        "video_id": str(video.id),
        "occurred_at": timezone.now().isoformat(),
        **fields,
    }


def _send(client, events):
    return client.post("/api/v1/events/", {"events": events}, format="json")


def test_a_batch_is_stored_and_a_replay_adds_nothing(client_for):
    video = VideoFactory()
    tag = ProductTagFactory(video=video)
    events = [
        _event(video),
        _event(video, "view", watch_ms=4000),
        _event(video, "tag_tap", tag_id=str(tag.id)),
    ]
    first = _send(client_for("u1"), events)
    assert first.status_code == 202
    assert first.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    replay = _send(client_for("u1"), events)
    assert replay.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    assert EngagementEvent.objects.count() == 3
    tap = EngagementEvent.objects.get(type="tag_tap")
    assert (tap.user_id, tap.product_id) == ("u1", tag.product_id)  # filled from the tag


def test_each_bad_event_is_rejected_by_index_and_the_rest_accepted(client_for):
    video = VideoFactory()
    draft = VideoFactory(status=Video.Status.DRAFT, published_at=None)
    other_tag = ProductTagFactory()
    now = timezone.now()
    duplicate = _event(video)
    events = [
        _event(video),  # 0 ok
        _event(video, video_id=str(uuid.uuid4())),  # 1 unknown video
        _event(draft),  # 2 a draft is not in any feed
        _event(video, occurred_at=(now - timedelta(days=7, minutes=1)).isoformat()),  # 3
        _event(video, occurred_at=(now + timedelta(minutes=6)).isoformat()),  # 4
        _event(video, "view", watch_ms=2999),  # 5
        _event(video, "purchase"),  # 6
        _event(video, event_id="not-a-uuid"),  # 7
        _event(video, occurred_at="yesterday"),  # 8
        _event(video, tag_id=str(other_tag.id)),  # 9 a tag of another video
        "not an object",  # 10
        _event(video, watch_ms=-5),  # 11
        duplicate,  # 12 ok
        duplicate,  # 13 the same event twice in one batch
    ]
    body = _send(client_for("u1"), events).json()
    assert body["accepted"] == 2
    assert body["duplicates"] == 1
    assert body["rejected"] == [
        {"index": 1, "code": "unknown_video"},
        {"index": 2, "code": "unknown_video"},
        {"index": 3, "code": "too_old"},
        {"index": 4, "code": "in_the_future"},
        {"index": 5, "code": "view_too_short"},
        {"index": 6, "code": "invalid_type"},
        {"index": 7, "code": "invalid_event_id"},
        {"index": 8, "code": "invalid_occurred_at"},
        {"index": 9, "code": "unknown_tag"},
        {"index": 10, "code": "invalid"},
        {"index": 11, "code": "invalid_watch_ms"},
    ]
    assert EngagementEvent.objects.count() == 2


def test_events_on_videos_taken_down_or_never_published_are_rejected_by_index(client_for):
    # Issue 12: no touch (and so no credit) on a video nobody can see.
    video = VideoFactory()
    removed = VideoFactory(status=Video.Status.REMOVED)
    draft = VideoFactory(status=Video.Status.DRAFT, published_at=None)
    removed_tag = ProductTagFactory(video=removed)
    events = [
        _event(removed),
        _event(video),
        _event(removed, "tag_tap", tag_id=str(removed_tag.id)),
        _event(draft, "view", watch_ms=4000),
    ]

    body = _send(client_for("u1"), events).json()

    assert body["accepted"] == 1
    assert body["rejected"] == [
        {"index": 0, "code": "unknown_video"},
        {"index": 2, "code": "unknown_video"},
        {"index": 3, "code": "unknown_video"},
    ]
    assert list(EngagementEvent.objects.values_list("video_id", flat=True)) == [video.id]


def test_a_type_or_time_of_the_wrong_json_kind_is_rejected_not_a_server_error(client_for):
    # Found by the contract tests (schemathesis): an object as `type` was a 500.
    video = VideoFactory()
    events = [
        _event(video, type={}),
        _event(video, type=["view"]),
        _event(video, type=7),
        _event(video, occurred_at="2026-13-45T00:00:00Z"),
        _event(video, occurred_at={"at": "now"}),
    ]
    response = _send(client_for("u1"), events)
    assert response.status_code == 202
    assert response.json() == {
        "accepted": 0,
        "duplicates": 0,
        "rejected": [
            {"index": 0, "code": "invalid_type"},
            {"index": 1, "code": "invalid_type"},
            {"index": 2, "code": "invalid_type"},
            {"index": 3, "code": "invalid_occurred_at"},
            {"index": 4, "code": "invalid_occurred_at"},
        ],
    }
    assert EngagementEvent.objects.count() == 0


def test_501_events_are_413_and_nothing_is_written(client_for):
    video = VideoFactory()
    response = _send(client_for("u1"), [_event(video) for _ in range(501)])
    assert (response.status_code, response.json()["code"]) == (413, "too_many_events")
    assert EngagementEvent.objects.count() == 0
    assert _send(client_for("u1"), [_event(video) for _ in range(500)]).json()["accepted"] == 500


def test_events_need_a_user_and_a_list(client_for, api_client):
    assert _send(api_client, []).status_code == 401
    response = client_for("u1").post("/api/v1/events/", {"events": "nope"}, format="json")
    assert response.status_code == 400


def test_daily_counters_roll_up_and_recount_idempotently(client_for):
    video = VideoFactory()
    for user in ("u1", "u2"):
        _send(
            client_for(user),
            [_event(video), _event(video, "view", watch_ms=5000), _event(video, "add_to_cart")],
        )
    _send(client_for("u1"), [_event(video, "view", watch_ms=3000)])

    assert stats_roll_up() == 1
    assert stats_roll_up() == 1
    stats = DailyVideoStats.objects.get(video_id=video.id)
    assert (stats.impressions, stats.views, stats.add_to_carts, stats.unique_viewers) == (
        2,
        3,
        2,
        2,
    )
