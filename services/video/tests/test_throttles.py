"""Engagement events, search and creator/video/tag writes are throttled per user and per
address (clipcart_shared.throttling): past the rate, 429 problem+json with Retry-After."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from engagement.models import EngagementEvent
from tests.factories import VideoFactory

pytestmark = pytest.mark.django_db


def _assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


@override_settings(THROTTLE_RATES={"events.user": "2/min", "events.ip": "100/min"})
def test_a_burst_of_event_batches_is_throttled_and_the_throttled_one_is_not_stored(client_for):
    video = VideoFactory()
    client = client_for("chatty")

    def send():
        event = {
            "event_id": str(uuid.uuid4()),
            "type": "impression",
            "video_id": str(video.id),
            "occurred_at": timezone.now().isoformat(),
        }
        return client.post("/api/v1/events/", {"events": [event]}, format="json")

    answers = [send() for _ in range(3)]

    assert [answer.status_code for answer in answers[:2]] == [202, 202]
    _assert_throttled(answers[2])
    assert EngagementEvent.objects.count() == 2


@override_settings(THROTTLE_RATES={"search.user": "100/min", "search.ip": "3/min"})
def test_anonymous_searches_from_one_address_are_throttled(api_client):
    answers = [api_client.get("/api/v1/search/", {"q": "trail"}) for _ in range(4)]

    assert [answer.status_code for answer in answers[:3]] == [200, 200, 200]
    _assert_throttled(answers[3])


@override_settings(THROTTLE_RATES={"writes.user": "2/min", "writes.ip": "100/min"})
def test_creator_and_video_writes_share_one_rate_and_reads_are_free(client_for):
    client = client_for("prolific")
    creator = client.post(
        "/api/v1/creators/", {"handle": "prolific", "display_name": "Prolific"}, format="json"
    )
    video = client.post(
        "/api/v1/videos/",
        {
            "stream_url": "https://cdn.example.com/v.m3u8",
            "thumbnail_url": "https://cdn.example.com/v.jpg",
            "caption": "one",
            "duration_ms": 1000,
        },
        format="json",
    )
    assert (creator.status_code, video.status_code) == (201, 201), video.json()
    video_id = video.json()["id"]

    _assert_throttled(
        client.patch(f"/api/v1/videos/{video_id}/", {"caption": "two"}, format="json")
    )
    assert client.get(f"/api/v1/videos/{video_id}/").status_code == 200
    assert client.get("/api/v1/creators/me/").status_code == 200
