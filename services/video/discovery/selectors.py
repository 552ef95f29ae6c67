"""Reads of discovery: the chronological feeds (everyone's, a hashtag's, the followed
creators'), the "for you" ranking, pages of ranked feed snapshots, and search.

Each page is one statement whatever its size: the videos come out as API.md's JSON from
`videos.selectors.videos_json_sql`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError

from creators.models import Creator, Follow
from discovery.models import (
    FeedSnapshot,
    ForYouRanking,
    NotInterested,
    SearchDocument,
    SearchTerm,
    VideoHashtag,
    VideoTrend,
)
from discovery.ranking import EVENT_WEIGHT_SQL, for_you_video_ids
from discovery.text import lexeme_quoted, trigrams
from productcards.models import ProductCard, ProductSocialProof
from videos.models import ProductTag, Video
from videos.selectors import (
    PRODUCT_CARD_FIELDS,
    VIDEO_JSON,
    creator_json,
    rfc3339,
    videos_json_sql,
)

__all__ = ["EVENT_WEIGHT_SQL", "for_you_video_ids"]  # ranked in discovery.ranking

_VIDEO = Video._meta.db_table
_TAG = ProductTag._meta.db_table
_CARD = ProductCard._meta.db_table
_TREND = VideoTrend._meta.db_table

# --- the chronological feeds --------------------------------------------------------------


def _feed_sql(order: str, compare: str | None, *, has_hashtag: bool, is_following: bool) -> str:
    """A page of the feed as DRF's cursor pagination asks for it: by (published_at, id),
    newest first (DESC) or, for a reversed cursor, oldest first (ASC); with a cursor, only
    videos published before (<) or after (>) its position; optionally only the videos
    with a hashtag, or only those of the creators a user follows (less the ones they said
    "not interested" to)."""
    after = "" if compare is None else f" AND published_at {compare} %(position)s"
    if has_hashtag:
        after += (
            f" AND id IN (SELECT video_id FROM {VideoHashtag._meta.db_table}"
            " WHERE tag = %(hashtag)s)"
        )
    if is_following:
        after += (
            f" AND creator_id IN (SELECT creator_id FROM {Follow._meta.db_table}"
            " WHERE user_id = %(user_id)s)"
            f" AND id NOT IN (SELECT video_id FROM {NotInterested._meta.db_table}"
            " WHERE user_id = %(user_id)s)"
        )
    return videos_json_sql(
        f"{rfc3339('v.published_at')}, {VIDEO_JSON}::text",
        f"""SELECT * FROM {Video._meta.db_table}
    WHERE status = 'published'{after}
    ORDER BY published_at {order}, id {order}
    OFFSET %(offset)s LIMIT %(limit)s""",
        f"ORDER BY v.published_at {order}, v.id {order}",
    )


_FEED_SQL = {
    (order, compare, has_hashtag, is_following): _feed_sql(
        order, compare, has_hashtag=has_hashtag, is_following=is_following
    )
    for order in ("DESC", "ASC")
    for compare in (None, "<", ">")
    for has_hashtag in (False, True)
    for is_following in (False, True)
}


class FeedVideo(NamedTuple):
    published_at: str  # as in `json`: the cursor position
    json: str  # API.md's video object, as PostgreSQL wrote it


class FeedVideos:
    """Published videos (all, or those with a hashtag), newest first, for DRF's
    `CursorPagination` ordered by `ORDERING`. That calls `order_by` (the ordering or its
    reverse), `filter` (`published_at` before or after the cursor's position) and slices:
    the slice runs one statement."""

    ORDERING = ("-published_at", "-id")
    _REVERSED = ("published_at", "id")
    _COMPARE = {"published_at__lt": "<", "published_at__gt": ">"}

    def __init__(
        self,
        order: str = "DESC",
        compare: str | None = None,
        position: datetime | None = None,
        hashtag: str | None = None,
        followed_by: str | None = None,
    ) -> None:
        self._order, self._compare, self._position = order, compare, position
        self._hashtag, self._followed_by = hashtag, followed_by

    def order_by(self, *fields: str) -> FeedVideos:
        if fields not in (self.ORDERING, self._REVERSED):
            raise ValueError(f"The feed is ordered by {self.ORDERING}, not {fields}.")
        order = "DESC" if fields == self.ORDERING else "ASC"
        return FeedVideos(order, self._compare, self._position, self._hashtag, self._followed_by)

    def filter(self, **lookups: str) -> FeedVideos:
        ((lookup, value),) = lookups.items()
        if lookup not in self._COMPARE:
            raise ValueError(f"The feed pages by published_at, not {lookup}.")
        try:
            position = parse_datetime(value)
        except ValueError:
            position = None
        if position is None:  # a cursor with a made-up position (the ORM answered 500)
            raise ValidationError({"cursor": ["This cursor is not valid."]})
        return FeedVideos(
            self._order, self._COMPARE[lookup], position, self._hashtag, self._followed_by
        )

    def __getitem__(self, page: slice) -> list[FeedVideo]:
        offset = page.start or 0
        with connection.cursor() as cursor:
            cursor.execute(
                _FEED_SQL[
                    self._order,
                    self._compare,
                    self._hashtag is not None,
                    self._followed_by is not None,
                ],
                {
                    "user_id": self._followed_by,
                    "offset": offset,
                    "limit": page.stop - offset,
                    "position": self._position,
                    "hashtag": self._hashtag,
                },
            )
            return [FeedVideo(*row) for row in cursor.fetchall()]


def feed_videos(*, hashtag: str | None = None, followed_by: str | None = None) -> FeedVideos:
    """Published videos, newest first (only those with `hashtag`, a normalized tag, or only
    those of the creators the user `followed_by` follows, when given): page them with the
    feed's `CursorPagination`."""
    return FeedVideos(hashtag=hashtag, followed_by=followed_by)


# --- pages of snapshots -------------------------------------------------------------------


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


# --- search -------------------------------------------------------------------------------

TYPO_SIMILARITY = 0.3  # pg_trgm's default threshold
TYPO_ALTERNATIVES = 3

_SIMILAR_TERMS_SQL = f"""
WITH query (word, trigram) AS (SELECT * FROM unnest(%(words)s::text[], %(trigrams)s::text[])),
sizes AS (SELECT word, count(*) AS size FROM query GROUP BY word),
shared AS (
    SELECT query.word, term.term, count(*) AS shared, cardinality(term.trigrams) AS size
    FROM query JOIN {SearchTerm._meta.db_table} term ON term.trigrams @> ARRAY[query.trigram]
    GROUP BY query.word, term.term
),
alike AS (
    SELECT shared.word, shared.term,
        shared.shared::float / (shared.size + sizes.size - shared.shared) AS similarity
    FROM shared JOIN sizes USING (word)
)
SELECT word, term FROM (
    SELECT word, term, similarity,
        row_number() OVER (PARTITION BY word ORDER BY similarity DESC, term) AS place
    FROM alike WHERE similarity >= %(threshold)s AND term <> word
) ranked
WHERE place <= %(alternatives)s
ORDER BY word, place
"""


def similar_terms(words: list[str]) -> dict[str, list[str]]:
    """For each word, up to three handles or hashtags spelled almost like it (trigram
    similarity at least 0.3, the best first): `clarabeuty` → `clarabeauty`."""
    pairs = [(word, trigram) for word in words for trigram in trigrams(word)]
    found: dict[str, list[str]] = {word: [] for word in words}
    if not pairs:
        return found
    with connection.cursor() as cursor:
        cursor.execute(
            _SIMILAR_TERMS_SQL,
            {
                "words": [word for word, _ in pairs],
                "trigrams": [trigram for _, trigram in pairs],
                "threshold": TYPO_SIMILARITY,
                "alternatives": TYPO_ALTERNATIVES,
            },
        )
        for word, term in cursor.fetchall():
            found[word].append(term)
    return found


def search_query(words: list[str], alternatives: dict[str, list[str]]) -> str:
    """A tsquery: every word must match, as a prefix of a word or as one of its
    near-spellings (`clar` finds `clara`; `clarabeuty` finds `clarabeauty`)."""
    return " & ".join(
        "("
        + " | ".join([f"{lexeme_quoted(word)}:*", *map(lexeme_quoted, alternatives.get(word, []))])
        + ")"
        for word in words
    )


# Per kind: what a match is (the live objects), its recent engagement (ranking lifts a
# match by the logarithm of it), and the JSON it is shown as.
_PRODUCT_JSON = f"""json_build_object({PRODUCT_CARD_FIELDS},
    'merchant', json_build_object('id', card.merchant_id, 'name', card.merchant_name)
)"""

_MATCHES = {
    "videos": f"""
        SELECT document.object_id AS id, ts_rank(document.document, query.q)
            * (1 + 0.1 * ln(1 + coalesce(trend.score, 0))) AS rank
        FROM {SearchDocument._meta.db_table} document
        JOIN {_VIDEO} video ON video.id = document.object_id AND video.status = 'published'
        LEFT JOIN {_TREND} trend ON trend.video_id = document.object_id
        WHERE document.kind = 'video' AND document.document @@ query.q""",
    "products": f"""
        SELECT document.object_id AS id, ts_rank(document.document, query.q)
            * (1 + 0.1 * ln(1 + coalesce(proof.units_30d, 0))) AS rank
        FROM {SearchDocument._meta.db_table} document
        JOIN {_CARD} card ON card.product_id = document.object_id AND card.status = 'active'
        LEFT JOIN {ProductSocialProof._meta.db_table} proof
            ON proof.product_id = document.object_id
        WHERE document.kind = 'product' AND document.document @@ query.q""",
    "creators": f"""
        SELECT document.object_id AS id, ts_rank(document.document, query.q)
            * (1 + 0.1 * ln(1 + coalesce((
                SELECT sum(trend.score) FROM {_TREND} trend
                JOIN {_VIDEO} video ON video.id = trend.video_id
                WHERE video.creator_id = document.object_id), 0))) AS rank
        FROM {SearchDocument._meta.db_table} document
        WHERE document.kind = 'creator' AND document.document @@ query.q""",
}


def _search_sql(kind: str, *, has_cursor: bool) -> str:
    after = " WHERE (rank, id) < (%(rank)s, %(id)s)" if has_cursor else ""
    ranked = f"""
    SELECT * FROM (
        SELECT matches.* FROM (SELECT %(query)s::tsquery AS q) query,
        LATERAL ({_MATCHES[kind]}) matches
    ) matches{after}
    ORDER BY rank DESC, id DESC
    LIMIT %(limit)s"""
    if kind == "videos":
        return videos_json_sql(
            f"v.rank, v.id, {VIDEO_JSON}::text",
            f"SELECT video.*, ranked.rank FROM ({ranked}) ranked "
            f"JOIN {_VIDEO} video ON video.id = ranked.id",
            "ORDER BY v.rank DESC, v.id DESC",
        )
    if kind == "products":
        return f"""
SELECT ranked.rank, ranked.id, {_PRODUCT_JSON}::text FROM ({ranked}) ranked
JOIN {_CARD} card ON card.product_id = ranked.id
LEFT JOIN {ProductSocialProof._meta.db_table} proof ON proof.product_id = ranked.id
ORDER BY ranked.rank DESC, ranked.id DESC"""
    return f"""
SELECT ranked.rank, ranked.id, {creator_json("creator")}::text FROM ({ranked}) ranked
JOIN {Creator._meta.db_table} creator ON creator.id = ranked.id
ORDER BY ranked.rank DESC, ranked.id DESC"""


_SEARCH_SQL = {
    (kind, has_cursor): _search_sql(kind, has_cursor=has_cursor)
    for kind in _MATCHES
    for has_cursor in (False, True)
}
SEARCH_TYPES = tuple(_MATCHES)


@dataclass(frozen=True)
class SearchHit:
    rank: float  # with `id`, the cursor's position
    id: uuid.UUID
    json: str


def search(
    *,
    kind: str,
    words: list[str],
    limit: int,
    after: tuple[float, uuid.UUID] | None = None,
) -> list[SearchHit]:
    """Published videos, active products or creators matching every word (as a prefix, or
    a near-spelling of a handle or hashtag), best first: relevance (handles and hashtags
    weigh most, then product titles, then captions) lifted by recent engagement; after the
    position `after` of a previous page when given. Two statements whatever the limit."""
    query = search_query(words, similar_terms(words))
    with connection.cursor() as cursor:
        cursor.execute(
            _SEARCH_SQL[kind, after is not None],
            {
                "query": query,
                "limit": limit,
                "rank": after[0] if after else None,
                "id": after[1] if after else None,
            },
        )
        return [SearchHit(*row) for row in cursor.fetchall()]
