"""Search: videos, products and creators matching every word, with typo tolerance from
trigrams of handles and hashtags (ADR 11)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import connection

from creators.models import Creator
from discovery.models import SearchDocument, SearchTerm, VideoTrend
from discovery.text import lexeme_quoted, trigrams
from productcards.models import ProductCard, ProductSocialProof
from videos.models import Video
from videos.selectors import PRODUCT_CARD_FIELDS, VIDEO_JSON, creator_json, videos_json_sql

_VIDEO = Video._meta.db_table
_CARD = ProductCard._meta.db_table
_TREND = VideoTrend._meta.db_table

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
