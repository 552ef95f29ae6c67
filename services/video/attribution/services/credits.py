"""Credits: every paid line credited under every model in one statement (`lines_attribute`,
held row for row to `attribution.allocation` by tests/test_attribution_statement.py), and
the binary COPY that writes reversing credits (`credits_insert`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import psycopg
from django.db import connection

from attribution.allocation import (
    DECAY_SCALE,
    TIME_DECAY_HALF_LIFE,
)
from attribution.models import (
    MAX_BPS,
    AttributionModel,
    CreatorCodeRule,
    CreditTouch,
    MerchantAttributionSettings,
    ProductCommissionRate,
    SaleLine,
)
from creators.models import Creator
from engagement.models import EngagementEvent
from videos.models import ProductTag, Video

logger = logging.getLogger(__name__)


MODELS = tuple(AttributionModel.values)
DEFAULT_WINDOWS = MerchantAttributionSettings()  # the model's defaults, never saved

# A credit as the refund code builds it (one model's part of one touch), in this order.
CREDIT_COLUMNS = (
    ("sale_line_id", "uuid"),
    ("model", "text"),
    ("position", "int2"),
    ("refund_id", "uuid"),
    ("video_id", "uuid"),
    ("creator_id", "uuid"),
    ("touch_type", "text"),
    ("touched_at", "timestamptz"),
    ("merchant_id", "uuid"),
    ("product_id", "uuid"),
    ("currency", "text"),
    ("amount", "int4"),
    ("commission_rate_bps", "int4"),
    ("commission_amount", "int4"),
    ("occurred_at", "timestamptz"),
    ("paid_at", "timestamptz"),
    ("is_self_purchase", "bool"),
)
CreditRow = tuple[Any, ...]
_TOUCH = CreditTouch._meta.db_table
# What a stored touch row holds besides the models' columns (`CreditTouch`).
_TOUCH_COLUMNS = (
    ("sale_line_id", "uuid"),
    ("position", "int2"),
    ("refund_id", "uuid"),
    ("video_id", "uuid"),
    ("creator_id", "uuid"),
    ("touch_type", "text"),
    ("touched_at", "timestamptz"),
    ("merchant_id", "uuid"),
    ("product_id", "uuid"),
    ("currency", "text"),
    ("commission_rate_bps", "int4"),
    ("occurred_at", "timestamptz"),
    ("paid_at", "timestamptz"),
    ("is_self_purchase", "bool"),
)
_MODEL_COLUMNS = tuple(
    (f"{model}_{part}", "int4") for model in MODELS for part in ("amount", "commission")
)
_ROW_COLUMNS = _TOUCH_COLUMNS + _MODEL_COLUMNS
_NAMES = ", ".join(name for name, _ in _ROW_COLUMNS)
# How many credits (models with an amount) a stored row holds.
_CREDITS_IN_ROW = f"num_nonnulls({', '.join(f'{model}_amount' for model in MODELS)})"
# Reversals are copied (binary COPY) into a temporary table, then inserted from it: a row
# already written (the same line, position and refund) is left alone.
_CREATE_BATCH = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS attribution_credit_touch_batch "
    f"({', '.join(f'{name} {kind}' for name, kind in _ROW_COLUMNS)}) ON COMMIT DELETE ROWS"
)
_INSERT_BATCH = f"""
WITH written AS (
    INSERT INTO {_TOUCH} ({_NAMES}, created_at)
    SELECT {_NAMES}, now() FROM attribution_credit_touch_batch
    ON CONFLICT DO NOTHING
    RETURNING {_CREDITS_IN_ROW} AS credits
)
SELECT coalesce(sum(credits), 0) FROM written
"""
# Each model's integer weight of a touch `p` of a line `l` (`attribution.allocation`; zero
# weights never get a unit, see `clipcart_shared.money.allocate`); time decay in float8,
# as Python computes it.
_WEIGHTS: dict[str, str] = {
    AttributionModel.LAST_TOUCH: "(p.position = p.touches - 1)::int",
    AttributionModel.FIRST_TOUCH: "(p.position = 0)::int",
    AttributionModel.LINEAR: "1",
    AttributionModel.TIME_DECAY: (
        "greatest(round(%(decay_scale)s::float8 * power(2::float8,"
        " -extract(epoch FROM l.paid_at - p.occurred_at)::float8"
        " / %(half_life)s::float8)), 1)"
    ),
    AttributionModel.POSITION_BASED: (
        "CASE WHEN p.touches <= 2 OR p.position BETWEEN 1 AND p.touches - 2"
        " THEN 1 ELSE 2 * (p.touches - 2) END"
    ),
}
_EACH = ",\n       ".join


def _per_model(template: str) -> str:
    return _EACH(template.format(m=model) for model in MODELS)


# Every paid line's credits under every model, computed and written in one statement
# (the same rules as `attribution.allocation`, which stays the reference the tests hold
# this statement to). Steps, one CTE each:
# - line: the lines, with each window's start computed in Python (`paid_at - window`),
#   the published videos tagging the product, and whether the cart line's source counts
#   (its video published and tagging the product, its tag, when given, one of those);
#   a creator code's video (the creator's latest published before the payment tagging
#   the product) and its touch's time (`code_at`, by the merchant's `creator_code_rule`);
# - candidate: the buyer's views and clicks on published videos tagging the line's
#   product, inside the longer window, along the (user, time) index; plus the cart
#   line's source when it counts, and the creator code's click when it has a video;
# - eligible: inside the window of its kind, and only clicks when there is any;
# - path: consecutive touches on one video collapsed to the latest of the run, in the
#   order `Touch` sorts in (time, video, type; "C" collation, as Python compares);
# - weighted: each model's integer weight of each touch, one column per model
#   (`_WEIGHTS`); time decay in float8, as Python computes it;
# - parted, split, shared: per model, largest remainder in numeric (exact: amount x
#   weight can pass 2^63), ties to the earlier touch, a touch of zero weight left empty
#   (it never gets a unit, see `clipcart_shared.money.allocate`); then the rate (the
#   product's, else the creator's; zero when the buyer is the video's creator, a
#   self-purchase); an unattributed line gets one row, its amount in every model;
# - written: one row per (line, touch) with each model's amount and commission (rounded
#   half up) as columns (`CreditTouch`; a row already there is left alone); touch
#   counts updated.
_ATTRIBUTE = f"""
WITH line AS MATERIALIZED (
    SELECT l.line_id, l.user_id, l.product_id, l.merchant_id, l.amount, l.currency,
           l.paid_at, l.source_video_id, l.source_added_at, w.click_since, w.view_since,
           w.code_at,
           -- CASE: the lookup only for a line with a code (most have none).
           CASE WHEN l.code_creator_id IS NOT NULL THEN (
               SELECT v.id FROM {Video._meta.db_table} v
               JOIN {ProductTag._meta.db_table} t ON t.video_id = v.id
               WHERE v.creator_id = l.code_creator_id AND t.product_id = l.product_id
                 AND v.status = '{Video.Status.PUBLISHED}' AND v.published_at <= l.paid_at
               ORDER BY v.published_at DESC, v.id DESC LIMIT 1
           ) END AS code_video_id,
           ARRAY(
               SELECT t.video_id FROM {ProductTag._meta.db_table} t
               JOIN {Video._meta.db_table} v ON v.id = t.video_id
               WHERE t.product_id = l.product_id AND v.status = '{Video.Status.PUBLISHED}'
           ) AS tagging_videos,
           EXISTS (
               SELECT 1 FROM {ProductTag._meta.db_table} t
               JOIN {Video._meta.db_table} v ON v.id = t.video_id
               WHERE t.video_id = l.source_video_id AND t.product_id = l.product_id
                 AND (l.source_tag_id IS NULL OR t.id = l.source_tag_id)
                 AND v.status = '{Video.Status.PUBLISHED}'
           ) AS source_counts
    FROM unnest(%(line_ids)s::uuid[], %(click_since)s::timestamptz[],
                %(view_since)s::timestamptz[], %(code_at)s::timestamptz[])
         AS w(line_id, click_since, view_since, code_at)
    -- LIMIT keeps the lookup a loop over the primary key (the planner would rather
    -- scan the whole table for a few thousand ids).
    CROSS JOIN LATERAL (
        SELECT * FROM {SaleLine._meta.db_table} l WHERE l.line_id = w.line_id LIMIT 1
    ) l
),
candidate AS (
    SELECT l.line_id, e.occurred_at, e.video_id, e.type::text AS type
    FROM line l
    JOIN {EngagementEvent._meta.db_table} e
        ON e.user_id = l.user_id
       AND e.occurred_at BETWEEN least(l.click_since, l.view_since) AND l.paid_at
    WHERE e.type IN ('view', 'tag_tap', 'product_view', 'add_to_cart')
      AND e.video_id = ANY(l.tagging_videos)
    UNION ALL
    SELECT line_id, source_added_at, source_video_id, 'cart_line'
    FROM line
    WHERE source_video_id IS NOT NULL AND source_added_at IS NOT NULL AND source_counts
    UNION ALL
    SELECT line_id, code_at, code_video_id, 'creator_code'
    FROM line
    WHERE code_video_id IS NOT NULL
),
eligible AS (
    SELECT c.line_id, c.occurred_at, c.video_id, c.type, c.type <> 'view' AS is_click
    FROM candidate c JOIN line l ON l.line_id = c.line_id
    WHERE c.occurred_at <= l.paid_at
      AND c.occurred_at >= CASE WHEN c.type <> 'view' THEN l.click_since ELSE l.view_since END
),
chosen AS (
    SELECT line_id, occurred_at, video_id, type,
           lead(video_id) OVER (PARTITION BY line_id
                                ORDER BY occurred_at, video_id, type COLLATE "C") AS next_video
    FROM (
        SELECT e.*, bool_or(is_click) OVER (PARTITION BY line_id) AS has_click FROM eligible e
    ) e
    WHERE is_click = has_click
),
path AS MATERIALIZED (
    SELECT line_id, occurred_at, video_id, type,
           row_number() OVER (PARTITION BY line_id
                              ORDER BY occurred_at, video_id, type COLLATE "C") - 1 AS position,
           count(*) OVER (PARTITION BY line_id) AS touches
    FROM chosen
    WHERE next_video IS DISTINCT FROM video_id
),
weighted AS (
    SELECT p.*, l.amount,
       {_EACH(f"({_WEIGHTS[model]})::numeric AS w_{model}" for model in MODELS)}
    FROM path p JOIN line l ON l.line_id = p.line_id
),
parted AS (
    SELECT w.*,
       {_per_model("div(w.amount * w.w_{m}, sum(w.w_{m}) OVER per_line) AS part_{m}")},
       {_per_model("mod(w.amount * w.w_{m}, sum(w.w_{m}) OVER per_line) AS rem_{m}")}
    FROM weighted w
    WINDOW per_line AS (PARTITION BY line_id)
),
split AS (
    SELECT s.*,
       {_per_model("s.amount - sum(s.part_{m}) OVER per_line AS left_{m}")},
       {
    _per_model(
        "row_number() OVER (PARTITION BY s.line_id"
        " ORDER BY s.w_{m} > 0 DESC, s.rem_{m} DESC, s.position) AS rank_{m}"
    )
}
    FROM parted s
    WINDOW per_line AS (PARTITION BY line_id)
),
shared AS (
    SELECT s.line_id, s.position, s.video_id, v.creator_id, s.type,
           s.occurred_at AS touched_at,
           {
    _per_model(
        "CASE WHEN s.w_{m} > 0"
        " THEN (s.part_{m} + (s.rank_{m} <= s.left_{m})::int)::bigint END AS {m}"
    )
},
           CASE WHEN c.user_id = l.user_id THEN 0
                WHEN r.rate_bps IS NULL OR v.creator_id IS NULL
                THEN coalesce(c.commission_rate_bps, 0) ELSE r.rate_bps END AS rate,
           coalesce(c.user_id = l.user_id, false) AS is_self_purchase
    FROM split s
    JOIN line l ON l.line_id = s.line_id
    LEFT JOIN {Video._meta.db_table} v ON v.id = s.video_id
    LEFT JOIN {Creator._meta.db_table} c ON c.id = v.creator_id
    LEFT JOIN {ProductCommissionRate._meta.db_table} r ON r.product_id = l.product_id
    UNION ALL
    SELECT l.line_id, 0, NULL, NULL, '', NULL,
           {_EACH("l.amount" for _ in MODELS)}, 0, false
    FROM line l
    WHERE NOT EXISTS (SELECT 1 FROM path p WHERE p.line_id = l.line_id)
),
written AS (
    INSERT INTO {_TOUCH} ({_NAMES}, created_at)
    SELECT s.line_id, s.position, NULL, s.video_id, s.creator_id, s.type, s.touched_at,
           l.merchant_id, l.product_id, l.currency, s.rate, l.paid_at, l.paid_at,
           s.is_self_purchase,
           {_per_model(f"s.{{m}}, (2 * s.{{m}} * s.rate + {MAX_BPS}) / (2 * {MAX_BPS})")},
           now()
    FROM shared s JOIN line l ON l.line_id = s.line_id
    ON CONFLICT DO NOTHING
    RETURNING {_CREDITS_IN_ROW} AS credits
),
counted AS (
    SELECT l.line_id, coalesce(max(p.touches), 0) AS touch_count
    FROM line l LEFT JOIN path p ON p.line_id = l.line_id
    GROUP BY l.line_id
),
updated AS (
    UPDATE {SaleLine._meta.db_table} l SET touch_count = c.touch_count
    FROM counted c
    WHERE l.line_id = c.line_id AND l.touch_count <> c.touch_count
)
SELECT c.line_id, c.touch_count, (SELECT coalesce(sum(credits), 0) FROM written)
FROM counted c
"""


def credits_insert(rows: Sequence[CreditRow]) -> int:
    """Write credits (inside the caller's transaction), one stored row per (line,
    position, refund) holding every model's part. Returns how many credits were new."""
    if not rows:
        return 0
    stored: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        (line_id, model, position, refund_id, video_id, creator_id, touch_type, touched_at,
         merchant_id, product_id, currency, amount, rate, commission_amount, occurred_at,
         paid_at, is_self_purchase) = row  # fmt: skip
        key = (line_id, position, refund_id)
        if key not in stored:
            stored[key] = [
                line_id, position, refund_id, video_id, creator_id, touch_type, touched_at,
                merchant_id, product_id, currency, rate, occurred_at, paid_at, is_self_purchase,
            ] + [None] * len(_MODEL_COLUMNS)  # fmt: skip
        at = len(_TOUCH_COLUMNS) + 2 * MODELS.index(model)
        stored[key][at : at + 2] = [amount, commission_amount]
    connection.ensure_connection()
    # psycopg's own cursor for binary COPY: thousands of rows in milliseconds, where
    # binding them as parameters costs a thousand times more.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_CREATE_BATCH)
        with cursor.copy(
            f"COPY attribution_credit_touch_batch ({_NAMES}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types([kind for _, kind in _ROW_COLUMNS])
            for values in stored.values():
                copy.write_row(values)
        cursor.execute(_INSERT_BATCH)
        answer = cursor.fetchone()
        cursor.execute("DELETE FROM attribution_credit_touch_batch")
    return int(answer[0]) if answer else 0


def lines_attribute(lines: Sequence[SaleLine]) -> int:
    """Credit these recorded lines under every model and store each line's touch count:
    one query for the merchants' windows, one statement for the rest (`_ATTRIBUTE`).
    Returns the number of credits written (a credit already there is left alone)."""
    if not lines:
        return 0
    windows = _merchant_windows({line.merchant_id for line in lines})
    click_since, view_since, code_at = [], [], []
    for line in lines:
        click_window, view_window, code_wins = windows.get(line.merchant_id, _DEFAULTS)
        click_since.append(line.paid_at - click_window)
        view_since.append(line.paid_at - view_window)
        code_at.append(line.paid_at if code_wins else line.paid_at - click_window)
    with connection.cursor() as cursor:
        cursor.execute(
            _ATTRIBUTE,
            {
                "line_ids": [line.line_id for line in lines],
                "click_since": click_since,
                "view_since": view_since,
                "code_at": code_at,
                "decay_scale": DECAY_SCALE,
                "half_life": TIME_DECAY_HALF_LIFE.total_seconds(),
            },
        )
        counted = cursor.fetchall()
    touch_counts = {line_id: touch_count for line_id, touch_count, _ in counted}
    for line in lines:
        line.touch_count = touch_counts.get(line.line_id, 0)
    return int(counted[0][2]) if counted else 0


_DEFAULTS = (DEFAULT_WINDOWS.click_window, DEFAULT_WINDOWS.view_window, True)


def _merchant_windows(
    merchant_ids: Iterable[Any],
) -> dict[uuid.UUID, tuple[timedelta, timedelta, bool]]:
    """Each merchant's click and view windows, and whether its creator codes win."""
    return {
        row.merchant_id: (
            row.click_window,
            row.view_window,
            row.creator_code_rule == CreatorCodeRule.CODE_WINS,
        )
        for row in MerchantAttributionSettings.objects.filter(merchant_id__in=list(merchant_ids))
    }
