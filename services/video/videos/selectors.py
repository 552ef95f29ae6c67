"""Reads: videos as mobile sees them (API.md), one at a time here, and the statement every
feed's page is built with (`videos_json_sql`; the feeds are discovery's selectors).

PostgreSQL builds each video object as JSON, with its creator and its tags' product cards,
in one statement whatever the page size (ADR 7): a feed gets it as JSON text to send as
is, a single video as a dict.
"""

from __future__ import annotations

import enum
import itertools
import uuid
from typing import Any

from django.db import connection

from creators.models import Creator
from productcards.models import ProductCard, ProductSocialProof
from videos.models import ProductTag, Video


def rfc3339(column: str) -> str:
    """SQL for a timestamptz as DRF renders an aware UTC datetime (`isoformat()`, `+00:00`
    as `Z`): microseconds only when there are some; NULL stays NULL."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS')"""
        f" || CASE WHEN to_char({utc}, 'US') = '000000' THEN '' ELSE to_char({utc}, '.US') END"
        " || 'Z'"
    )


def _float(column: str) -> str:
    """SQL for a float8 (x, y: 0 to 1) as JSON the way Python writes it: PostgreSQL writes
    1.0 as `1`."""
    return (
        f"CASE WHEN {column} = trunc({column}) THEN to_json({column}::numeric(17, 1)) "
        f"ELSE to_json({column}) END"
    )


def creator_json(alias: str) -> str:
    """SQL for API.md's creator object of the creators row `alias`."""
    return f"""json_build_object(
        'id', {alias}.id,
        'handle', {alias}.handle,
        'display_name', {alias}.display_name,
        'avatar_url', nullif({alias}.avatar_url, ''),
        'followers', {alias}.followers_count
    )"""


# The product card's fields as feeds show it, from `card` (the read model's row) and
# `proof` (its units sold through videos, left-joined): arguments of json_build_object.
PRODUCT_CARD_FIELDS = """
    'id', card.product_id,
    'title', card.title,
    'image', nullif(card.image, ''),
    'price', CASE WHEN card.price_amount IS NULL THEN NULL ELSE
        json_build_object('amount', card.price_amount, 'currency', card.currency) END,
    'stock_status', card.stock_status,
    'sold_via_videos_30d', coalesce(proof.units_30d, 0)"""

# The `flash_deal` of a tag's product (`card`, in the tag `tag`): the card's deal when it
# is on this tag's video and runs now (by the clock, so a stored page shows a deal start
# or end within FEED_MAX_STALENESS_SECONDS without any write), else null. Times are
# stored as `YYYY-MM-DDTHH:MM:SSZ` and compared as text; a card fetched from catalog's
# API (no `starts_at`: shown only while running) counts as started.
_NOW_ISO = """to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
TAG_FLASH_DEAL = f"""CASE WHEN card.flash_deal ->> 'video_id' = tag.video_id::text
        AND coalesce(card.flash_deal ->> 'starts_at', '') <= {_NOW_ISO}
        AND card.flash_deal ->> 'ends_at' > {_NOW_ISO}
    THEN json_build_object(
        'price', card.flash_deal -> 'price',
        'ends_at', card.flash_deal -> 'ends_at',
        'remaining', card.flash_deal -> 'remaining',
        'per_buyer_limit', card.flash_deal -> 'per_buyer_limit',
        'video_id', card.flash_deal -> 'video_id',
        'variant_id', card.flash_deal -> 'variant_id') END"""

# API.md's video object, from `v` (a video), `c` (its creator) and `t` (its tags). `json`,
# not `jsonb`: it keeps the keys in this order and PostgreSQL builds it faster.
VIDEO_JSON = f"""json_build_object(
    'id', v.id,
    'creator', {creator_json("c")},
    'status', v.status,
    'stream_url', v.stream_url,
    'thumbnail_url', v.thumbnail_url,
    'caption', v.caption,
    'duration_ms', v.duration_ms,
    'published_at', {rfc3339("v.published_at")},
    'tags', coalesce(t.tags, '[]'::json),
    'likes', v.likes_count
)"""


def videos_json_sql(columns: str, videos: str, order: str = "") -> str:
    """One statement: a row of `columns` (over `v`, `c`, `t`) for each video that the
    query `videos` selects (rows of the videos table). The tags are those whose product
    has an active card in the read model (archived and unknown products are left out), in
    time order, aggregated for all the videos at once rather than video by video."""
    return f"""
WITH v AS ({videos}),
t AS (
    SELECT tag.video_id, json_agg(json_build_object(
        'id', tag.id,
        'start_ms', tag.start_ms,
        'end_ms', tag.end_ms,
        'x', {_float("tag.x")},
        'y', {_float("tag.y")},
        'keyframes', tag.keyframes,
        'product', json_build_object({PRODUCT_CARD_FIELDS}, 'flash_deal', {TAG_FLASH_DEAL}),
        'variant_id', tag.variant_id
    ) ORDER BY tag.start_ms, tag.created_at, tag.id) AS tags
    FROM v
    JOIN {ProductTag._meta.db_table} tag ON tag.video_id = v.id
    JOIN {ProductCard._meta.db_table} card
        ON card.product_id = tag.product_id AND card.status = 'active'
    LEFT JOIN {ProductSocialProof._meta.db_table} proof ON proof.product_id = card.product_id
    GROUP BY tag.video_id
)
SELECT {columns}
FROM v
JOIN {Creator._meta.db_table} c ON c.id = v.creator_id
LEFT JOIN t ON t.video_id = v.id
{order}"""


# One video, which psycopg decodes (in C) to a dict.
_VIDEO_SQL = videos_json_sql(
    VIDEO_JSON,
    f"""SELECT * FROM {Video._meta.db_table}
    WHERE id = %(id)s AND (status = 'published' OR status = 'draft' AND creator_id IN (
        SELECT id FROM {Creator._meta.db_table} WHERE user_id = %(user_id)s))""",
)


def video_for_viewer(*, video_id: uuid.UUID, user_id: str | None) -> dict[str, Any] | None:
    """A published video, or the viewer's own draft, as API.md's video object; None for
    anything else."""
    with connection.cursor() as cursor:
        cursor.execute(_VIDEO_SQL, {"id": video_id, "user_id": user_id})
        row = cursor.fetchone()
    return None if row is None else row[0]


def own_video(*, video_id: uuid.UUID, user_id: str) -> Video:
    """The caller's own video (not removed); `Video.DoesNotExist` — a 404 — otherwise,
    also for other creators' videos."""
    return Video.objects.select_related("creator").get(
        id=video_id,
        creator__user_id=user_id,
        status__in=[Video.Status.DRAFT, Video.Status.PUBLISHED],
    )


def own_tag(*, video: Video, tag_id: uuid.UUID) -> ProductTag:
    return ProductTag.objects.get(id=tag_id, video=video)


def tag_position_at(tag: ProductTag, t_ms: int) -> tuple[float, float] | None:
    """Where the hotspot is at `t_ms`: hidden (None) outside the tag's span or, with
    keyframes, outside the first and last keyframe; linear between keyframes."""
    if not tag.start_ms <= t_ms <= tag.end_ms:
        return None
    frames = tag.keyframes
    if not frames:
        return tag.x, tag.y
    if not frames[0]["t_ms"] <= t_ms <= frames[-1]["t_ms"]:
        return None
    for before, after in itertools.pairwise(frames):
        if before["t_ms"] <= t_ms <= after["t_ms"]:
            share = (t_ms - before["t_ms"]) / (after["t_ms"] - before["t_ms"])
            return (
                before["x"] + share * (after["x"] - before["x"]),
                before["y"] + share * (after["y"] - before["y"]),
            )
    return frames[-1]["x"], frames[-1]["y"]


class SourceProblem(enum.StrEnum):
    """Why a video (and tag) cannot be the source of a cart line for a product."""

    UNKNOWN_VIDEO = "unknown_video"  # no such video, or not published (a draft, removed)
    PRODUCT_NOT_TAGGED = "product_not_tagged"
    TAG_MISMATCH = "tag_mismatch"  # the tag is not this video's tag of this product


def source_problem(
    *, video_id: uuid.UUID, product_id: uuid.UUID, tag_id: uuid.UUID | None = None
) -> SourceProblem | None:
    """None when the video may be a cart line's source for the product: it is published
    and tags the product, and the tag, when given, is one of its tags of that product.
    Attribution applies the same rule when it credits the sale (`attribution.allocation`
    and its statement), so a source that fails here never earns commission."""
    if not Video.objects.filter(id=video_id, status=Video.Status.PUBLISHED).exists():
        return SourceProblem.UNKNOWN_VIDEO
    tag_ids = set(
        ProductTag.objects.filter(video_id=video_id, product_id=product_id).values_list(
            "id", flat=True
        )
    )
    if not tag_ids:
        return SourceProblem.PRODUCT_NOT_TAGGED
    if tag_id is not None and tag_id not in tag_ids:
        return SourceProblem.TAG_MISMATCH
    return None
