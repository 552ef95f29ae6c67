"""Video part: the feed against the bare view; engagement events through the API and
by COPY into the same table; the events stored checked against those accepted.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.load import Scenario, bearer, get, run_scenarios
from harness.processes import fetch_json, serving
from harness.setup import (
    BARE_PATH,
    EVENT_COLUMNS,
    VIDEO,
    AnswerError,
    BenchError,
    Request,
    prepare,
    query,
)

# video
FEED_PATH = "/api/v1/feed/?limit=20"
EVENTS_PATH = "/api/v1/events/"
FEED_RATIO_AIM = 0.40
FEED_PAGE = 20
TAGS_PER_VIDEO = 5
EVENTS_PER_BATCH = 500  # engagement.services.MAX_EVENTS_PER_BATCH
EVENTS_TABLE = "engagement_engagementevent"


# What one viewer's app reports, in proportion: mostly impressions and (3 s+) views.
EVENT_MIX = (
    "impression",
    "impression",
    "impression",
    "impression",
    "view",
    "view",
    "view",
    "tag_tap",
    "product_view",
    "add_to_cart",
)


@dataclass(frozen=True)
class FeedVideo:
    id: str
    tags: list[tuple[str, str]]  # (tag id, product id)


def check_feed(port: int, videos: list[FeedVideo]) -> None:
    results = fetch_json(port, FEED_PATH)["results"]
    expected = [video.id for video in videos[:FEED_PAGE]]
    if [video["id"] for video in results] != expected:
        raise BenchError(f"GET {FEED_PATH} listed {len(results)} videos, not the seeded page")
    shown = {len(video["tags"]) for video in results}
    if shown != {TAGS_PER_VIDEO}:
        raise BenchError(
            f"GET {FEED_PATH} showed {sorted(shown)} tags per video, expected "
            f"{TAGS_PER_VIDEO} (a product card missing from the read model?)"
        )


def event_batch(videos: list[FeedVideo], count: int) -> list[dict[str, Any]]:
    """`count` valid events on the seeded published videos, fresh event ids, the last few
    seconds as occurrence times, as the app sends them (JSON-ready). Tag events carry
    their tag and its product, so the row stored is exactly the row sent."""
    now = datetime.now(UTC)
    batch = []
    for i in range(count):
        kind = EVENT_MIX[i % len(EVENT_MIX)]
        video = videos[(i // len(EVENT_MIX)) % len(videos)]
        tag_id, product_id = video.tags[i % len(video.tags)]
        batch.append(
            {
                "event_id": str(uuid.uuid4()),
                "type": kind,
                "video_id": video.id,
                "tag_id": tag_id if kind in ("tag_tap", "product_view") else None,
                "product_id": product_id if kind not in ("impression", "view") else None,
                "occurred_at": (now - timedelta(milliseconds=20 * i)).isoformat(),
                "watch_ms": 3000 + (211 * i) % 27_000 if kind == "view" else None,
            }
        )
    return batch


def post_events(
    videos: list[FeedVideo], authorizations: list[str]
) -> Callable[[int, int], Request]:
    def request_for(client: int, n: int) -> Request:
        body = json.dumps({"events": event_batch(videos, EVENTS_PER_BATCH)}).encode()
        headers = {
            "Authorization": authorizations[client % len(authorizations)],
            "Content-Type": "application/json",
        }
        return "POST", EVENTS_PATH, body, headers

    return request_for


def all_accepted(status: int, content: bytes) -> int:
    """The events an answer accepted; AnswerError unless it is a 202 that took them all."""
    if status != 202:
        raise AnswerError("not 202")
    answer = json.loads(content)
    if answer["accepted"] != EVENTS_PER_BATCH or answer["duplicates"] or answer["rejected"]:
        raise AnswerError(f"{answer['accepted']}/{EVENTS_PER_BATCH} accepted")
    accepted: int = answer["accepted"]
    return accepted


def copy_rows(videos: list[FeedVideo], users: list[str], count: int) -> list[tuple[Any, ...]]:
    """`count` rows for EVENT_COLUMNS, made like the API's batches (same generator, one
    user per batch of EVENTS_PER_BATCH, in turn) and as the API stores them."""
    received_at = datetime.now(UTC).isoformat()
    rows: list[tuple[Any, ...]] = []
    for batch_number in range(math.ceil(count / EVENTS_PER_BATCH)):
        stored = {"user_id": users[batch_number % len(users)], "received_at": received_at}
        for event in event_batch(videos, min(EVENTS_PER_BATCH, count - len(rows))):
            row = event | stored
            rows.append(tuple(row[column] for column in EVENT_COLUMNS))
    return rows


def copy_events(database_url: str, rows: list[tuple[Any, ...]]) -> float:
    """COPY the rows into the events table in one transaction; the seconds it took (COPY
    and commit, on an open connection)."""
    import psycopg

    statement = f"COPY {EVENTS_TABLE} ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def truncate_events(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url) as connection:
        connection.execute(f"TRUNCATE {EVENTS_TABLE}")


def events_stored(database_url: str) -> int:
    [(count,)] = query(database_url, f"SELECT count(*) FROM {EVENTS_TABLE}")
    return int(count)


def run_video(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    try:
        environment, answer = prepare(VIDEO)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        return 2

    videos = [FeedVideo(v["id"], [(t[0], t[1]) for t in v["tags"]]) for v in answer["videos"]]
    database_url = environment[VIDEO.database_variable]
    # One mobile user per client, each with a token minted as the app's provider would.
    users = [f"bench-user-{client}" for client in range(arguments.concurrency)]
    authorizations = [bearer(user, environment["JWT_HS256_SECRET"]) for user in users]
    try:
        with serving(VIDEO, environment) as port:
            check_feed(port, videos)
            truncate_events(database_url)
            scenarios = [
                Scenario("bare DRF", get(BARE_PATH)),
                Scenario("feed", get(FEED_PATH)),
                Scenario(
                    f"events API ({EVENTS_PER_BATCH}/batch)",
                    post_events(videos, authorizations),
                    count_units=all_accepted,
                    unit="events",
                ),
            ]
            outcomes = run_scenarios(port, scenarios, arguments)
        bare, feed, events = outcomes
        stored = events_stored(database_url)
        # The floor: as many rows of the same kind, straight into the same (emptied) table.
        rows = copy_rows(videos, users, events.units)
        truncate_events(database_url)
        copy_seconds = copy_events(database_url, rows)
        copied = events_stored(database_url)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2

    ratio = feed.rate / bare.rate if bare.rate else math.nan
    copy_rate = len(rows) / copy_seconds if copy_seconds else math.nan
    ingest_ratio = events.unit_rate / copy_rate if rows else math.nan
    print()
    print(
        f"feed: {feed.summary()} | bare DRF: {bare.summary()} | "
        f"ratio {ratio:.2f} (aim >= {FEED_RATIO_AIM:.2f})"
    )
    print(
        f"events: API {events.unit_rate:,.0f} events/s ({events.rate:,.1f} batches/s, "
        f"p99 {events.percentile(0.99):.1f} ms) | COPY {copy_rate:,.0f} events/s "
        f"({len(rows):,} rows in {copy_seconds:.2f} s) | ratio API/COPY {ingest_ratio:.2f}"
    )
    # Warm-up included: every batch must have gone in whole, and nothing else.
    failures = sum(outcome.failed_total for outcome in outcomes)
    counters = {"accepted": (stored, events.units_total), "copied": (copied, len(rows))}
    mismatched = {k: v for k, v in counters.items() if v[0] != v[1]}
    print(
        f"failed answers (warm-up included): {failures}; events stored vs sent: "
        + ", ".join(f"{db:,} stored / {ok:,} {k}" for k, (db, ok) in counters.items())
        + f"; took {time.monotonic() - began:.0f} s"
    )
    if failures or mismatched or not rows:
        print("bench: FAILED (see failed answers / counters above)", file=sys.stderr)
        return 1
    return 0
