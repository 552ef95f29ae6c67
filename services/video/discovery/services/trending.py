"""The periodic trending recompute: trending scores and snapshot, social proof, products
bought together, and dropping old feed snapshots."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from attribution.models import Credit, SaleLine
from clipcart_shared.pages import pages_version_bump
from discovery.models import FeedSnapshot, ProductPairing, VideoTrend
from discovery.ranking import EVENT_WEIGHT_SQL
from engagement.models import EngagementEvent
from productcards.models import ProductSocialProof
from videos.models import Video

logger = logging.getLogger(__name__)

PURCHASE_WEIGHT = 10.0
TREND_WINDOW = timedelta(hours=48)
TREND_HALF_LIFE = timedelta(hours=12)
SOCIAL_PROOF_WINDOW = timedelta(days=30)
PAIRING_WINDOW = timedelta(days=90)

_TRENDS = f"""
INSERT INTO {VideoTrend._meta.db_table} (video_id, score, computed_at)
SELECT signal.video_id, sum(signal.weight * power(0.5,
        extract(epoch FROM %(now)s - signal.occurred_at) / %(half_life)s)), %(now)s
FROM (
    SELECT e.video_id, e.occurred_at, {EVENT_WEIGHT_SQL} AS weight
    FROM {EngagementEvent._meta.db_table} e
    WHERE e.occurred_at > %(since)s AND e.occurred_at <= %(now)s AND e.type <> 'impression'
    UNION ALL
    -- A purchase counts for the video it is credited to (last touch).
    SELECT credit.video_id, credit.paid_at, {PURCHASE_WEIGHT}
    FROM {Credit._meta.db_table} credit
    WHERE credit.paid_at > %(since)s AND credit.paid_at <= %(now)s
        AND credit.model = 'last_touch' AND credit.refund_id IS NULL
        AND credit.video_id IS NOT NULL
) signal
JOIN {Video._meta.db_table} video ON video.id = signal.video_id AND video.status = 'published'
GROUP BY signal.video_id
"""

# The trending feed: scored videos first, then every other published one, newest first.
_TRENDING_SNAPSHOT = f"""
INSERT INTO {FeedSnapshot._meta.db_table} (id, mode, user_id, video_ids, created_at)
SELECT %(id)s, 'trending', NULL, ARRAY(
    SELECT video.id
    FROM {Video._meta.db_table} video
    LEFT JOIN {VideoTrend._meta.db_table} trend ON trend.video_id = video.id
    WHERE video.status = 'published'
    ORDER BY trend.score DESC NULLS LAST, video.published_at DESC, video.id DESC
    LIMIT %(size)s
), %(now)s
"""

_SOCIAL_PROOF = f"""
INSERT INTO {ProductSocialProof._meta.db_table} (product_id, units_30d)
SELECT product_id, sum(quantity)
FROM {SaleLine._meta.db_table}
WHERE paid_at > %(since)s AND touch_count > 0
GROUP BY product_id
"""


# Products bought by the same buyer (in one order or several), each pair both ways.
_PAIRINGS = f"""
INSERT INTO {ProductPairing._meta.db_table} (product_id, other_product_id, buyers)
SELECT one.product_id, other.product_id, count(DISTINCT one.user_id)
FROM {SaleLine._meta.db_table} one
JOIN {SaleLine._meta.db_table} other
    ON other.user_id = one.user_id AND other.product_id <> one.product_id
    AND other.paid_at > %(since)s AND other.paid_at <= %(now)s
WHERE one.paid_at > %(since)s AND one.paid_at <= %(now)s
GROUP BY one.product_id, other.product_id
"""


@transaction.atomic
def trending_recompute(*, now: datetime | None = None) -> FeedSnapshot:
    """Score every video on its last 48 hours (views, taps, add-to-carts, likes, shares and
    attributed purchases, halved every 12 hours of age), write the trending feed's new
    snapshot, recount units sold through videos and products bought together, and drop
    snapshots no cursor should still use."""
    now = now or timezone.now()
    snapshot_id = uuid.uuid4()
    with connection.cursor() as cursor:
        # One recompute at a time (the scheduler's and a cold start's): both rewrite the
        # same rows.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('discovery.trending_recompute'))")
        cursor.execute(f"DELETE FROM {VideoTrend._meta.db_table}")
        cursor.execute(
            _TRENDS,
            {
                "now": now,
                "since": now - TREND_WINDOW,
                "half_life": TREND_HALF_LIFE.total_seconds(),
            },
        )
        cursor.execute(
            _TRENDING_SNAPSHOT,
            {"id": snapshot_id, "now": now, "size": settings.FEED_SNAPSHOT_SIZE},
        )
        cursor.execute(f"DELETE FROM {ProductSocialProof._meta.db_table}")
        cursor.execute(_SOCIAL_PROOF, {"since": now - SOCIAL_PROOF_WINDOW})
        cursor.execute(f"DELETE FROM {ProductPairing._meta.db_table}")
        cursor.execute(_PAIRINGS, {"since": now - PAIRING_WINDOW, "now": now})
    dropped, _ = FeedSnapshot.objects.filter(
        created_at__lt=now - timedelta(seconds=settings.FEED_SNAPSHOT_SECONDS)
    ).delete()
    pages_version_bump()  # a new trending snapshot
    logger.info("Trending recomputed", extra={"snapshot_id": str(snapshot_id), "dropped": dropped})
    return FeedSnapshot.objects.get(id=snapshot_id)
