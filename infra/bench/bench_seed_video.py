"""Reset the bench database's video tables and seed them; print what run.py needs.

Run by run.py in a subprocess (DJANGO_SETTINGS_MODULE=bench_settings, `services/video` as
working directory and on the path, VIDEO_DATABASE_URL pointing at `clipcart_video_bench`).
Prints one JSON object on its last stdout line: the published videos, newest first, each
with its tags as `[tag_id, product_id]` pairs.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

import django

FEED_VIDEOS = 20
TAGS_PER_VIDEO = 5
CREATORS = 5
VIDEO_MS = 30_000
STOCK_STATUSES = ("in_stock", "in_stock", "low_stock", "in_stock", "out_of_stock")


def main() -> int:
    database = os.environ.get("VIDEO_DATABASE_URL", "")
    if not database.rstrip("/").split("?")[0].endswith("/clipcart_video_bench"):
        print(f"refusing to seed {database!r}: not the bench database", file=sys.stderr)
        return 2
    django.setup()

    from django.db import connection, transaction
    from django.utils import timezone

    from clipcart_shared.idempotency.models import IdempotencyKey
    from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
    from clipcart_shared.pages import pages_version_bump
    from creators.models import Creator
    from discovery.models import FeedSnapshot, ForYouRanking, VideoTrend
    from engagement.models import DailyVideoStats, EngagementEvent
    from productcards.models import ProductCard, ProductSocialProof
    from videos.models import ProductTag, Video

    wiped = [
        EngagementEvent,
        DailyVideoStats,
        ProductTag,
        Video,
        Creator,
        ProductCard,
        OutboxEvent,
        ProcessedEvent,
        IdempotencyKey,
        # Rankings name videos by id in arrays (no foreign key): a last run's trending
        # snapshot would list videos this run no longer has (and the feed 0 of them).
        ForYouRanking,
        FeedSnapshot,
        VideoTrend,
        ProductSocialProof,
    ]
    now = timezone.now()
    with transaction.atomic():
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in wiped)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")

        creators = Creator.objects.bulk_create(
            [
                Creator(
                    user_id=f"bench-creator-{n}",
                    handle=f"bench_creator_{n}",
                    display_name=f"Bench Creator {n}",
                    avatar_url=f"https://img.example.com/bench/avatar-{n}.jpg",
                )
                for n in range(CREATORS)
            ]
        )
        merchant_id = uuid.uuid4()
        # The read model as catalog's `product.changed` events leave it: one active card
        # for every tagged product, so every tag shows.
        cards = ProductCard.objects.bulk_create(
            [
                ProductCard(
                    product_id=uuid.uuid4(),
                    merchant_id=merchant_id,
                    merchant_name="Bench Outfitters",
                    title=f"Bench Product {n:03d}",
                    image=f"https://img.example.com/bench/product-{n:03d}.jpg",
                    price_amount=1990 + 100 * (n % 7),
                    currency="EUR",
                    stock_status=STOCK_STATUSES[n % len(STOCK_STATUSES)],
                    status="active",
                    source_time=datetime(2026, 1, 1, tzinfo=UTC),
                )
                for n in range(FEED_VIDEOS * TAGS_PER_VIDEO)
            ]
        )
        videos = Video.objects.bulk_create(
            [
                Video(
                    creator=creators[n % CREATORS],
                    stream_url=f"https://cdn.example.com/bench/{n:03d}.m3u8",
                    thumbnail_url=f"https://cdn.example.com/bench/{n:03d}.jpg",
                    caption=f"Bench video {n:03d}: five things I take everywhere #bench",
                    duration_ms=VIDEO_MS,
                    status=Video.Status.PUBLISHED,
                    published_at=now - timedelta(minutes=n),
                )
                for n in range(FEED_VIDEOS)
            ]
        )

        def tag(video: Video, position: int, card: ProductCard) -> ProductTag:
            start = position * 5000
            # Every other tag follows its product through three keyframes.
            keyframes = (
                [
                    {"t_ms": start + step * 1000, "x": 0.2 + 0.2 * step, "y": 0.5}
                    for step in range(3)
                ]
                if position % 2
                else []
            )
            return ProductTag(
                video=video,
                product_id=card.product_id,
                merchant_id=card.merchant_id,
                start_ms=start,
                end_ms=start + 4000,
                x=0.5,
                y=0.5,
                keyframes=keyframes,
                created_by="bench",
            )

        tags = ProductTag.objects.bulk_create(
            [
                tag(video, position, cards[v * TAGS_PER_VIDEO + position])
                for v, video in enumerate(videos)
                for position in range(TAGS_PER_VIDEO)
            ]
        )
    pages_version_bump()  # no page stored from the last run's rows is served
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    tags_by_video: dict[uuid.UUID, list[list[str]]] = {video.id: [] for video in videos}
    for product_tag in tags:
        tags_by_video[product_tag.video_id].append(
            [str(product_tag.id), str(product_tag.product_id)]
        )
    print(json.dumps({"videos": [{"id": str(v.id), "tags": tags_by_video[v.id]} for v in videos]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
