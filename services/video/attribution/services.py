"""Writing attribution: paid lines and their credits, refund reversals, and rebuilds.

Everything about one order runs under that order's transaction-level advisory lock, so
an `order.paid` and an `order.refunded` for the same order never interleave, and the
unique constraints (`SaleLine` by line id, `Credit` per line, model, position and
refund) make a duplicate delivery write nothing even without the lock.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from attribution.allocation import (
    DECAY_SCALE,
    TIME_DECAY_HALF_LIFE,
    commission,
)
from attribution.models import (
    MAX_BPS,
    AttributionModel,
    Credit,
    MerchantAttributionSettings,
    ProductCommissionRate,
    RefundReceived,
    SaleLine,
)
from clipcart_shared.money import allocate
from clipcart_shared.sweeps.services import rows_backed_off, rows_each
from core.checkout import order_events
from creators.models import Creator
from engagement.models import EngagementEvent
from videos.models import ProductTag, Video

logger = logging.getLogger(__name__)

MODELS = tuple(AttributionModel.values)
DEFAULT_WINDOWS = MerchantAttributionSettings()  # the model's defaults, never saved

# A credit as written: its columns in order, with PostgreSQL's type for each.
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
_NAMES = ", ".join(name for name, _ in CREDIT_COLUMNS)
# Credits are copied (binary COPY) into a temporary table, then inserted from it: a credit
# already written (the same line, model, position and refund) is left alone.
_CREATE_BATCH = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS attribution_credit_batch "
    f"({', '.join(f'{name} {kind}' for name, kind in CREDIT_COLUMNS)}) ON COMMIT DELETE ROWS"
)
_INSERT_BATCH = f"""
INSERT INTO {Credit._meta.db_table} ({_NAMES}, created_at)
SELECT {_NAMES}, now() FROM attribution_credit_batch
ON CONFLICT DO NOTHING
"""
# Every paid line's credits under every model, computed and written in one statement
# (the same rules as `attribution.allocation`, which stays the reference the tests hold
# this statement to). Steps, one CTE each:
# - line: the lines, with each window's start computed in Python (`paid_at - window`),
#   the published videos tagging the product, and whether the cart line's source counts
#   (its video published and tagging the product, its tag, when given, one of those);
# - candidate: the buyer's views and clicks on published videos tagging the line's
#   product, inside the longer window, along the (user, time) index; plus the cart
#   line's source when it counts;
# - eligible: inside the window of its kind, and only clicks when there is any;
# - path: consecutive touches on one video collapsed to the latest of the run, in the
#   order `Touch` sorts in (time, video, type; "C" collation, as Python compares);
# - weighted: each model's integer weight per touch (zero weights dropped: they never
#   get a unit, see `clipcart_shared.money.allocate`); time decay in float8, as Python computes it;
# - shared: largest remainder in numeric (exact: amount x weight can pass 2^63), ties
#   to the earlier touch; then the rate (the product's, else the creator's; zero when
#   the buyer is the video's creator, a self-purchase) and the commission rounded half
#   up; an unattributed line gets one row per model;
# - written: the INSERT (a credit already there is left alone); touch counts updated.
_ATTRIBUTE = f"""
WITH line AS MATERIALIZED (
    SELECT l.line_id, l.user_id, l.product_id, l.merchant_id, l.amount, l.currency,
           l.paid_at, l.source_video_id, l.source_added_at, w.click_since, w.view_since,
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
                %(view_since)s::timestamptz[]) AS w(line_id, click_since, view_since)
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
    SELECT * FROM (
        SELECT p.*, l.amount, m.model,
               CASE m.model
                   WHEN '{AttributionModel.LAST_TOUCH}' THEN (p.position = p.touches - 1)::int
                   WHEN '{AttributionModel.FIRST_TOUCH}' THEN (p.position = 0)::int
                   WHEN '{AttributionModel.LINEAR}' THEN 1
                   WHEN '{AttributionModel.POSITION_BASED}' THEN
                       CASE WHEN p.touches <= 2 OR p.position BETWEEN 1 AND p.touches - 2
                            THEN 1 ELSE 2 * (p.touches - 2) END
                   WHEN '{AttributionModel.TIME_DECAY}' THEN greatest(round(
                       %(decay_scale)s::float8 * power(2::float8,
                           -extract(epoch FROM l.paid_at - p.occurred_at)::float8
                           / %(half_life)s::float8)), 1)
               END::numeric AS weight
        FROM path p
        JOIN line l ON l.line_id = p.line_id
        CROSS JOIN unnest(%(models)s::text[]) AS m(model)
    ) w
    WHERE weight > 0
),
split AS (
    SELECT *, amount - sum(part) OVER per_model AS units_left,
           row_number() OVER (PARTITION BY line_id, model
                              ORDER BY remainder DESC, position) AS remainder_rank
    FROM (
        SELECT w.*,
               div(w.amount * w.weight, sum(w.weight) OVER per_model) AS part,
               mod(w.amount * w.weight, sum(w.weight) OVER per_model) AS remainder
        FROM weighted w
        WINDOW per_model AS (PARTITION BY line_id, model)
    ) s
    WINDOW per_model AS (PARTITION BY line_id, model)
),
shared AS (
    SELECT s.line_id, s.model, s.position, s.video_id, v.creator_id, s.type,
           s.occurred_at AS touched_at,
           (s.part + (s.remainder_rank <= s.units_left)::int)::bigint AS amount,
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
    SELECT l.line_id, m.model, 0, NULL, NULL, '', NULL, l.amount, 0, false
    FROM line l CROSS JOIN unnest(%(models)s::text[]) AS m(model)
    WHERE NOT EXISTS (SELECT 1 FROM path p WHERE p.line_id = l.line_id)
),
written AS (
    INSERT INTO {Credit._meta.db_table} ({_NAMES}, created_at)
    SELECT s.line_id, s.model, s.position, NULL, s.video_id, s.creator_id, s.type,
           s.touched_at, l.merchant_id, l.product_id, l.currency, s.amount, s.rate,
           (2 * s.amount * s.rate + {MAX_BPS}) / (2 * {MAX_BPS}), l.paid_at, l.paid_at,
           s.is_self_purchase, now()
    FROM shared s JOIN line l ON l.line_id = s.line_id
    ON CONFLICT DO NOTHING
    RETURNING 1
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
SELECT c.line_id, c.touch_count, (SELECT count(*) FROM written) FROM counted c
"""


def credits_insert(rows: Sequence[CreditRow]) -> int:
    """Write credits (inside the caller's transaction). Returns how many were new."""
    if not rows:
        return 0
    connection.ensure_connection()
    # psycopg's own cursor for binary COPY: thousands of rows in milliseconds, where
    # binding them as parameters costs a thousand times more.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_CREATE_BATCH)
        with cursor.copy(
            f"COPY attribution_credit_batch ({_NAMES}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types([kind for _, kind in CREDIT_COLUMNS])
            for row in rows:
                copy.write_row(row)
        cursor.execute(_INSERT_BATCH)
        written = cursor.rowcount
        cursor.execute("DELETE FROM attribution_credit_batch")
    return written


def order_lock(order_id: uuid.UUID | str) -> None:
    """Serialize the work on one order until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"attribution:{order_id}"]
        )


def _time(value: Any, fallback: str) -> datetime:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        parsed = parse_datetime(fallback)
    if parsed is None:
        raise ValueError(f"No valid time in {value!r} or {fallback!r}.")
    return parsed


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def _sale_line(line: dict[str, Any], order: dict[str, Any], paid_at: datetime) -> SaleLine:
    """A line of `order.paid` as a row, with typed values (the COPY of its credits needs
    them)."""
    source = line.get("source") or {}
    video_id = _uuid(source.get("video_id"))
    return SaleLine(
        line_id=uuid.UUID(str(line["line_id"])),
        order_id=uuid.UUID(str(order["order_id"])),
        user_id=order["user_id"],
        merchant_id=uuid.UUID(str(line["merchant_id"])),
        product_id=uuid.UUID(str(line["product_id"])),
        variant_id=uuid.UUID(str(line["variant_id"])),
        quantity=int(line["quantity"]),
        amount=int(line["amount"]),
        currency=order["currency"],
        paid_at=paid_at,
        source_video_id=video_id,
        source_tag_id=_uuid(source.get("tag_id")),
        # An older checkout sends no time: the line was added before payment, at the latest.
        source_added_at=_time(source.get("added_at"), paid_at.isoformat()) if video_id else None,
    )


def order_paid_apply(envelope: dict[str, Any]) -> None:
    """Handler of checkout's `order.paid`: record each line, credit it under every model,
    then apply any refund of the order that arrived first."""
    data = envelope["data"]
    paid_at = _time(data.get("paid_at"), envelope["time"])
    with transaction.atomic():
        order_lock(data["order_id"])
        candidates = [_sale_line(line, data, paid_at) for line in data["lines"]]
        known = set(
            SaleLine.objects.filter(line_id__in=[line.line_id for line in candidates]).values_list(
                "line_id", flat=True
            )
        )
        new_lines = [line for line in candidates if line.line_id not in known]
        SaleLine.objects.bulk_create(new_lines)
        credits = lines_attribute(new_lines)
        held = refunds_held_apply(order_id=data["order_id"])
    logger.info(
        "Order attributed",
        extra={
            "order_id": data["order_id"],
            "lines": len(new_lines),
            "credits": credits,
            "held_refunds_applied": held,
        },
    )


def lines_attribute(lines: Sequence[SaleLine]) -> int:
    """Credit these recorded lines under every model and store each line's touch count:
    one query for the merchants' windows, one statement for the rest (`_ATTRIBUTE`).
    Returns the number of credits written (a credit already there is left alone)."""
    if not lines:
        return 0
    windows = _merchant_windows({line.merchant_id for line in lines})
    click_since, view_since = [], []
    for line in lines:
        click_window, view_window = windows.get(line.merchant_id, _DEFAULTS)
        click_since.append(line.paid_at - click_window)
        view_since.append(line.paid_at - view_window)
    with connection.cursor() as cursor:
        cursor.execute(
            _ATTRIBUTE,
            {
                "line_ids": [line.line_id for line in lines],
                "click_since": click_since,
                "view_since": view_since,
                "models": list(MODELS),
                "decay_scale": DECAY_SCALE,
                "half_life": TIME_DECAY_HALF_LIFE.total_seconds(),
            },
        )
        counted = cursor.fetchall()
    touch_counts = {line_id: touch_count for line_id, touch_count, _ in counted}
    for line in lines:
        line.touch_count = touch_counts.get(line.line_id, 0)
    return counted[0][2] if counted else 0


_DEFAULTS = (DEFAULT_WINDOWS.click_window, DEFAULT_WINDOWS.view_window)


def _merchant_windows(merchant_ids: Iterable[Any]) -> dict[uuid.UUID, tuple[timedelta, timedelta]]:
    return {
        row.merchant_id: (row.click_window, row.view_window)
        for row in MerchantAttributionSettings.objects.filter(merchant_id__in=list(merchant_ids))
    }


def order_refunded_apply(envelope: dict[str, Any]) -> None:
    """Handler of checkout's `order.refunded`: reverse the refunded share of every credit,
    or hold the refund until its order's `order.paid` arrives."""
    data = envelope["data"]
    with transaction.atomic():
        order_lock(data["order_id"])
        refund, created = RefundReceived.objects.get_or_create(
            refund_id=uuid.UUID(str(data["refund_id"])),
            defaults={
                "order_id": uuid.UUID(str(data["order_id"])),
                "refunded_at": _time(data.get("refunded_at"), envelope["time"]),
                "lines": data["lines"],
            },
        )
        if not created:
            logger.info("Refund already received", extra={"refund_id": data["refund_id"]})
            return
        if not SaleLine.objects.filter(order_id=data["order_id"]).exists():
            logger.info(
                "Refund held until its order is paid",
                extra={"refund_id": data["refund_id"], "order_id": data["order_id"]},
            )
            return
        reversals = refund_apply(refund)
    logger.info("Refund reversed", extra={"refund_id": data["refund_id"], "reversals": reversals})


def refunds_held_apply(*, order_id: uuid.UUID | str) -> int:
    """Apply the refunds of an order that were held, oldest first. Returns how many."""
    held = list(
        RefundReceived.objects.filter(order_id=order_id, applied_at__isnull=True).order_by(
            "refunded_at", "refund_id"
        )
    )
    for refund in held:
        refund_apply(refund)
    return len(held)


def refund_apply(refund: RefundReceived) -> int:
    """Add the reversing credits of one refund; the caller holds the order's lock.

    Per line and model, what remains after the refund is split over the sale's credits
    in proportion to them (largest remainder), and each credit is reversed down to its
    share: the reversals add up exactly to the refunded amount, and a full refund nets
    every credit and its commission to zero. Returns the number of reversing rows.
    """
    amounts: dict[uuid.UUID, int] = defaultdict(int)
    for line in refund.lines:
        amounts[uuid.UUID(str(line["line_id"]))] += int(line["amount"])
    by_line: dict[uuid.UUID, list[Credit]] = defaultdict(list)
    for credit in Credit.objects.filter(sale_line_id__in=list(amounts)).order_by(
        "model", "position", "occurred_at", "id"
    ):
        by_line[credit.sale_line_id].append(credit)
    reversals: list[CreditRow] = []
    for line_id, refunded in amounts.items():
        if line_id not in by_line:
            logger.warning(
                "Refund names a line that was never paid",
                extra={"refund_id": str(refund.refund_id), "line_id": str(line_id)},
            )
            continue
        reversals += _line_reversals(refund, by_line[line_id], refunded)
    credits_insert(reversals)
    refund.applied_at = timezone.now()
    refund.save(update_fields=["applied_at"])
    return len(reversals)


def _line_reversals(
    refund: RefundReceived, credits: list[Credit], refunded: int
) -> list[CreditRow]:
    reversals = []
    for model in MODELS:
        sales = [credit for credit in credits if credit.model == model and credit.refund_id is None]
        net_amount: dict[int, int] = defaultdict(int)
        net_commission: dict[int, int] = defaultdict(int)
        for credit in credits:
            if credit.model == model:
                net_amount[credit.position] += credit.amount
                net_commission[credit.position] += credit.commission_amount
        remaining = max(sum(net_amount.values()) - refunded, 0)
        if sum(sale.amount for sale in sales) > 0:
            targets = allocate(remaining, [sale.amount for sale in sales])
        else:
            targets = [0] * len(sales)
        for sale, target in zip(sales, targets, strict=True):
            amount = target - net_amount[sale.position]
            commission_amount = (
                commission(target, sale.commission_rate_bps) - net_commission[sale.position]
            )
            if amount == 0 and commission_amount == 0:
                continue
            reversals.append(
                (
                    sale.sale_line_id,
                    model,
                    sale.position,
                    refund.refund_id,
                    sale.video_id,
                    sale.creator_id,
                    sale.touch_type,
                    sale.touched_at,
                    sale.merchant_id,
                    sale.product_id,
                    sale.currency,
                    amount,
                    sale.commission_rate_bps,
                    commission_amount,
                    refund.refunded_at,
                    sale.paid_at,
                    sale.is_self_purchase,
                )
            )
    return reversals


def attribution_recompute(*, start: date, end: date) -> int:
    """Rebuild the credits of the orders paid from `start` to `end` (UTC days, both
    included) from the same inputs: their lines, the touches, today's windows and rates,
    and the refunds applied so far. One transaction per order. Returns the orders."""
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    order_ids = list(
        SaleLine.objects.filter(paid_at__gte=since, paid_at__lt=until)
        .values_list("order_id", flat=True)
        .distinct()
        .order_by("order_id")
    )
    for order_id in order_ids:
        with transaction.atomic():
            order_lock(order_id)
            lines = list(SaleLine.objects.filter(order_id=order_id))
            Credit.objects.filter(sale_line__in=lines).delete()
            lines_attribute(lines)
            for refund in RefundReceived.objects.filter(
                order_id=order_id, applied_at__isnull=False
            ).order_by("refunded_at", "refund_id"):
                refund_apply(refund)
    logger.info("Attribution recomputed", extra={"orders": len(order_ids)})
    return len(order_ids)


# --- reconciliation -------------------------------------------------------------------------

_RECONCILE_BATCH = 100


def _batches(items: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == _RECONCILE_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _envelope(event: dict[str, Any], time_field: str) -> dict[str, Any]:
    """An event as checkout's order-events API serves it, shaped like the delivered
    envelope the handlers read (`data`, and `time` as the fallback time)."""
    return {
        "type": event["type"],
        "subject": event["subject"],
        "time": event["data"].get(time_field) or timezone.now().isoformat(),
        "data": event["data"],
    }


RECONCILE_PAID_TASK = "attribution.reconcile.paid"
RECONCILE_REFUND_TASK = "attribution.reconcile.refunded"


def _lost_paid_apply(event: dict[str, Any]) -> None:
    logger.warning(
        "Lost order.paid recovered by reconciliation",
        extra={"order_id": event["data"]["order_id"]},
    )
    order_paid_apply(_envelope(event, "paid_at"))


def _lost_refund_apply(event: dict[str, Any]) -> None:
    logger.warning(
        "Lost order.refunded recovered by reconciliation",
        extra={"order_id": event["data"]["order_id"], "refund_id": event["data"]["refund_id"]},
    )
    order_refunded_apply(_envelope(event, "refunded_at"))


def attribution_reconcile(*, since: datetime, until: datetime) -> dict[str, int]:
    """Apply the `order.paid` and `order.refunded` of [since, until) that never arrived.

    A delivery can be lost (a worker killed while it holds the message: the embedded
    broker never makes it visible again). Checkout's order-events API lists the payloads
    it published; a paid order with a line missing from `SaleLine`, or a refund missing
    from `RefundReceived`, is applied through the very handlers the events run
    (`order_paid_apply`, `order_refunded_apply`): under the order's lock and unique by the
    database, so the real event arriving at the same time or later changes nothing.
    Payments first, so a recovered refund finds its sale. Raises `CheckoutUnavailable`
    when checkout cannot answer (what was applied before stays applied). Each lost event
    is applied on its own: one that fails is logged and backed off, the others applied.
    Returns counts: `paid` / `refunds` seen, `paid_applied` / `refunds_applied`.
    """
    counts = {"paid": 0, "paid_applied": 0, "refunds": 0, "refunds_applied": 0}
    paid_backed_off = set(rows_backed_off(task=RECONCILE_PAID_TASK))
    refunds_backed_off = set(rows_backed_off(task=RECONCILE_REFUND_TASK))
    for batch in _batches(order_events(type="order.paid", since=since, until=until)):
        line_ids = {
            uuid.UUID(str(line["line_id"])) for event in batch for line in event["data"]["lines"]
        }
        known = set(SaleLine.objects.filter(line_id__in=line_ids).values_list("line_id", flat=True))
        missing = []
        for event in batch:
            counts["paid"] += 1
            lines = {uuid.UUID(str(line["line_id"])) for line in event["data"]["lines"]}
            if not lines <= known and str(event["data"]["order_id"]) not in paid_backed_off:
                missing.append(event)
        counts["paid_applied"] += len(
            rows_each(
                task=RECONCILE_PAID_TASK,
                rows=missing,
                handle=_lost_paid_apply,
                key=lambda event: event["data"]["order_id"],
            )
        )
    for batch in _batches(order_events(type="order.refunded", since=since, until=until)):
        refund_ids = {uuid.UUID(str(event["data"]["refund_id"])) for event in batch}
        known = set(
            RefundReceived.objects.filter(refund_id__in=refund_ids).values_list(
                "refund_id", flat=True
            )
        )
        counts["refunds"] += len(batch)
        counts["refunds_applied"] += len(
            rows_each(
                task=RECONCILE_REFUND_TASK,
                rows=[
                    event
                    for event in batch
                    if uuid.UUID(str(event["data"]["refund_id"])) not in known
                    and str(event["data"]["refund_id"]) not in refunds_backed_off
                ],
                handle=_lost_refund_apply,
                key=lambda event: event["data"]["refund_id"],
            )
        )
    logger.info("Attribution reconciled", extra=counts)
    return counts
