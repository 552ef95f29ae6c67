"""Reads of discovery: the "for you" ranking, pages of ranked feed snapshots, and search.

Each page is one statement whatever its size: the videos come out as API.md's JSON from
`videos.selectors.videos_json_sql`, like the chronological feed's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from attribution.models import SaleLine
from creators.models import Creator
from discovery.models import (
    FeedSnapshot,
    ProductSocialProof,
    SearchDocument,
    SearchTerm,
    VideoHashtag,
    VideoTrend,
)
from discovery.text import lexeme_quoted, trigrams
from engagement.models import EngagementEvent
from productcards.models import ProductCard
from videos.models import ProductTag, Video
from videos.selectors import PRODUCT_CARD_FIELDS, VIDEO_JSON, creator_json, videos_json_sql

# --- "for you" ----------------------------------------------------------------------------

# What one event says, before decay by its age: about the video, for trending, and about
# the taste of the user who did it, for "for you". Impressions say nothing.
EVENT_WEIGHTS = {
    EngagementEvent.Type.VIEW: 1.0,
    EngagementEvent.Type.TAG_TAP: 3.0,
    EngagementEvent.Type.PRODUCT_VIEW: 2.0,
    EngagementEvent.Type.ADD_TO_CART: 5.0,
}
# SQL for the weight of event `e`.
EVENT_WEIGHT_SQL = (
    "CASE e.type "
    + " ".join(f"WHEN '{kind.value}' THEN {weight}" for kind, weight in EVENT_WEIGHTS.items())
    + " ELSE 0 END"
)
PURCHASE_INTEREST = 8.0
INTEREST_WINDOW = timedelta(days=30)
INTEREST_HALF_LIFE = timedelta(days=7)
# How a candidate's score adds up: the user's share of interest in its creator, its
# hashtags (summed), its merchants and categories (the best of each), trending (relative to
# the top video) and freshness (halved every day), so new users and creators get reach.
SCORE_WEIGHTS = {
    "creator": 1.0,
    "hashtag": 0.6,
    "merchant": 0.4,
    "category": 0.4,
    "trending": 0.3,
    "fresh": 0.1,
}
# A video watched to this share of its length sinks below everything unseen; one seen
# but not finished keeps less than a third of its score.
FINISHED_SHARE = 0.9
SEEN_FACTOR = 0.3
# Candidates beside those the user's interests find: the top trending and the newest.
EXPLORE_CANDIDATES = 200

_VIDEO = Video._meta.db_table
_TAG = ProductTag._meta.db_table
_CARD = ProductCard._meta.db_table
_HASHTAG = VideoHashtag._meta.db_table
_TREND = VideoTrend._meta.db_table

FOR_YOU_SQL = f"""
WITH events AS (
    SELECT e.video_id, e.type, e.watch_ms, {EVENT_WEIGHT_SQL} * power(0.5,
        extract(epoch FROM %(as_of)s - e.occurred_at) / %(half_life)s) AS weight
    FROM {EngagementEvent._meta.db_table} e
    WHERE e.user_id = %(user_id)s AND e.occurred_at > %(since)s AND e.occurred_at <= %(as_of)s
),
touched AS (
    SELECT events.video_id, sum(events.weight) AS weight,
        bool_or(events.type = 'view'
            AND events.watch_ms >= video.duration_ms * {FINISHED_SHARE}) AS is_finished,
        bool_or(events.type <> 'impression') AS is_seen
    FROM events JOIN {_VIDEO} video ON video.id = events.video_id
    GROUP BY events.video_id
),
purchases AS (
    SELECT sale.product_id, sale.merchant_id, sale.source_video_id, {PURCHASE_INTEREST}
        * power(0.5, extract(epoch FROM %(as_of)s - sale.paid_at) / %(half_life)s) AS weight
    FROM {SaleLine._meta.db_table} sale
    WHERE sale.user_id = %(user_id)s AND sale.paid_at > %(since)s AND sale.paid_at <= %(as_of)s
),
signals (kind, key, weight) AS (
    SELECT 'creator', video.creator_id::text, touched.weight
    FROM touched JOIN {_VIDEO} video ON video.id = touched.video_id
    UNION ALL
    SELECT 'hashtag', hashtag.tag, touched.weight
    FROM touched JOIN {_HASHTAG} hashtag ON hashtag.video_id = touched.video_id
    UNION ALL
    SELECT 'merchant', tag.merchant_id::text, touched.weight
    FROM touched JOIN {_TAG} tag ON tag.video_id = touched.video_id
    UNION ALL
    SELECT 'category', card.category_slug, touched.weight
    FROM touched JOIN {_TAG} tag ON tag.video_id = touched.video_id
    JOIN {_CARD} card ON card.product_id = tag.product_id
    UNION ALL
    SELECT 'merchant', purchases.merchant_id::text, purchases.weight FROM purchases
    UNION ALL
    SELECT 'category', card.category_slug, purchases.weight
    FROM purchases JOIN {_CARD} card ON card.product_id = purchases.product_id
    UNION ALL
    SELECT 'creator', video.creator_id::text, purchases.weight
    FROM purchases JOIN {_VIDEO} video ON video.id = purchases.source_video_id
),
affinity AS (
    SELECT kind, key, sum(weight) / sum(sum(weight)) OVER (PARTITION BY kind) AS share
    FROM signals WHERE weight > 0 AND key <> ''
    GROUP BY kind, key
),
candidates AS (
    SELECT video.id FROM {_VIDEO} video
    JOIN affinity ON affinity.kind = 'creator' AND affinity.key = video.creator_id::text
    UNION
    SELECT hashtag.video_id FROM {_HASHTAG} hashtag
    JOIN affinity ON affinity.kind = 'hashtag' AND affinity.key = hashtag.tag
    UNION
    SELECT tag.video_id FROM {_TAG} tag
    JOIN affinity ON affinity.kind = 'merchant' AND affinity.key = tag.merchant_id::text
    UNION
    SELECT tag.video_id FROM {_TAG} tag
    JOIN {_CARD} card ON card.product_id = tag.product_id
    JOIN affinity ON affinity.kind = 'category' AND affinity.key = card.category_slug
    UNION
    (SELECT video_id FROM {_TREND} ORDER BY score DESC, video_id LIMIT {EXPLORE_CANDIDATES})
    UNION
    (SELECT id FROM {_VIDEO} WHERE status = 'published' AND published_at <= %(as_of)s
     ORDER BY published_at DESC, id DESC LIMIT {EXPLORE_CANDIDATES})
),
shown AS (
    SELECT video.id, video.creator_id, video.published_at
    FROM candidates
    JOIN {_VIDEO} video ON video.id = candidates.id
        AND video.status = 'published' AND video.published_at <= %(as_of)s
),
-- Each term once over all candidates (not per candidate, which probed every card of a
-- liked category for each one).
hashtag_terms AS (
    SELECT hashtag.video_id, sum(affinity.share) AS share
    FROM shown JOIN {_HASHTAG} hashtag ON hashtag.video_id = shown.id
    JOIN affinity ON affinity.kind = 'hashtag' AND affinity.key = hashtag.tag
    GROUP BY hashtag.video_id
),
merchant_terms AS (
    SELECT tag.video_id, max(affinity.share) AS share
    FROM shown JOIN {_TAG} tag ON tag.video_id = shown.id
    JOIN affinity ON affinity.kind = 'merchant' AND affinity.key = tag.merchant_id::text
    GROUP BY tag.video_id
),
category_terms AS (
    SELECT tag.video_id, max(affinity.share) AS share
    FROM shown JOIN {_TAG} tag ON tag.video_id = shown.id
    JOIN {_CARD} card ON card.product_id = tag.product_id
    JOIN affinity ON affinity.kind = 'category' AND affinity.key = card.category_slug
    GROUP BY tag.video_id
),
scored AS (
    SELECT shown.id, shown.published_at,
        coalesce(touched.is_finished, false) AS is_finished,
        coalesce(touched.is_seen, false) AS is_seen,
        {SCORE_WEIGHTS["creator"]} * coalesce(creator.share, 0)
        + {SCORE_WEIGHTS["hashtag"]} * coalesce(hashtag_terms.share, 0)
        + {SCORE_WEIGHTS["merchant"]} * coalesce(merchant_terms.share, 0)
        + {SCORE_WEIGHTS["category"]} * coalesce(category_terms.share, 0)
        + {SCORE_WEIGHTS["trending"]} * coalesce(
            trend.score / nullif((SELECT max(score) FROM {_TREND}), 0), 0)
        + {SCORE_WEIGHTS["fresh"]} * power(0.5,
            extract(epoch FROM %(as_of)s - shown.published_at) / 86400)
        AS score
    FROM shown
    LEFT JOIN affinity creator
        ON creator.kind = 'creator' AND creator.key = shown.creator_id::text
    LEFT JOIN hashtag_terms ON hashtag_terms.video_id = shown.id
    LEFT JOIN merchant_terms ON merchant_terms.video_id = shown.id
    LEFT JOIN category_terms ON category_terms.video_id = shown.id
    LEFT JOIN {_TREND} trend ON trend.video_id = shown.id
    LEFT JOIN touched ON touched.video_id = shown.id
)
SELECT id FROM scored
ORDER BY is_finished, score * CASE WHEN is_seen THEN {SEEN_FACTOR} ELSE 1 END DESC,
    published_at DESC, id DESC
LIMIT %(size)s
"""


def for_you_parameters(*, user_id: str, as_of: datetime, size: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "as_of": as_of,
        "since": as_of - INTEREST_WINDOW,
        "half_life": INTEREST_HALF_LIFE.total_seconds(),
        "size": size,
    }


def for_you_video_ids(
    *, user_id: str, as_of: datetime | None = None, size: int | None = None
) -> list[uuid.UUID]:
    """The user's "for you" ranking as of a time (now by default), best first: what they
    engaged with and bought before then, mixed with trending and freshness."""
    parameters = for_you_parameters(
        user_id=user_id,
        as_of=as_of or timezone.now(),
        size=size or settings.FEED_SNAPSHOT_SIZE,
    )
    with connection.cursor() as cursor:
        cursor.execute(FOR_YOU_SQL, parameters)
        return [row[0] for row in cursor.fetchall()]


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
}


def _snapshot_page_sql(where: str) -> str:
    page = videos_json_sql(
        f"v.position, {VIDEO_JSON}::text AS json",
        f"""SELECT video.*, slot.position
        FROM snapshot,
            unnest(snapshot.video_ids[%(start)s:%(stop)s]) WITH ORDINALITY AS slot(id, position)
        JOIN {_VIDEO} video ON video.id = slot.id AND video.status = 'published'""",
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
) -> SnapshotPage | None:
    """Videos `offset` to `offset + limit` of a snapshot (`which`: the latest trending one,
    or a given trending or for-you one, the latter only for its own user); None when there
    is no such snapshot. Removed videos are skipped, so a page may come out shorter."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SNAPSHOT_PAGE_SQL[which],
            {
                "snapshot_id": snapshot_id,
                "user_id": user_id,
                "start": offset + 1,  # PostgreSQL's arrays count from 1, slices inclusive
                "stop": offset + limit,
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
