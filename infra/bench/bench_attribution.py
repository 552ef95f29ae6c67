"""Attribution bench, part 1: seed and time, in the bench database (run by run.py).

Run in a subprocess like the seed scripts (DJANGO_SETTINGS_MODULE=bench_settings,
`services/video` as working directory, VIDEO_DATABASE_URL pointing at
`clipcart_video_attribution_bench`). It fills the database in SQL: 2,000 videos by 200
creators tagging 1,000 products, 1,000,000 engagement events of 20,000 users over ten
days, and 100,000 paid lines (most bought after a click of their buyer, some not). Then:

1. the floor: plain-SQL last touch (the buyer's latest click on a video tagging the
   product, inside 7 days: one LATERAL subquery per line), into a temporary table;
2. the real thing: `attribution.services.lines_attribute` over every line, in chunks of
   2,000, writing every model's credits;
3. checks: every (line, model) adds up to the line amount, and wherever the floor found a
   click, last touch credits the same video.

Prints progress on stderr and one JSON object on its last stdout line.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid

import django

CREATORS = 200
VIDEOS = 2000
PRODUCTS = 1000
USERS = 20_000
EVENTS = 1_000_000
LINES = 100_000
CHUNK = 2000
SAMPLE_ORDERS = 200  # (user, product) pairs run.py sends as order.paid to the worker


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main() -> int:
    database = os.environ.get("VIDEO_DATABASE_URL", "")
    if not database.rstrip("/").split("?")[0].endswith("/clipcart_video_attribution_bench"):
        print(f"refusing to seed {database!r}: not the attribution bench database", file=sys.stderr)
        return 2
    django.setup()

    from django.db import connection, transaction

    from attribution.models import SaleLine
    from attribution.services import lines_attribute

    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        seed(cursor)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    say(f"seeded {EVENTS:,} events and {LINES:,} paid lines in {time.monotonic() - started:.1f} s")

    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(FLOOR)
        floor_seconds = time.perf_counter() - began
    say(f"plain-SQL last touch: {floor_seconds:.2f} s")

    began = time.perf_counter()
    credits = 0
    lines = SaleLine.objects.order_by("line_id")
    chunk = list(lines[:CHUNK])
    while chunk:
        # Keyset paging along the primary key: `line_id IN (2,000 ids)` made PostgreSQL
        # scan the whole table for each chunk (about 5 s of the run, none of it attribution).
        with transaction.atomic():
            credits += lines_attribute(chunk)
        chunk = list(lines.filter(line_id__gt=chunk[-1].line_id)[:CHUNK])
    attribution_seconds = time.perf_counter() - began
    say(f"lines_attribute, all five models: {attribution_seconds:.2f} s, {credits:,} credits")

    with connection.cursor() as cursor:
        cursor.execute(CHECKS)
        groups, wrong_sums, compared, disagreeing, attributed = cursor.fetchone()
        cursor.execute(SAMPLE, [SAMPLE_ORDERS])
        sample = [[user, str(product), str(merchant)] for user, product, merchant in cursor]
    print(
        json.dumps(
            {
                "lines": LINES,
                "events": EVENTS,
                "floor_seconds": floor_seconds,
                "attribution_seconds": attribution_seconds,
                "credits": credits,
                "line_model_groups": groups,
                "wrong_sums": wrong_sums,
                "compared_with_floor": compared,
                "disagreeing_with_floor": disagreeing,
                "attributed_lines": attributed,
                "sample": sample,
            }
        )
    )
    return 0


def seed(cursor: object) -> None:
    execute = cursor.execute  # type: ignore[attr-defined]
    execute(
        "TRUNCATE attribution_credittouch, attribution_saleline, attribution_refundreceived, "
        "engagement_engagementevent, videos_producttag, videos_video, creators_creator, "
        "productcards_productcard, outbox_processedevent CASCADE"
    )
    merchant = uuid.uuid4()
    execute(
        """
        INSERT INTO creators_creator (id, user_id, handle, display_name, avatar_url,
            commission_rate_bps, followers_count, created_at)
        SELECT gen_random_uuid(), 'bench-creator-' || n, 'bench_creator_' || n,
               'Bench Creator ' || n, '', 500 + 50 * (n %% 20), 0, now()
        FROM generate_series(1, %s) n
        """,
        [CREATORS],
    )
    execute(
        """
        INSERT INTO videos_video (id, creator_id, stream_url, thumbnail_url, caption,
            duration_ms, status, published_at, likes_count, created_at, updated_at)
        SELECT gen_random_uuid(), c.id, 'https://cdn.example.com/b.m3u8',
               'https://cdn.example.com/b.jpg', 'Bench video', 30000, 'published', now(),
               0, now(), now()
        FROM generate_series(1, %s) n
        JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM creators_creator) c
            ON c.k = 1 + n %% %s
        """,
        [VIDEOS, CREATORS],
    )
    execute(
        "CREATE TEMP TABLE bench_products AS "
        "SELECT n - 1 AS k, gen_random_uuid() AS id FROM generate_series(1, %s) n",
        [PRODUCTS],
    )
    execute(
        "CREATE TEMP TABLE bench_videos AS "
        "SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM videos_video"
    )
    # Two products a video: k and (7k + 3) mod PRODUCTS.
    execute(
        """
        INSERT INTO videos_producttag (id, video_id, product_id, variant_id, merchant_id,
            start_ms, end_ms, x, y, keyframes, created_by, created_at)
        SELECT gen_random_uuid(), v.id, p.id, NULL, %s, 0, 5000, 0.5, 0.5, '[]', 'bench', now()
        FROM bench_videos v
        JOIN bench_products p ON p.k = v.k %% %s OR p.k = (7 * v.k + 3) %% %s
        """,
        [merchant, PRODUCTS, PRODUCTS],
    )
    execute(
        """
        INSERT INTO engagement_engagementevent (event_id, user_id, type, video_id, tag_id,
            product_id, occurred_at, watch_ms, received_at)
        SELECT gen_random_uuid(), 'bench-user-' || e.u, e.type, v.id, NULL, NULL,
               now() - e.age, CASE WHEN e.type = 'view' THEN 5000 END, now()
        FROM (
            SELECT floor(random() * %s)::int AS u, floor(random() * %s)::int AS vk,
                   (ARRAY['view', 'view', 'view', 'view', 'tag_tap', 'tag_tap',
                          'product_view', 'add_to_cart', 'impression', 'impression'])
                       [1 + floor(random() * 10)::int] AS type,
                   random() * interval '10 days' AS age
            FROM generate_series(1, %s)
        ) e
        JOIN bench_videos v ON v.k = e.vk
        """,
        [USERS, VIDEOS, EVENTS],
    )
    # Nine lines in ten follow a click of their buyer by up to two days; the rest are
    # random buyers and products (mostly unattributed).
    execute(
        """
        INSERT INTO attribution_saleline (line_id, order_id, user_id, merchant_id, product_id,
            variant_id, quantity, amount, currency, paid_at, touch_count, recorded_at)
        SELECT gen_random_uuid(), gen_random_uuid(), s.user_id, %(merchant)s, s.product_id,
               gen_random_uuid(), 1 + floor(random() * 3)::int,
               500 + floor(random() * 20000)::int, 'EUR', s.paid_at, 0, now()
        FROM (
            SELECT e.user_id, t.product_id,
                   least(now(), e.occurred_at + random() * interval '2 days') AS paid_at
            FROM (
                SELECT user_id, video_id, occurred_at FROM engagement_engagementevent
                WHERE type IN ('tag_tap', 'product_view', 'add_to_cart')
                ORDER BY random() LIMIT %(followed)s
            ) e
            JOIN LATERAL (
                SELECT product_id FROM videos_producttag WHERE video_id = e.video_id LIMIT 1
            ) t ON true
            UNION ALL
            SELECT 'bench-user-' || floor(random() * %(users)s)::int, p.id,
                   now() - random() * interval '3 days'
            FROM generate_series(1, %(random)s) n
            JOIN bench_products p ON p.k = n %% %(products)s
        ) s
        """,
        {
            "merchant": merchant,
            "followed": LINES * 9 // 10,
            "random": LINES - LINES * 9 // 10,
            "users": USERS,
            "products": PRODUCTS,
        },
    )


FLOOR = """
CREATE TEMP TABLE bench_floor AS
SELECT l.line_id, t.video_id
FROM attribution_saleline l
LEFT JOIN LATERAL (
    SELECT e.video_id FROM engagement_engagementevent e
    WHERE e.user_id = l.user_id
      AND e.occurred_at BETWEEN l.paid_at - interval '7 days' AND l.paid_at
      AND e.type IN ('tag_tap', 'product_view', 'add_to_cart')
      AND EXISTS (
        SELECT 1 FROM videos_producttag t
        WHERE t.video_id = e.video_id AND t.product_id = l.product_id
      )
    ORDER BY e.occurred_at DESC
    LIMIT 1
) t ON true
"""

CHECKS = """
SELECT
    (SELECT count(*) FROM (SELECT 1 FROM attribution_credit GROUP BY sale_line_id, model) g),
    (SELECT count(*) FROM (
        SELECT c.sale_line_id FROM attribution_credit c
        JOIN attribution_saleline l ON l.line_id = c.sale_line_id
        GROUP BY c.sale_line_id, c.model, l.amount HAVING sum(c.amount) <> l.amount) w),
    (SELECT count(*) FROM bench_floor WHERE video_id IS NOT NULL),
    (SELECT count(*) FROM bench_floor f
     JOIN attribution_credit c ON c.sale_line_id = f.line_id AND c.model = 'last_touch'
     WHERE f.video_id IS NOT NULL AND c.video_id IS DISTINCT FROM f.video_id),
    (SELECT count(*) FROM attribution_saleline WHERE touch_count > 0)
"""

# Buyers and products with a recent click, for run.py's order.paid events.
SAMPLE = """
SELECT DISTINCT ON (e.user_id) e.user_id, t.product_id, t.merchant_id
FROM engagement_engagementevent e
JOIN videos_producttag t ON t.video_id = e.video_id
WHERE e.type = 'tag_tap' AND e.occurred_at > now() - interval '1 day'
ORDER BY e.user_id
LIMIT %s
"""


if __name__ == "__main__":
    sys.exit(main())
