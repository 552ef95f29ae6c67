"""The "for you" ranking (ADR 11, ADR 21, ADR 37): one statement scores the candidates
from the user's own signals, then the order is spread over creators and given its fresh
videos (`discovery.diversity`).

What a user says for a video (events, likes, shares, purchases, follows) is interest in
what it stands for: its creator, hashtags, merchants and categories. What they say against
one (skips, "not interested", having bought its product already) is aversion to the same
things. Both fade by half every 7 days, so a user can change their mind; a follow holds
for as long as it lasts.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from attribution.models import SaleLine
from creators.models import Follow
from discovery.diversity import Ranked, spread
from discovery.models import NotInterested, ProductPairing, VideoHashtag, VideoTrend
from engagement.models import EngagementEvent
from productcards.models import ProductCard
from videos.models import ProductTag, Video

# What one event says, before decay by its age: about the video, for trending, and about
# the taste of the user who did it, for "for you". Impressions say nothing; an unlike
# takes back its like (the two add up to nothing); a share says most.
EVENT_WEIGHTS = {
    EngagementEvent.Type.VIEW: 1.0,
    EngagementEvent.Type.TAG_TAP: 3.0,
    EngagementEvent.Type.PRODUCT_VIEW: 2.0,
    EngagementEvent.Type.ADD_TO_CART: 5.0,
    EngagementEvent.Type.LIKE: 6.0,
    EngagementEvent.Type.UNLIKE: -6.0,
    EngagementEvent.Type.SHARE: 10.0,
}
# SQL for the weight of event `e`.
EVENT_WEIGHT_SQL = (
    "CASE e.type "
    + " ".join(f"WHEN '{kind.value}' THEN {weight}" for kind, weight in EVENT_WEIGHTS.items())
    + " ELSE 0 END"
)
PURCHASE_INTEREST = 8.0
# A follow: interest in the creator that does not fade while it lasts.
FOLLOW_INTEREST = 8.0
INTEREST_WINDOW = timedelta(days=30)
INTEREST_HALF_LIFE = timedelta(days=7)
# A skip: an impression watched under a second, or a view under 15 % of the video. It says
# nothing for the video, and a little against its creator and hashtags: it is taken off
# the interest in them, and what falls short of nothing is aversion.
SKIP_IMPRESSION_MS = 1000
SKIP_VIEW_SHARE = 0.15
SKIP_AVERSION = 0.5
# "Not interested", by reason: aversion to what the video stood for. A product bought
# counts as aversion to that product (its videos are not shown again soon).
NOT_INTERESTED_AVERSION: dict[str, dict[str, float]] = {
    "": {"creator": 0.5, "hashtag": 1.0},
    NotInterested.Reason.CREATOR: {"creator": 10.0},
    NotInterested.Reason.PRODUCT: {"product": 10.0, "merchant": 1.0, "category": 1.0},
    NotInterested.Reason.SEEN_TOO_OFTEN: {"creator": 1.0, "hashtag": 1.0},
}
BOUGHT_AVERSION = 10.0
# Aversion this strong to a video's creator, or to every product it tags, puts the video
# below every other unseen one (a "not interested: creator" does for about 3 weeks).
SHUN_AVERSION = 3.0
# How a candidate's score adds up: the user's share of interest in its creator, its
# hashtags (summed), its merchants and categories (the best of each) and the products
# bought with what they bought (the best), together weighed by the candidate's recency
# (what a user likes of a creator or hashtag is mostly what is new from it: halved every
# INTEREST_RECENCY of age, down to INTEREST_RECENCY_FLOOR, so that a follow still lifts
# older videos); then trending (relative to the top video) and freshness (halved every
# day; NEWCOMER_FRESH for a user with no interest yet, whose feed is trending and new).
# All divided by 1 + the aversion to its creator, hashtags (summed), merchants and
# categories (the worst of each).
SCORE_WEIGHTS = {
    "creator": 1.0,
    "hashtag": 0.6,
    "merchant": 0.4,
    "category": 0.4,
    "complement": 1.5,
    "trending": 0.3,
    "fresh": 0.2,
}
INTEREST_RECENCY = timedelta(days=3)
INTEREST_RECENCY_FLOOR = 0.3
NEWCOMER_FRESH = 0.5
# A video watched to this share of its length sinks below everything unseen; one shown
# before (an impression is enough: the feed should move on) but not finished keeps a
# tenth of its score.
FINISHED_SHARE = 0.9
SEEN_FACTOR = 0.1
# Candidates beside those the user's interests find: the top trending and the newest.
EXPLORE_CANDIDATES = 200
# Fresh: published in the last two days with little engagement yet.
FRESH_WINDOW = timedelta(days=2)
FRESH_TREND_MAX = 3.0
# Ranked beyond the requested size, so that spreading creators has videos to choose from.
DIVERSITY_LOOKAHEAD = 200

_VIDEO = Video._meta.db_table
_TAG = ProductTag._meta.db_table
_CARD = ProductCard._meta.db_table
_HASHTAG = VideoHashtag._meta.db_table
_TREND = VideoTrend._meta.db_table
_DISMISSED = NotInterested._meta.db_table


def _decay(column: str) -> str:
    return f"power(0.5, extract(epoch FROM %(as_of)s - {column}) / %(half_life)s)"


def _reason_weight(kind: str) -> str:
    """SQL: the aversion of `dismissed.reason` to things of `kind`."""
    cases = " ".join(
        f"WHEN '{reason}' THEN {weights[kind]}"
        for reason, weights in NOT_INTERESTED_AVERSION.items()
        if kind in weights
    )
    return f"CASE dismissed.reason {cases} ELSE 0 END"


_SKIP = (
    f"(e.type = 'impression' AND e.watch_ms < {SKIP_IMPRESSION_MS}"
    f" OR e.type = 'view' AND e.watch_ms < video.duration_ms * {SKIP_VIEW_SHARE})"
)

FOR_YOU_SQL = f"""
WITH events AS (
    SELECT e.video_id, e.type, e.watch_ms, video.duration_ms, {_SKIP} AS is_skip,
        {_decay("e.occurred_at")} AS decay, {EVENT_WEIGHT_SQL} AS weight
    FROM {EngagementEvent._meta.db_table} e
    JOIN {_VIDEO} video ON video.id = e.video_id
    WHERE e.user_id = %(user_id)s AND e.occurred_at > %(since)s AND e.occurred_at <= %(as_of)s
),
touched AS (
    SELECT video_id,
        sum(CASE WHEN is_skip THEN 0 ELSE weight END * decay) AS weight,
        sum(CASE WHEN is_skip THEN decay ELSE 0 END) AS skips,
        bool_or(type = 'view' AND watch_ms >= duration_ms * {FINISHED_SHARE}) AS is_finished,
        true AS is_seen
    FROM events GROUP BY video_id
),
purchases AS (
    SELECT sale.product_id, sale.merchant_id, sale.source_video_id,
        {PURCHASE_INTEREST} * {_decay("sale.paid_at")} AS weight
    FROM {SaleLine._meta.db_table} sale
    WHERE sale.user_id = %(user_id)s AND sale.paid_at > %(since)s AND sale.paid_at <= %(as_of)s
),
dismissed AS (
    SELECT video_id, reason, {_decay("created_at")} AS decay
    FROM {_DISMISSED}
    WHERE user_id = %(user_id)s AND created_at > %(since)s AND created_at <= %(as_of)s
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
    UNION ALL
    SELECT 'creator', follow.creator_id::text, {FOLLOW_INTEREST}
    FROM {Follow._meta.db_table} follow
    WHERE follow.user_id = %(user_id)s AND follow.created_at <= %(as_of)s
    UNION ALL
    -- Bought with what the user bought, by other buyers: the products to lean to next.
    SELECT 'complement', pairing.other_product_id::text, purchases.weight * pairing.buyers
    FROM purchases JOIN {ProductPairing._meta.db_table} pairing
        ON pairing.product_id = purchases.product_id
),
-- Interest less skips, per thing: what is left over is the user's interest in it, what
-- falls short aversion to it.
net AS (
    SELECT kind, key, sum(weight) AS weight FROM (
        SELECT kind, key, weight FROM signals
        UNION ALL
        SELECT 'creator', video.creator_id::text, -{SKIP_AVERSION} * touched.skips
        FROM touched JOIN {_VIDEO} video ON video.id = touched.video_id WHERE touched.skips > 0
        UNION ALL
        SELECT 'hashtag', hashtag.tag, -{SKIP_AVERSION} * touched.skips
        FROM touched JOIN {_HASHTAG} hashtag ON hashtag.video_id = touched.video_id
        WHERE touched.skips > 0
    ) weights
    WHERE key <> '' GROUP BY kind, key
),
affinity AS (
    SELECT kind, key, weight / sum(weight) OVER (PARTITION BY kind) AS share
    FROM net WHERE weight > 0
),
-- What the user said against (not interested, bought already): it may sink a video.
against (kind, key, weight) AS (
    SELECT 'creator', video.creator_id::text, dismissed.decay * {_reason_weight("creator")}
    FROM dismissed JOIN {_VIDEO} video ON video.id = dismissed.video_id
    UNION ALL
    SELECT 'hashtag', hashtag.tag, dismissed.decay * {_reason_weight("hashtag")}
    FROM dismissed JOIN {_HASHTAG} hashtag ON hashtag.video_id = dismissed.video_id
    UNION ALL
    SELECT 'product', tag.product_id::text, dismissed.decay * {_reason_weight("product")}
    FROM dismissed JOIN {_TAG} tag ON tag.video_id = dismissed.video_id
    UNION ALL
    SELECT 'merchant', tag.merchant_id::text, dismissed.decay * {_reason_weight("merchant")}
    FROM dismissed JOIN {_TAG} tag ON tag.video_id = dismissed.video_id
    UNION ALL
    SELECT 'category', card.category_slug, dismissed.decay * {_reason_weight("category")}
    FROM dismissed JOIN {_TAG} tag ON tag.video_id = dismissed.video_id
    JOIN {_CARD} card ON card.product_id = tag.product_id
    UNION ALL
    SELECT 'product', purchases.product_id::text, {BOUGHT_AVERSION / PURCHASE_INTEREST}
        * purchases.weight FROM purchases
),
aversion AS (
    SELECT kind, key, sum(weight) AS weight, sum(weight) FILTER (WHERE is_said) AS said
    FROM (
        SELECT kind, key, weight, true AS is_said FROM against WHERE weight > 0 AND key <> ''
        UNION ALL
        SELECT kind, key, -weight, false FROM net WHERE weight < 0
    ) weights
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
    JOIN affinity ON affinity.kind = 'complement' AND affinity.key = tag.product_id::text
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
-- A video the user said "not interested" to never comes back, however old the word.
shown AS (
    SELECT video.id, video.creator_id, video.published_at
    FROM candidates
    JOIN {_VIDEO} video ON video.id = candidates.id
        AND video.status = 'published' AND video.published_at <= %(as_of)s
    WHERE NOT EXISTS (
        SELECT 1 FROM {_DISMISSED} said
        WHERE said.user_id = %(user_id)s AND said.video_id = video.id
            AND said.created_at <= %(as_of)s)
),
-- Each term once over all candidates (not per candidate, which probed every card of a
-- liked category for each one).
hashtag_terms AS (
    SELECT hashtag.video_id, sum(affinity.share) AS share, sum(aversion.weight) AS aversion
    FROM shown JOIN {_HASHTAG} hashtag ON hashtag.video_id = shown.id
    LEFT JOIN affinity ON affinity.kind = 'hashtag' AND affinity.key = hashtag.tag
    LEFT JOIN aversion ON aversion.kind = 'hashtag' AND aversion.key = hashtag.tag
    GROUP BY hashtag.video_id
),
tag_terms AS (
    SELECT tag.video_id,
        max(merchant.share) AS merchant_share, max(complement.share) AS complement_share,
        max(merchant_aversion.weight) AS merchant_aversion,
        -- Every product it tags is one the user is averse to (bought, dismissed).
        min(coalesce(product_aversion.said, 0)) AS product_aversion
    FROM shown JOIN {_TAG} tag ON tag.video_id = shown.id
    LEFT JOIN affinity merchant
        ON merchant.kind = 'merchant' AND merchant.key = tag.merchant_id::text
    LEFT JOIN affinity complement
        ON complement.kind = 'complement' AND complement.key = tag.product_id::text
    LEFT JOIN aversion merchant_aversion
        ON merchant_aversion.kind = 'merchant' AND merchant_aversion.key = tag.merchant_id::text
    LEFT JOIN aversion product_aversion
        ON product_aversion.kind = 'product' AND product_aversion.key = tag.product_id::text
    GROUP BY tag.video_id
),
category_terms AS (
    SELECT tag.video_id, max(affinity.share) AS share, max(aversion.weight) AS aversion
    FROM shown JOIN {_TAG} tag ON tag.video_id = shown.id
    JOIN {_CARD} card ON card.product_id = tag.product_id
    LEFT JOIN affinity ON affinity.kind = 'category' AND affinity.key = card.category_slug
    LEFT JOIN aversion ON aversion.kind = 'category' AND aversion.key = card.category_slug
    GROUP BY tag.video_id
),
scored AS (
    SELECT shown.id, shown.creator_id, shown.published_at,
        coalesce(touched.is_finished, false) AS is_finished,
        coalesce(touched.is_seen, false) AS is_seen,
        coalesce(creator_aversion.said, 0) >= {SHUN_AVERSION}
            OR coalesce(tag_terms.product_aversion, 0) >= {SHUN_AVERSION} AS is_shunned,
        shown.published_at > %(as_of)s - %(fresh_window)s * interval '1 second'
            AND coalesce(trend.score, 0) < {FRESH_TREND_MAX} AS is_fresh,
        (({SCORE_WEIGHTS["creator"]} * coalesce(creator.share, 0)
        + {SCORE_WEIGHTS["hashtag"]} * coalesce(hashtag_terms.share, 0)
        + {SCORE_WEIGHTS["merchant"]} * coalesce(tag_terms.merchant_share, 0)
        + {SCORE_WEIGHTS["category"]} * coalesce(category_terms.share, 0)
        + {SCORE_WEIGHTS["complement"]} * coalesce(tag_terms.complement_share, 0))
        * ({INTEREST_RECENCY_FLOOR} + {1 - INTEREST_RECENCY_FLOOR}
            * power(0.5, extract(epoch FROM %(as_of)s - shown.published_at) / %(recency)s))
        + {SCORE_WEIGHTS["trending"]} * coalesce(
            trend.score / nullif((SELECT max(score) FROM {_TREND}), 0), 0)
        + CASE WHEN EXISTS (SELECT 1 FROM affinity) THEN {SCORE_WEIGHTS["fresh"]}
            ELSE {NEWCOMER_FRESH} END * power(0.5,
            extract(epoch FROM %(as_of)s - shown.published_at) / 86400))
        / (1 + coalesce(creator_aversion.weight, 0) + coalesce(hashtag_terms.aversion, 0)
            + coalesce(tag_terms.merchant_aversion, 0) + coalesce(category_terms.aversion, 0))
        AS score
    FROM shown
    LEFT JOIN affinity creator
        ON creator.kind = 'creator' AND creator.key = shown.creator_id::text
    LEFT JOIN aversion creator_aversion
        ON creator_aversion.kind = 'creator' AND creator_aversion.key = shown.creator_id::text
    LEFT JOIN hashtag_terms ON hashtag_terms.video_id = shown.id
    LEFT JOIN tag_terms ON tag_terms.video_id = shown.id
    LEFT JOIN category_terms ON category_terms.video_id = shown.id
    LEFT JOIN {_TREND} trend ON trend.video_id = shown.id
    LEFT JOIN touched ON touched.video_id = shown.id
)
SELECT id, creator_id, is_fresh AND NOT is_seen AND NOT is_shunned,
    is_finished OR is_shunned FROM scored
ORDER BY is_finished, is_shunned,
    score * CASE WHEN is_seen THEN {SEEN_FACTOR} ELSE 1 END DESC, published_at DESC, id DESC
LIMIT %(size)s
"""


def for_you_parameters(*, user_id: str, as_of: datetime, size: int) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "as_of": as_of,
        "since": as_of - INTEREST_WINDOW,
        "half_life": INTEREST_HALF_LIFE.total_seconds(),
        "fresh_window": FRESH_WINDOW.total_seconds(),
        "recency": INTEREST_RECENCY.total_seconds(),
        "size": size,
    }


def for_you_video_ids(
    *,
    user_id: str,
    as_of: datetime | None = None,
    size: int | None = None,
    first_page: int = 20,
) -> list[uuid.UUID]:
    """The user's "for you" ranking as of a time (now by default), best first: what they
    engaged with, liked, shared, bought and follow before then, less what they skipped or
    said "not interested" to, mixed with trending and freshness; creators spread out and
    fresh videos given their share of the first page (`first_page` videos). One
    statement."""
    size = size or settings.FEED_SNAPSHOT_SIZE
    parameters = for_you_parameters(
        user_id=user_id, as_of=as_of or timezone.now(), size=size + DIVERSITY_LOOKAHEAD
    )
    with connection.cursor() as cursor:
        cursor.execute(FOR_YOU_SQL, parameters)
        ranked = [Ranked(*row) for row in cursor.fetchall()]
    return spread(ranked, first_page=first_page, fresh_share=settings.FEED_FRESH_SHARE)[:size]
