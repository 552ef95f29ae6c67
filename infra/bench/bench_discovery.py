"""Discovery bench, part 1: generate an engagement log and evaluate "for you" offline.

Run by run.py in a subprocess like the seed scripts (DJANGO_SETTINGS_MODULE=bench_settings,
`services/video` as working directory, VIDEO_DATABASE_URL pointing at
`clipcart_video_discovery_bench`, migrated). With a seeded RNG, so the log, and the
figure, are the same on every run (times are relative to the start of the run):

- 30 creators in 8 topics, 40 hashtags (5 a topic), 12 merchants with 20 products each;
  600 published videos over the last 20 days, each by a creator, with 1-3 hashtags in
  its caption (mostly of its creator's topic) and 1-2 tagged products;
- 300 users, each with hidden tastes: one or two topics, 2-4 favourite creators and 3-5
  favourite hashtags (mostly of those topics). Each has 4-30 sessions over the last 14
  days; a session shows 8-15 videos the user has never been shown, picked by a mix of
  what the crowd watches (a Zipf popularity over videos, fading with age), what is new,
  and (a quarter of the slots) what the user follows (a favourite creator or hashtag).
  Every video shown is an impression; it is watched (a view, watch_ms) more often, and
  longer, when it matches the user's tastes; a watched video's product is tapped with a
  probability that grows with the match (a favourite creator, each favourite hashtag) and
  a little with the video's popularity; a tap is sometimes followed by a product view,
  and that by an add-to-cart.

Held out: each user's last tag tap. The evaluation time `as_of` is one second before that
tap's session starts; that session's events are not written (the user's later sessions,
which have no tap, are). A user is never shown a video twice, so the held-out video is
one the user had no event with before. Then, for each user, hit at 10: is the held-out
video in the top 10 of
  (a) "for you": `discovery.selectors.for_you_video_ids(user_id, as_of=as_of, size=10)`;
  (b) chronological: the 10 newest videos published at or before `as_of`;
  (c) trending: the trending snapshot's order, videos published after `as_of` left out.
Trending (`trending_recompute(now=...)`) is recomputed once per hour that holds an
`as_of`, at the start of that hour (never after any `as_of` it serves: no look-ahead);
"for you" reads the same scores. Hashtags come from `search_index_rebuild()` beforehand.

Then it leaves the database ready for the throughput part: trending recomputed as of now
and the search index built. Prints progress on stderr and one JSON object on its last
stdout line.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from datetime import datetime
from typing import Any

import django
from discovery_evaluation import evaluate
from discovery_log import engagement_log
from discovery_world import (
    OPENERS,
    PRODUCT_NOUNS,
    SEED,
    GenCreator,
    GenProduct,
    GenVideo,
    catalogue,
    new_id,
    pairs,
    people,
    say,
    search_queries,
)

from harness.setup import EVENT_COLUMNS


def main() -> int:
    database = os.environ.get("VIDEO_DATABASE_URL", "")
    if not database.rstrip("/").split("?")[0].endswith("/clipcart_video_discovery_bench"):
        print(f"refusing to seed {database!r}: not the discovery bench database", file=sys.stderr)
        return 2
    django.setup()

    from django.db import connection
    from django.utils import timezone

    from discovery.services import (
        for_you_rankings_refresh,
        search_index_rebuild,
        trending_recompute,
    )

    rng = random.Random(SEED)
    # On the hour: the held-out times then fall at the same places within their hours
    # (where trending is recomputed) on every run.
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    started = time.monotonic()
    creators, products, videos = catalogue(rng, now)
    users = people(rng, creators)
    partners = pairs(rng, products)
    rows, holdouts, log, extras = engagement_log(rng, now, videos, users, partners)
    write(rng, now, creators, products, videos, rows, extras)
    indexed = search_index_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(
        f"seeded {len(videos)} videos, {len(users)} users, {len(rows):,} events "
        f"({log['sessions']:,} sessions, {log['taps']:,} taps, {log['likes']:,} likes, "
        f"{log['shares']:,} shares, {log['skips']:,} skips, {log['dismissals']:,} not "
        f"interested, {log['follows']:,} follows, {log['purchases']:,} purchases) in "
        f"{time.monotonic() - started:.1f} s"
    )

    evaluation = evaluate(videos, holdouts, extras["dismissed_creators"])

    trending_recompute(now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # What the worker does every FOR_YOU_RANK_SECONDS for the users active lately
    # (discovery.tasks.for_you_rankings_refresh): each user's "for you" ranked ahead and
    # kept, so that their next first page is one read.
    ranking_started = time.monotonic()
    ranked_ahead = for_you_rankings_refresh(user_ids=[user.id for user in users])
    ranked_seconds = time.monotonic() - ranking_started
    print(
        json.dumps(
            {
                "videos": len(videos),
                "users": [user.id for user in users],
                "events": len(rows),
                "sessions": log["sessions"],
                "taps": log["taps"],
                "documents": indexed,
                "evaluation": evaluation,
                "queries": search_queries(creators),
                "ranked_ahead": {"users": ranked_ahead, "seconds": ranked_seconds},
            }
        )
    )
    return 0


def write(
    rng: random.Random,
    now: datetime,
    creators: list[GenCreator],
    products: list[GenProduct],
    videos: list[GenVideo],
    rows: list[tuple[Any, ...]],
    extras: dict[str, Any],
) -> None:
    """Empty the bench database's video tables, then write the world and the log (the
    events with one COPY), the follows, "not interested" and the sales."""
    from django.db import connection, transaction

    from attribution.models import CreditTouch, SaleLine
    from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
    from creators.models import Creator, Follow
    from discovery.models import (
        FeedSnapshot,
        NotInterested,
        ProductPairing,
        SearchDocument,
        SearchTerm,
        VideoHashtag,
        VideoTrend,
    )
    from engagement.models import DailyVideoStats, EngagementEvent, VideoLike
    from productcards.models import ProductCard, ProductSocialProof
    from videos.models import ProductTag, Video

    wiped = [
        Follow,
        NotInterested,
        ProductPairing,
        VideoLike,
        CreditTouch,
        SaleLine,
        EngagementEvent,
        DailyVideoStats,
        FeedSnapshot,
        VideoTrend,
        ProductSocialProof,
        SearchDocument,
        SearchTerm,
        VideoHashtag,
        ProductTag,
        Video,
        Creator,
        ProductCard,
        OutboxEvent,
        ProcessedEvent,
    ]
    cards = [
        ProductCard(
            product_id=product.id,
            merchant_id=product.merchant_id,
            merchant_name=f"{product.topic.title()} Supply {product.merchant}",
            title=product.title,
            image=f"https://img.example.com/discovery/product-{n}.jpg",
            price_amount=990 + 100 * rng.randrange(60),
            currency="EUR",
            stock_status="in_stock",
            category_slug=product.topic,
            status="active",
            source_time=now,
        )
        for n, product in enumerate(products)
    ]
    merchants = {product.id: product.merchant_id for product in products}
    with transaction.atomic():
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in wiped)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        Creator.objects.bulk_create(
            [
                Creator(
                    id=creator.id,
                    user_id=f"bench-discovery-creator-{n}",
                    handle=creator.handle,
                    display_name=creator.handle.replace(".", " ").title(),
                    avatar_url=f"https://img.example.com/discovery/avatar-{n}.jpg",
                )
                for n, creator in enumerate(creators)
            ]
        )
        ProductCard.objects.bulk_create(cards)
        Video.objects.bulk_create(
            [
                Video(
                    id=video.id,
                    creator_id=creators[video.creator].id,
                    stream_url=f"https://cdn.example.com/discovery/{n:03d}.m3u8",
                    thumbnail_url=f"https://cdn.example.com/discovery/{n:03d}.jpg",
                    caption=f"{rng.choice(OPENERS)}: my {rng.choice(PRODUCT_NOUNS[video.topic])} "
                    + " ".join(f"#{tag}" for tag in video.hashtags),
                    duration_ms=video.duration_ms,
                    status=Video.Status.PUBLISHED,
                    published_at=video.published_at,
                )
                for n, video in enumerate(videos)
            ]
        )
        ProductTag.objects.bulk_create(
            [
                ProductTag(
                    id=tag_id,
                    video_id=video.id,
                    product_id=product_id,
                    merchant_id=merchants[product_id],
                    start_ms=1000 * position,
                    end_ms=1000 * position + 4000,
                    x=0.5,
                    y=0.5,
                    created_by="bench",
                )
                for video in videos
                for position, (tag_id, product_id) in enumerate(video.tags)
            ]
        )
        Follow.objects.bulk_create(
            [
                Follow(user_id=user_id, creator_id=creators[creator].id, created_at=at)
                for user_id, creator, at in extras["follows"]
            ]
        )
        NotInterested.objects.bulk_create(
            [
                NotInterested(user_id=user_id, video_id=video_id, reason="creator", created_at=at)
                for user_id, video_id, _, at in extras["dismissed"]
            ],
            ignore_conflicts=True,
        )
        tags = {
            (video.id, product_id): tag_id for video in videos for tag_id, product_id in video.tags
        }
        SaleLine.objects.bulk_create(
            [
                SaleLine(
                    line_id=new_id(rng),
                    order_id=uuid.uuid5(uuid.NAMESPACE_OID, f"{user_id}-{paid_at.isoformat()}"),
                    user_id=user_id,
                    merchant_id=merchants[product_id],
                    product_id=product_id,
                    variant_id=product_id,
                    quantity=1,
                    amount=2990,
                    currency="EUR",
                    paid_at=paid_at,
                    source_video_id=video_id,
                    source_tag_id=tags.get((video_id, product_id)),
                    touch_count=1,
                )
                for user_id, product_id, video_id, paid_at in extras["sales"]
            ]
        )
        statement = f"COPY {EngagementEvent._meta.db_table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for event in rows:
                copy.write_row((*event, now))


if __name__ == "__main__":
    sys.exit(main())
