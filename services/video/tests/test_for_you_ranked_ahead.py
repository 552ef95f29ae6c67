""" "For you" ranked ahead (discovery.models.ForYouRanking): a first page reads the user's
kept ranking while nothing they did changed it, and ranks again once something did."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attribution.services import order_paid_apply
from creators.services import follow_create
from discovery.models import ForYouRanking
from discovery.services import for_you_rankings_refresh, not_interested_record, trending_recompute
from tests.factories import (
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_paid,
    paid_line,
)

pytestmark = pytest.mark.django_db

FOR_YOU = "/api/v1/feed/?mode=for_you&limit=5"


def _first_page(client) -> tuple[int, list[str], str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(FOR_YOU)
    assert response.status_code == 200
    body = response.json()
    return len(captured), [video["id"] for video in body["results"]], body["next"]


@pytest.fixture
def videos():
    now = timezone.now()
    made = [VideoFactory(published_at=now - timedelta(hours=index)) for index in range(12)]
    trending_recompute()
    return made


def test_a_second_first_page_reads_the_kept_ranking_in_one_statement(client_for, videos):
    alice = client_for("alice")
    ranked_count, ranked, ranked_next = _first_page(alice)

    kept_count, kept, kept_next = _first_page(alice)

    assert (ranked_count, kept_count) == (5, 0)  # then the stored page
    assert kept == ranked and kept_next == ranked_next  # the same order, the same cursor
    assert alice.get(kept_next).status_code == 200


def test_once_the_stored_page_expired_a_first_page_reads_the_kept_ranking(
    client_for, videos, settings, monkeypatch
):
    alice = client_for("alice")
    _, ranked, _ = _first_page(alice)
    later = time.time() + settings.FEED_MAX_STALENESS_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)

    count, kept, _ = _first_page(alice)

    assert (count, kept) == (1, ranked)


def _events_post(client, video) -> None:
    event = {
        "event_id": str(uuid.uuid4()),
        "type": "view",
        "video_id": str(video.id),
        "occurred_at": timezone.now().isoformat(),
        "watch_ms": 8000,
    }
    response = client.post("/api/v1/events/", {"events": [event]}, format="json")
    assert response.status_code == 202 and response.json()["accepted"] == 1


def test_anything_the_user_does_makes_the_next_first_page_rank_again(client_for, videos):
    alice = client_for("alice")
    signals = [
        lambda: _events_post(alice, videos[3]),
        lambda: not_interested_record(user_id="alice", video_id=videos[4].id),
        lambda: follow_create(user_id="alice", creator_id=videos[5].creator_id),
        lambda: order_paid_apply(
            order_paid("alice", [paid_line(ProductTagFactory(video=videos[6]))], timezone.now())
        ),
    ]
    _first_page(alice)
    counts = []
    for signal in signals:
        signal()
        counts.append(_first_page(alice)[0])
        counts.append(_first_page(alice)[0])  # then kept again

    assert counts == [5, 0] * len(signals)


def test_a_lost_signals_version_ranks_again(client_for, videos):
    alice = client_for("alice")
    _first_page(alice)
    caches["pages"].clear()  # an evicted or restarted cache
    assert _first_page(alice)[0] == 5


def test_a_kept_ranking_older_than_the_bound_is_ranked_again(
    client_for, videos, settings, monkeypatch
):
    alice = client_for("alice")
    _first_page(alice)
    settings.FOR_YOU_RANKING_MAX_AGE_SECONDS = 60
    ForYouRanking.objects.update(ranked_at=timezone.now() - timedelta(seconds=61))
    later = time.time() + settings.FEED_MAX_STALENESS_SECONDS + 1  # the stored page too
    monkeypatch.setattr(time, "time", lambda: later)
    assert _first_page(alice)[0] == 5


def test_interleaved_users_each_get_their_own_kept_ranking(client_for, videos):
    alice, bob = client_for("alice"), client_for("bob")
    not_interested_record(user_id="alice", video_id=videos[0].id)
    not_interested_record(user_id="bob", video_id=videos[1].id)

    pages = [
        (_first_page(client)[1], name)
        for _ in range(2)
        for name, client in (("alice", alice), ("bob", bob))
    ]

    for ids, name in pages:
        assert str(videos[0 if name == "alice" else 1].id) not in ids
    alice_pages = [ids for ids, name in pages if name == "alice"]
    bob_pages = [ids for ids, name in pages if name == "bob"]
    assert alice_pages[0] == alice_pages[1] and bob_pages[0] == bob_pages[1]
    assert str(videos[1].id) in alice_pages[0] and str(videos[0].id) in bob_pages[0]
    cursor_of_bob = _first_page(bob)[2]
    assert alice.get(cursor_of_bob).status_code == 400  # a cursor is its user's


def test_the_worker_ranks_active_users_ahead(client_for, videos):
    engagement_event("alice", videos[2], "view", timezone.now() - timedelta(minutes=1))
    engagement_event("idle", videos[2], "view", timezone.now() - timedelta(days=1))

    assert for_you_rankings_refresh(first_page=5) == 1
    assert for_you_rankings_refresh(first_page=5) == 0  # still kept: nothing to do
    assert list(ForYouRanking.objects.values_list("user_id", flat=True)) == ["alice"]
    count, ids, _ = _first_page(client_for("alice"))

    assert count == 1 and len(ids) == 5  # the kept ranking's page, rendered once
