"""Engagement events from the app: each judged alone, but the whole batch checked and
written in one statement (`batch_sql`), and rolled up into daily per-video counters."""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from clipcart_shared.pages import user_signals_bump
from engagement import batch_sql
from engagement.models import DailyVideoStats, EngagementEvent, VideoLike
from videos.models import Video

MAX_EVENTS_PER_BATCH = 500
VIEW_MIN_WATCH_MS = 3000
MAX_WATCH_MS = 24 * 3600 * 1000
MAX_AGE = timedelta(days=7)
MAX_AHEAD = timedelta(minutes=5)
TYPES = frozenset(EngagementEvent.Type.values)


_NOT_FOR_JSONB = re.compile(rb"\\u(0000|d[89a-f])", re.IGNORECASE)


def batch_json(*, body: bytes | None, events: list[Any]) -> str:
    """The batch for PostgreSQL as a JSON object with `events`: the request's own body
    when PostgreSQL reads it as the parser did (no second encoding), else `events` made
    fit. `jsonb` holds no NUL and no lone surrogate, and the parser may have read a
    number too large as infinity: those are replaced (a string stays a string, a number
    becomes a string), so that field is judged as any bad one and the batch never fails."""
    if body is not None and not _NOT_FOR_JSONB.search(body):
        try:
            return body.decode()
        except UnicodeDecodeError:  # another charset, which the parser was told
            pass
    return json.dumps({"events": _fit(events)}, allow_nan=False)


def _fit(value: Any) -> Any:
    if isinstance(value, str):
        return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_fit(item) for item in value]
    if isinstance(value, dict):
        return {_fit(key): _fit(item) for key, item in value.items()}
    return value


def events_ingest(*, user_id: str, events: list[Any], body: bytes | None = None) -> dict[str, Any]:
    """Store a batch of the user's events. Each is judged alone: a bad one is rejected by
    index with a code and the rest go in. An `event_id` seen before (in an earlier batch
    or earlier in this one) counts as a duplicate and adds nothing. `body`, when given, is
    the request's JSON body that `events` was parsed from (sent as is). One statement
    (`batch_sql.BATCH`) whatever the batch's size; two more when it holds likes."""
    now = timezone.now()
    params: dict[str, Any] = {
        "batch": batch_json(body=body, events=events),
        "types": sorted(TYPES),
        "time_tails": batch_sql.TIME_TAILS,
        "oldest": now - MAX_AGE,
        "latest": now + MAX_AHEAD,
        "max_watch": MAX_WATCH_MS,
        "min_view": VIEW_MIN_WATCH_MS,
        "published": Video.Status.PUBLISHED,
        "user_id": user_id,
    }
    with connection.cursor() as cursor:  # one statement: atomic on its own
        cursor.execute(batch_sql.BATCH, params)
        inserted, valid, rejected, like_videos, like_types, like_times = cursor.fetchone()
    if like_videos:
        # The batch's valid likes, stored now or before (a replay applies them again: the
        # latest event wins, so applying twice changes nothing).
        with transaction.atomic():
            likes_apply(user_id=user_id, video_ids=like_videos, types=like_types, times=like_times)
    if inserted:
        # What was ranked for them is stale: one bump, after the commit (ADR 34).
        user_signals_bump(user_ids=[user_id])
    if isinstance(rejected, str):
        rejected = json.loads(rejected)
    return {"accepted": inserted, "duplicates": valid - inserted, "rejected": rejected}


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


def likes_apply(
    *, user_id: str, video_ids: list[uuid.UUID], types: list[str], times: list[datetime]
) -> None:
    """Take in the user's like and unlike events: whether they like each video now (the
    latest event wins, whatever order they arrive in) and the videos' like counters. Run
    inside the ingesting transaction; one user's batches are applied one at a time, so a
    counter never counts one user twice."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"likes:{user_id}"])
        cursor.execute(
            _LIKES_APPLY,
            {
                "user_id": user_id,
                "video_ids": video_ids,
                "types": types,
                "times": times,
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
