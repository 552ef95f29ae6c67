"""An events batch is judged and stored by one statement whatever its size (issue 18):
the query counts, the checks done in SQL on inputs meant to break a cast, and
idempotency by event id across batches."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagement.models import EngagementEvent
from tests.factories import ProductTagFactory, VideoFactory

pytestmark = pytest.mark.django_db


def _event(video, type="impression", **fields):
    return {
        "event_id": str(uuid.uuid4()),
        "type": type,
        "video_id": str(video.id),
        "occurred_at": timezone.now().isoformat(),
        **fields,
    }


def _counted(client, events):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/events/", {"events": events}, format="json")
    return len(queries), response


def test_a_batch_of_1_and_one_of_100_are_the_same_single_statement(client_for):
    video = VideoFactory()
    tag = ProductTagFactory(video=video)
    client = client_for("u1")
    mix = [
        _event(video),
        _event(video, "view", watch_ms=4000),
        _event(video, "tag_tap", tag_id=str(tag.id)),
        _event(video, "product_view", product_id=str(tag.product_id)),
    ]

    one_count, one = _counted(client, [_event(video)])
    batch = [dict(event, event_id=str(uuid.uuid4())) for event in mix * 25]
    hundred_count, hundred = _counted(client, batch)

    assert (one.json()["accepted"], hundred.json()["accepted"]) == (1, 100)
    assert one_count == hundred_count == 1
    assert EngagementEvent.objects.count() == 101


def test_likes_add_two_statements_whatever_their_number(client_for):
    videos = [VideoFactory() for _ in range(3)]
    client = client_for("u1")
    one_count, _ = _counted(client, [_event(videos[0], "like")])
    many_count, _ = _counted(client, [_event(video, "like") for video in videos * 10])
    # The batch, then in a transaction (here a savepoint and its release) the user's lock
    # and the likes applied.
    assert one_count == many_count == 5
    for video in videos:
        video.refresh_from_db()
        assert video.likes_count == 1


def test_replays_across_and_within_batches_are_counted_once(client_for):
    video = VideoFactory()
    client = client_for("u1")
    first = [_event(video) for _ in range(3)]
    again = [first[1], _event(video), first[1], first[2]]

    assert client.post("/api/v1/events/", {"events": first}, format="json").json() == {
        "accepted": 3,
        "duplicates": 0,
        "rejected": [],
    }
    assert client.post("/api/v1/events/", {"events": again}, format="json").json() == {
        "accepted": 1,
        "duplicates": 3,
        "rejected": [],
    }
    assert EngagementEvent.objects.count() == 4
    # Another user replaying someone's event id stores nothing either.
    other = client_for("u2").post("/api/v1/events/", {"events": [first[0]]}, format="json")
    assert other.json()["duplicates"] == 1
    assert EngagementEvent.objects.filter(user_id="u2").count() == 0


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"event_id": "{" + "a" * 31 + "}"}, "invalid_event_id"),
        ({"event_id": "g" * 32}, "invalid_event_id"),
        ({"event_id": 12}, "invalid_event_id"),
        ({"event_id": None}, "invalid_event_id"),
        ({"video_id": "'; DROP TABLE engagement_engagementevent; --"}, "invalid_video_id"),
        ({"tag_id": "nope"}, "invalid_id"),
        ({"product_id": 5}, "invalid_id"),
        ({"type": "view", "watch_ms": 4000.5}, "invalid_watch_ms"),
        ({"watch_ms": True}, "invalid_watch_ms"),
        ({"watch_ms": 10**12}, "invalid_watch_ms"),
        ({"watch_ms": "4000"}, "invalid_watch_ms"),
        ({"occurred_at": "2026-02-30T10:00:00Z"}, "invalid_occurred_at"),
        ({"occurred_at": "2026-12-04T24:00:00Z"}, "invalid_occurred_at"),
        ({"occurred_at": "2026-12-04T10:00:60Z"}, "invalid_occurred_at"),
        ({"occurred_at": "2026-12-04T10:00:00+25:00"}, "invalid_occurred_at"),
        ({"occurred_at": "2026-12-04T10:00:00"}, "invalid_occurred_at"),  # no offset
        ({"occurred_at": "now"}, "invalid_occurred_at"),
        ({"occurred_at": "0000-01-01T00:00:00Z"}, "invalid_occurred_at"),
        ({"occurred_at": "\u0000"}, "invalid_occurred_at"),
        ({"type": "view\u0000"}, "invalid_type"),
    ],
)
def test_a_field_meant_to_break_a_cast_is_rejected_by_index(client_for, fields, code):
    video = VideoFactory()
    events = [_event(video), _event(video, **fields)]
    response = client_for("u1").post("/api/v1/events/", {"events": events}, format="json")
    assert response.status_code == 202
    rejected = [{"index": 1, "code": code}]
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": rejected}


def test_times_with_an_offset_are_stored_as_that_instant(client_for):
    video = VideoFactory()
    now = timezone.now().replace(microsecond=250000)
    local = now.astimezone(timezone.get_fixed_timezone(-150))  # UTC-02:30
    events = [
        _event(video, occurred_at=local.isoformat()),
        _event(video, occurred_at=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
        _event(video, occurred_at=(now - timedelta(days=6)).strftime("%Y-%m-%dT%H:%M%z")),
    ]
    body = client_for("u1").post("/api/v1/events/", {"events": events}, format="json").json()
    assert body["accepted"] == 3
    stored = sorted(EngagementEvent.objects.values_list("occurred_at", flat=True))
    assert stored == [
        (now - timedelta(days=6)).replace(second=0, microsecond=0),
        now,
        now,
    ]


def test_extra_fields_and_a_nul_in_one_are_ignored(client_for):
    video = VideoFactory()
    event = _event(video, note="a\u0000b", nested={"deep": [1, {"x": "\u0000"}]})
    body = client_for("u1").post("/api/v1/events/", {"events": [event]}, format="json").json()
    assert body == {"accepted": 1, "duplicates": 0, "rejected": []}


@pytest.mark.parametrize("body", [{"events": {"a": 1}}, {"events": None}, {}, [1, 2]])
def test_a_body_that_is_no_list_of_events_is_a_400_problem(client_for, body):
    response = client_for("u1").post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert EngagementEvent.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"events": [{"event_id": "\\ud800", "type": "impression"}, EVENT]}',
        b'{"events": [{"type": "view", "watch_ms": 1e400}, EVENT]}',
        b'{"events": [{"type": "\\u0000"}, EVENT]}',
    ],
)
def test_what_jsonb_cannot_hold_is_judged_by_index_not_a_server_error(client_for, raw):
    video = VideoFactory()
    good = json.dumps(_event(video)).encode()
    response = client_for("u1").post(
        "/api/v1/events/", raw.replace(b"EVENT", good), content_type="application/json"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1 and [r["index"] for r in body["rejected"]] == [0]
