"""Engagement events from the app: validated one by one, written in one statement, and
rolled up into daily per-video counters."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clipcart_shared.pages import user_signals_bump
from engagement.models import DailyVideoStats, EngagementEvent, VideoLike
from videos.models import ProductTag, Video

MAX_EVENTS_PER_BATCH = 500
VIEW_MIN_WATCH_MS = 3000
MAX_WATCH_MS = 24 * 3600 * 1000
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(minutes=5)
TYPES = frozenset(EngagementEvent.Type.values)

_INSERT = f"""
INSERT INTO {EngagementEvent._meta.db_table}
    (event_id, user_id, type, video_id, tag_id, product_id, occurred_at, watch_ms, received_at)
SELECT event_id, %(user_id)s, type, video_id, tag_id, product_id, occurred_at, watch_ms, now()
FROM unnest(%(event_ids)s::uuid[], %(types)s::text[], %(video_ids)s::uuid[],
            %(tag_ids)s::uuid[], %(product_ids)s::uuid[], %(times)s::timestamptz[],
            %(watch)s::integer[])
    AS batch(event_id, type, video_id, tag_id, product_id, occurred_at, watch_ms)
ON CONFLICT (event_id) DO NOTHING
"""


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _parse(raw: Any, now: datetime) -> tuple[dict[str, Any] | None, str]:
    """One event, checked on its own: (row, "") or (None, the reason's code)."""
    if not isinstance(raw, dict):
        return None, "invalid"
    event_id = _uuid(raw.get("event_id"))
    if event_id is None:
        return None, "invalid_event_id"
    # Any JSON may come: an object or a list is no type (and unhashable).
    if not isinstance(raw.get("type"), str) or raw["type"] not in TYPES:
        return None, "invalid_type"
    video_id = _uuid(raw.get("video_id"))
    if video_id is None:
        return None, "invalid_video_id"
    tag_id, product_id = _uuid(raw.get("tag_id")), _uuid(raw.get("product_id"))
    if (raw.get("tag_id") is not None and tag_id is None) or (
        raw.get("product_id") is not None and product_id is None
    ):
        return None, "invalid_id"
    try:
        occurred_at = (
            parse_datetime(raw["occurred_at"]) if isinstance(raw.get("occurred_at"), str) else None
        )
    except ValueError:  # well formed but no such time, e.g. month 13
        occurred_at = None
    if occurred_at is None or occurred_at.tzinfo is None:
        return None, "invalid_occurred_at"
    if occurred_at < now - MAX_AGE:
        return None, "too_old"
    if occurred_at > now + MAX_AHEAD:
        return None, "in_the_future"
    watch_ms = raw.get("watch_ms")
    if watch_ms is not None and (
        not isinstance(watch_ms, int)
        or isinstance(watch_ms, bool)
        or not 0 <= watch_ms <= MAX_WATCH_MS
    ):
        return None, "invalid_watch_ms"
    if raw["type"] == EngagementEvent.Type.VIEW and (watch_ms or 0) < VIEW_MIN_WATCH_MS:
        return None, "view_too_short"
    return {
        "event_id": event_id,
        "type": raw["type"],
        "video_id": video_id,
        "tag_id": tag_id,
        "product_id": product_id,
        "occurred_at": occurred_at,
        "watch_ms": watch_ms,
    }, ""


def events_ingest(*, user_id: str, events: list[Any]) -> dict[str, Any]:
    """Store a batch of the user's events. Each is judged alone: a bad one is rejected by
    index with a code and the rest go in. An `event_id` seen before (in an earlier batch
    or earlier in this one) counts as a duplicate and adds nothing."""
    now = timezone.now()
    rejected: list[dict[str, Any]] = []
    parsed: list[tuple[int, dict[str, Any]]] = []
    for index, raw in enumerate(events):
        row, code = _parse(raw, now)
        if row is None:
            rejected.append({"index": index, "code": code})
        else:
            parsed.append((index, row))

    videos = set(
        Video.objects.filter(
            id__in={row["video_id"] for _, row in parsed}, status=Video.Status.PUBLISHED
        ).values_list("id", flat=True)
    )
    tags = {
        tag_id: (video_id, product_id)
        for tag_id, video_id, product_id in ProductTag.objects.filter(
            id__in={row["tag_id"] for _, row in parsed if row["tag_id"]}
        ).values_list("id", "video_id", "product_id")
    }
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    duplicates = 0
    for index, row in parsed:
        if row["video_id"] not in videos:
            rejected.append({"index": index, "code": "unknown_video"})
            continue
        if row["tag_id"] is not None:
            if tags.get(row["tag_id"], (None,))[0] != row["video_id"]:
                rejected.append({"index": index, "code": "unknown_tag"})
                continue
            row["product_id"] = row["product_id"] or tags[row["tag_id"]][1]
        if row["event_id"] in rows:
            duplicates += 1
            continue
        rows[row["event_id"]] = row
    with transaction.atomic():
        inserted = _insert(user_id=user_id, rows=list(rows.values()))
        likes_apply(user_id=user_id, rows=[row for row in rows.values() if row["type"] in LIKES])
        if inserted:
            user_signals_bump(user_ids=[user_id])  # what was ranked for them is stale
    rejected.sort(key=lambda rejection: rejection["index"])
    return {
        "accepted": inserted,
        "duplicates": duplicates + len(rows) - inserted,
        "rejected": rejected,
    }


def _insert(*, user_id: str, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    columns = {
        "event_ids": "event_id",
        "types": "type",
        "video_ids": "video_id",
        "tag_ids": "tag_id",
        "product_ids": "product_id",
        "times": "occurred_at",
        "watch": "watch_ms",
    }
    params: dict[str, Any] = {name: [row[key] for row in rows] for name, key in columns.items()}
    params["user_id"] = user_id
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, params)
        return int(cursor.rowcount)


LIKES = frozenset({EngagementEvent.Type.LIKE, EngagementEvent.Type.UNLIKE})

# Each video's latest like or unlike in the batch becomes the user's state for it unless a
# later one is already known; the videos' counters move by what changed, in one statement.
_LIKES_APPLY = f"""
WITH batch AS (
    SELECT DISTINCT ON (video_id) video_id, type = 'like' AS is_liked, occurred_at
    FROM unnest(%(video_ids)s::uuid[], %(types)s::text[], %(times)s::timestamptz[])
        AS batch(video_id, type, occurred_at)
    ORDER BY video_id, occurred_at DESC, type DESC
),
before AS (
    SELECT video_id, is_liked FROM {VideoLike._meta.db_table}
    WHERE user_id = %(user_id)s AND video_id IN (SELECT video_id FROM batch)
),
changed AS (
    INSERT INTO {VideoLike._meta.db_table} AS state (user_id, video_id, is_liked, changed_at)
    SELECT %(user_id)s, video_id, is_liked, occurred_at FROM batch
    ON CONFLICT (user_id, video_id) DO UPDATE
        SET is_liked = EXCLUDED.is_liked, changed_at = EXCLUDED.changed_at
        WHERE state.changed_at < EXCLUDED.changed_at
    RETURNING video_id, is_liked
)
UPDATE {Video._meta.db_table} video
SET likes_count = greatest(0, video.likes_count + delta.change)
FROM (
    SELECT changed.video_id,
        changed.is_liked::int - coalesce(before.is_liked, false)::int AS change
    FROM changed LEFT JOIN before USING (video_id)
) delta
WHERE video.id = delta.video_id AND delta.change <> 0
"""


def likes_apply(*, user_id: str, rows: list[dict[str, Any]]) -> None:
    """Take in the user's like and unlike events: whether they like each video now (the
    latest event wins, whatever order they arrive in) and the videos' like counters. Run
    inside the ingesting transaction; one user's batches are applied one at a time, so a
    counter never counts one user twice."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"likes:{user_id}"])
        cursor.execute(
            _LIKES_APPLY,
            {
                "user_id": user_id,
                "video_ids": [row["video_id"] for row in rows],
                "types": [str(row["type"]) for row in rows],
                "times": [row["occurred_at"] for row in rows],
            },
        )


_ROLL_UP = f"""
INSERT INTO {DailyVideoStats._meta.db_table}
    (video_id, day, impressions, views, tag_taps, product_views, add_to_carts,
     unique_viewers, updated_at)
SELECT video_id, (occurred_at AT TIME ZONE 'UTC')::date,
       count(*) FILTER (WHERE type = 'impression'),
       count(*) FILTER (WHERE type = 'view'),
       count(*) FILTER (WHERE type = 'tag_tap'),
       count(*) FILTER (WHERE type = 'product_view'),
       count(*) FILTER (WHERE type = 'add_to_cart'),
       count(DISTINCT user_id) FILTER (WHERE type = 'view'),
       now()
FROM {EngagementEvent._meta.db_table}
WHERE occurred_at >= %(since)s
GROUP BY 1, 2
ON CONFLICT (video_id, day) DO UPDATE SET
    impressions = EXCLUDED.impressions, views = EXCLUDED.views,
    tag_taps = EXCLUDED.tag_taps, product_views = EXCLUDED.product_views,
    add_to_carts = EXCLUDED.add_to_carts, unique_viewers = EXCLUDED.unique_viewers,
    updated_at = now()
"""


def stats_roll_up(*, days: int = 8) -> int:
    """Recount the last `days` UTC days (events may arrive up to 7 days late). Idempotent:
    counts are recomputed, not incremented. Returns the number of (video, day) rows."""
    since = (timezone.now() - timedelta(days=days - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    with connection.cursor() as cursor:
        cursor.execute(_ROLL_UP, {"since": since})
        return int(cursor.rowcount)
