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
    Touch,
    commission,
    largest_remainder,
    model_weights,
    touches_eligible,
)
from attribution.models import (
    AttributionModel,
    Credit,
    MerchantAttributionSettings,
    ProductCommissionRate,
    RefundReceived,
    SaleLine,
)
from engagement.models import EngagementEvent
from videos.models import ProductTag, Video

logger = logging.getLogger(__name__)

MODELS = tuple(AttributionModel.values)
DEFAULT_WINDOWS = MerchantAttributionSettings()  # the model's defaults, never saved

# A paid line's candidate touches: the buyer's views and clicks on videos tagged with the
# line's product, inside the longer of the two windows; `touches_eligible` applies each
# window exactly. One statement for any number of lines, along the (user, time) index.
_CANDIDATE_TOUCHES = f"""
SELECT l.line_id, e.occurred_at, e.video_id, e.type
FROM unnest(%(line_ids)s::uuid[], %(user_ids)s::text[], %(product_ids)s::uuid[],
            %(since)s::timestamptz[], %(until)s::timestamptz[])
    AS l(line_id, user_id, product_id, since, until)
JOIN {EngagementEvent._meta.db_table} e
    ON e.user_id = l.user_id AND e.occurred_at BETWEEN l.since AND l.until
WHERE e.type IN ('view', 'tag_tap', 'product_view', 'add_to_cart')
  AND EXISTS (
    SELECT 1 FROM {ProductTag._meta.db_table} t
    WHERE t.video_id = e.video_id AND t.product_id = l.product_id
  )
"""


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
)
CreditRow = tuple[Any, ...]
_NAMES = ", ".join(name for name, _ in CREDIT_COLUMNS)
# Credits are copied (binary COPY) into a temporary table, then inserted from it: a credit
# already written (the same line, model, position and refund) is left alone.
_CREATE_BATCH = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS attribution_credit_batch "
    f"({', '.join(f'{name} {kind}' for name, kind in CREDIT_COLUMNS)}) ON COMMIT DELETE ROWS"
)
_COPY_BATCH = f"COPY attribution_credit_batch ({_NAMES}) FROM STDIN (FORMAT BINARY)"
_INSERT_BATCH = f"""
INSERT INTO {Credit._meta.db_table} ({_NAMES}, created_at)
SELECT {_NAMES}, now() FROM attribution_credit_batch
ON CONFLICT DO NOTHING
"""
_SET_TOUCH_COUNTS = f"""
UPDATE {SaleLine._meta.db_table} l SET touch_count = c.touch_count
FROM unnest(%s::uuid[], %s::smallint[]) AS c(line_id, touch_count)
WHERE l.line_id = c.line_id
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
    """Credit these recorded lines under every model: one query for their touches, a few
    for windows, creators and rates, one INSERT. Returns the number of credits written (a
    credit already there is left alone)."""
    if not lines:
        return 0
    windows = _merchant_windows({line.merchant_id for line in lines})
    touches = _candidate_touches(lines, windows)
    videos = _video_creators({touch.video_id for path in touches.values() for touch in path})
    rates = _product_rates(lines)
    credits: list[CreditRow] = []
    for line in lines:
        click_window, view_window = windows.get(line.merchant_id, _DEFAULTS)
        path = touches_eligible(
            touches.get(line.line_id, []),
            paid_at=line.paid_at,
            click_window=click_window,
            view_window=view_window,
        )
        line.touch_count = len(path)
        credits += _line_credits(line, path, videos, rates)
    with connection.cursor() as cursor:
        cursor.execute(
            _SET_TOUCH_COUNTS,
            [[line.line_id for line in lines], [line.touch_count for line in lines]],
        )
    return credits_insert(credits)


_DEFAULTS = (DEFAULT_WINDOWS.click_window, DEFAULT_WINDOWS.view_window)


def _merchant_windows(merchant_ids: Iterable[Any]) -> dict[uuid.UUID, tuple[timedelta, timedelta]]:
    return {
        row.merchant_id: (row.click_window, row.view_window)
        for row in MerchantAttributionSettings.objects.filter(merchant_id__in=list(merchant_ids))
    }


def _candidate_touches(
    lines: Sequence[SaleLine], windows: dict[uuid.UUID, tuple[timedelta, timedelta]]
) -> dict[uuid.UUID, list[Touch]]:
    params: dict[str, list[Any]] = {
        "line_ids": [],
        "user_ids": [],
        "product_ids": [],
        "since": [],
        "until": [],
    }
    for line in lines:
        longest = max(windows.get(line.merchant_id, _DEFAULTS))
        params["line_ids"].append(line.line_id)
        params["user_ids"].append(line.user_id)
        params["product_ids"].append(line.product_id)
        params["since"].append(line.paid_at - longest)
        params["until"].append(line.paid_at)
    touches: dict[uuid.UUID, list[Touch]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATE_TOUCHES, params)
        for line_id, occurred_at, video_id, touch_type in cursor.fetchall():
            touches[line_id].append(Touch(occurred_at, video_id, touch_type))
    for line in lines:
        if line.source_video_id and line.source_added_at:
            touches[line.line_id].append(
                Touch(line.source_added_at, line.source_video_id, "cart_line")
            )
    return touches


def _video_creators(video_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[uuid.UUID, int]]:
    """Each video's creator and the creator's default rate."""
    return {
        video_id: (creator_id, rate)
        for video_id, creator_id, rate in Video.objects.filter(id__in=video_ids).values_list(
            "id", "creator_id", "creator__commission_rate_bps"
        )
    }


def _product_rates(lines: Sequence[SaleLine]) -> dict[uuid.UUID, int]:
    """Merchants' per-product rates for these lines' products."""
    return dict(
        ProductCommissionRate.objects.filter(
            product_id__in={line.product_id for line in lines}
        ).values_list("product_id", "rate_bps")
    )


def _line_credits(
    line: SaleLine,
    path: list[Touch],
    videos: dict[uuid.UUID, tuple[uuid.UUID, int]],
    product_rates: dict[uuid.UUID, int],
) -> list[CreditRow]:
    """The sale's credits under every model (touches a model gives nothing get no row);
    an unattributed line gets one row per model with no video."""
    line_id, paid_at = line.line_id, line.paid_at
    where = (line.merchant_id, line.product_id, line.currency)
    if not path:
        return [
            (
                line_id,
                model,
                0,
                None,
                None,
                None,
                "",
                None,
                *where,
                line.amount,
                0,
                0,
                paid_at,
                paid_at,
            )
            for model in MODELS
        ]
    product_rate = product_rates.get(line.product_id)
    touched = []
    for touch in path:
        creator_id, creator_rate = videos.get(touch.video_id, (None, 0))
        rate = creator_rate if product_rate is None or creator_id is None else product_rate
        touched.append((touch.video_id, creator_id, touch.type, touch.occurred_at, rate))
    credits = []
    for model in MODELS:
        weights = model_weights(model, path, paid_at=paid_at)
        amounts = largest_remainder(line.amount, weights)
        for position, weight in enumerate(weights):
            if weight:
                video_id, creator_id, touch_type, touched_at, rate = touched[position]
                amount = amounts[position]
                credits.append(
                    (
                        line_id,
                        model,
                        position,
                        None,
                        video_id,
                        creator_id,
                        touch_type,
                        touched_at,
                        *where,
                        amount,
                        rate,
                        commission(amount, rate),
                        paid_at,
                        paid_at,
                    )
                )
    return credits


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
            targets = largest_remainder(remaining, [sale.amount for sale in sales])
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
