"""Pages of ranked feed snapshots (trending, a user's "for you", their kept ranking): one
statement a page, the videos as API.md's JSON."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from discovery.models import FeedSnapshot, ForYouRanking, NotInterested
from videos.models import Video
from videos.selectors import VIDEO_JSON, videos_json_sql

_VIDEO = Video._meta.db_table


@dataclass(frozen=True)
class SnapshotPage:
    snapshot_id: uuid.UUID
    size: int  # videos in the whole snapshot
    videos_json: str  # the page's videos, API.md's objects joined by commas


_SNAPSHOT_WHERE = {
    "latest_trending": "mode = 'trending' ORDER BY created_at DESC LIMIT 1",
    "trending": "id = %(snapshot_id)s AND mode = 'trending'",
    "for_you": "id = %(snapshot_id)s AND mode = 'for_you' AND user_id = %(user_id)s",
    # The user's kept ranking, if ranked at their current signals version for this first
    # page and recently enough (ForYouRanking).
    "for_you_kept": f"""id = (
        SELECT snapshot_id FROM {ForYouRanking._meta.db_table}
        WHERE user_id = %(user_id)s AND first_page = %(first_page)s
            AND signals_version = %(signals_version)s AND ranked_at > %(ranked_after)s)
        AND mode = 'for_you' AND user_id = %(user_id)s""",
}


def _snapshot_page_sql(where: str) -> str:
    page = videos_json_sql(
        f"v.position, {VIDEO_JSON}::text AS json",
        f"""SELECT video.*, slot.position
        FROM snapshot,
            unnest(snapshot.video_ids[%(start)s:%(stop)s]) WITH ORDINALITY AS slot(id, position)
        JOIN {_VIDEO} video ON video.id = slot.id AND video.status = 'published'
        -- Said "not interested" to since the snapshot was ranked: not shown either.
        WHERE NOT EXISTS (
            SELECT 1 FROM {NotInterested._meta.db_table} said
            WHERE said.user_id = %(user_id)s AND said.video_id = slot.id)""",
    )
    return f"""
WITH snapshot AS (SELECT id, video_ids FROM {FeedSnapshot._meta.db_table} WHERE {where})
SELECT snapshot.id, cardinality(snapshot.video_ids),
    coalesce((SELECT string_agg(page.json, ',' ORDER BY page.position) FROM ({page}) page), '')
FROM snapshot"""


_SNAPSHOT_PAGE_SQL = {name: _snapshot_page_sql(where) for name, where in _SNAPSHOT_WHERE.items()}


def snapshot_page(
    *,
    which: str,
    offset: int,
    limit: int,
    snapshot_id: uuid.UUID | None = None,
    user_id: str | None = None,
    kept: tuple[int, str, datetime] | None = None,
) -> SnapshotPage | None:
    """Videos `offset` to `offset + limit` of a snapshot (`which`: the latest trending one,
    a given trending or for-you one, the latter only for its own user, or `for_you_kept`,
    the user's kept ranking if it matches `kept`: (first page, signals version, ranked
    after)); None when there is no such snapshot. Removed videos are skipped, so a page
    may come out shorter."""
    first_page, signals_version, ranked_after = kept or (None, None, None)
    with connection.cursor() as cursor:
        cursor.execute(
            _SNAPSHOT_PAGE_SQL[which],
            {
                "snapshot_id": snapshot_id,
                "user_id": user_id,
                "start": offset + 1,  # PostgreSQL's arrays count from 1, slices inclusive
                "stop": offset + limit,
                "first_page": first_page,
                "signals_version": signals_version,
                "ranked_after": ranked_after,
            },
        )
        row = cursor.fetchone()
    return None if row is None else SnapshotPage(*row)
