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
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import django
from bench_discovery_world import (
    EVENT_COLUMNS,
    OPENERS,
    PRODUCT_NOUNS,
    SEED,
    GenCreator,
    GenProduct,
    GenVideo,
    Holdout,
    catalogue,
    engagement_log,
    people,
)

TOP = 10
RANKING_THREADS = 2


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main() -> int:
    database = os.environ.get("VIDEO_DATABASE_URL", "")
    if not database.rstrip("/").split("?")[0].endswith("/clipcart_video_discovery_bench"):
        print(f"refusing to seed {database!r}: not the discovery bench database", file=sys.stderr)
        return 2
    django.setup()

    from django.db import connection
    from django.utils import timezone

    from discovery.services import search_index_rebuild, trending_recompute

    rng = random.Random(SEED)
    # On the hour: the held-out times then fall at the same places within their hours
    # (where trending is recomputed) on every run.
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    started = time.monotonic()
    creators, products, videos = catalogue(rng, now)
    users = people(rng, creators)
    rows, holdouts, log = engagement_log(rng, now, videos, users)
    write(rng, now, creators, products, videos, rows)
    indexed = search_index_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(
        f"seeded {len(videos)} videos, {len(users)} users, {len(rows):,} events "
        f"({log['sessions']:,} sessions, {log['taps']:,} taps) in "
        f"{time.monotonic() - started:.1f} s"
    )

    evaluation = evaluate(videos, holdouts)

    trending_recompute(now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
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
            }
        )
    )
    return 0


# --------------------------------------------------------------------------- writing


def write(
    rng: random.Random,
    now: datetime,
    creators: list[GenCreator],
    products: list[GenProduct],
    videos: list[GenVideo],
    rows: list[tuple[Any, ...]],
) -> None:
    """Empty the bench database's video tables, then write the world and the log (the
    events with one COPY)."""
    from django.db import connection, transaction

    from attribution.models import Credit, SaleLine
    from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
    from creators.models import Creator
    from discovery.models import (
        FeedSnapshot,
        ProductSocialProof,
        SearchDocument,
        SearchTerm,
        VideoHashtag,
        VideoTrend,
    )
    from engagement.models import DailyVideoStats, EngagementEvent
    from productcards.models import ProductCard
    from videos.models import ProductTag, Video

    wiped = [
        Credit,
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
        statement = f"COPY {EngagementEvent._meta.db_table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for event in rows:
                copy.write_row((*event, now))


# --------------------------------------------------------------------------- evaluation


def evaluate(videos: list[GenVideo], holdouts: list[Holdout]) -> dict[str, Any]:
    from django.db import connection

    from discovery.models import FeedSnapshot
    from discovery.selectors import for_you_video_ids
    from discovery.services import trending_recompute

    published = {video.id: video.published_at for video in videos}
    newest_first = sorted(videos, key=lambda video: (video.published_at, video.id), reverse=True)
    hits = {"for_you": 0, "chronological": 0, "trending": 0}
    taste_hits = {"for_you": 0, "chronological": 0, "trending": 0}
    by_hour: dict[datetime, list[Holdout]] = defaultdict(list)
    for holdout in holdouts:
        by_hour[holdout.as_of.replace(minute=0, second=0, microsecond=0)].append(holdout)
    trending_seconds = for_you_seconds = 0.0
    began = time.monotonic()

    def rank(holdout: Holdout) -> tuple[list[uuid.UUID], float]:
        clock = time.perf_counter()
        ranking = for_you_video_ids(user_id=holdout.user_id, as_of=holdout.as_of, size=TOP)
        return ranking, time.perf_counter() - clock

    # The users of one hour are ranked side by side (a connection per thread): the time
    # is PostgreSQL's, and the bench machine has two cores.
    with ThreadPoolExecutor(RANKING_THREADS) as pool:
        for hour in sorted(by_hour):
            clock = time.perf_counter()
            snapshot: FeedSnapshot = trending_recompute(now=hour)
            trending_seconds += time.perf_counter() - clock
            ranked = list(pool.map(rank, by_hour[hour]))
            for holdout, (for_you, spent) in zip(by_hour[hour], ranked, strict=True):
                for_you_seconds += spent
                chronological = [v.id for v in newest_first if v.published_at <= holdout.as_of][
                    :TOP
                ]
                trending = [v for v in snapshot.video_ids if published[v] <= holdout.as_of][:TOP]
                for name, ranking in (
                    ("for_you", for_you),
                    ("chronological", chronological),
                    ("trending", trending),
                ):
                    if holdout.video_id in ranking:
                        hits[name] += 1
                        taste_hits[name] += holdout.matches_taste
        # Each thread's connection, before the threads go.
        list(pool.map(lambda _: connection.close(), range(4 * RANKING_THREADS)))
    seconds = time.monotonic() - began
    say(f"evaluated {len(holdouts)} held-out taps in {seconds:.1f} s")
    return {
        "users": len(holdouts),
        "hits": hits,
        "matching_taste": sum(holdout.matches_taste for holdout in holdouts),
        "hits_matching_taste": taste_hits,
        "trending_recomputes": len(by_hour),
        "trending_seconds": trending_seconds,
        "for_you_seconds": for_you_seconds,
        "ranking_threads": RANKING_THREADS,
        "seconds": seconds,
    }


# --------------------------------------------------------------------------- search


def search_queries(creators: list[GenCreator]) -> list[str]:
    """What the throughput part searches for, in turn: handles, hashtags, caption and
    product words, two-word queries, prefixes, and handles and hashtags one letter off."""
    return [
        creators[0].handle,
        creators[7].handle.split("_")[0],
        "#skincare",
        "airfryer",
        "honest review",
        "serum",
        "ootd",
        "desk",
        "backpack hiking",
        creators[0].handle.replace("beauty", "beuty"),  # a typo of a handle
        "streetwaer",  # of #streetwear
        "homedecr",  # of #homedecor
    ]


if __name__ == "__main__":
    sys.exit(main())
