"""Reading attribution: a creator's earnings and an order's commission, for a range of
days (by payment date: a sale's later refunds count against it) and one model. A sale
line's settlement status is computed as it is read, from what its deliveries and
returns left on it (`_CREDIT_SUMS`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from attribution.models import (
    AttributionModel,
    Credit,
    MerchantAttributionSettings,
    RefundReceived,
    SaleLine,
)
from videos.models import Video

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class DayRange:
    """UTC days from `start` to `end`, both included."""

    start: date
    end: date

    @classmethod
    def checked(cls, start: date | None, end: date | None) -> DayRange:
        """The range asked for (the last 30 days by default); ValueError naming the
        problem when `start` is after `end` or the range is longer than 366 days."""
        end = end or timezone.now().date()
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise ValueError("The first day is after the last day.")
        if (end - start).days >= MAX_DAYS:
            raise ValueError(f"At most {MAX_DAYS} days at once.")
        return cls(start, end)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)


# Credits summed per group (a video, creator or product; NULL: no video drove the sale)
# and currency, with a total per currency. Summed per sale line first, so a line credited
# to one group twice (a path that returns to a video) counts its order and units once.
# Each line's settlement status (ADR 26), as of %(now)s:
# - ineligible: fully refunded (returned or cancelled), its net under the model zero;
# - settled: delivered — every unit not refunded (units refunded: the refunded share of
#   the amount, in whole units) — with no return open on it and the latest of its
#   return windows closed;
# - pending otherwise: expected to settle when that window closes (`settles_on`, its UTC
#   day), or at no known date (NULL: not all delivered yet, or a return is open).
# With `{schedule}`, also the pending sums per group and `settles_on` (and per currency).
_CREDIT_SUMS = f"""
WITH per_line AS (
    SELECT {{key}} AS key, c.currency, c.sale_line_id,
           sum(c.amount) FILTER (WHERE c.refund_id IS NULL) AS sales,
           sum(c.commission_amount) FILTER (WHERE c.refund_id IS NULL) AS sales_commission,
           sum(c.amount) AS net,
           sum(c.commission_amount) AS commission,
           sum(c.amount) FILTER (WHERE c.is_self_purchase) AS self_purchases
    FROM {Credit._meta.db_table} c
    WHERE c.model = %(model)s AND c.paid_at >= %(since)s AND c.paid_at < %(until)s
      AND {{where}}
    GROUP BY 1, 2, 3
),
line AS (
    SELECT p.*, l.order_id, l.quantity,
           l.amount > 0 AND n.line_net <= 0 AS is_ineligible,
           l.delivered_quantity > 0 AND l.held_quantity = 0
               AND l.delivered_quantity + coalesce(
                   ((l.amount - n.line_net)::bigint * l.quantity) / nullif(l.amount, 0), 0
               ) >= l.quantity AS is_settling,
           l.returns_close_at
    FROM per_line p
    JOIN {SaleLine._meta.db_table} l ON l.line_id = p.sale_line_id
    -- The whole line's net under the model (every group's credits and reversals).
    CROSS JOIN LATERAL (
        SELECT sum(x.amount) AS line_net FROM {Credit._meta.db_table} x
        WHERE x.sale_line_id = l.line_id AND x.model = %(model)s
    ) n
),
status AS (
    SELECT *,
           CASE WHEN is_ineligible THEN 'ineligible'
                WHEN is_settling AND returns_close_at <= %(now)s THEN 'settled'
                ELSE 'pending' END AS status,
           CASE WHEN is_settling AND NOT is_ineligible
                THEN (returns_close_at AT TIME ZONE 'UTC')::date END AS settles_on
    FROM line
)
SELECT GROUPING(s.key) = 1 AS is_total, {{is_schedule}} AS is_schedule,
       s.key, s.currency, {{settles_on}} AS settles_on,
       count(DISTINCT s.order_id) FILTER (WHERE s.sales > 0) AS orders,
       coalesce(sum(s.quantity) FILTER (WHERE s.sales > 0), 0)::bigint AS units,
       sum(s.sales)::bigint AS sales, sum(s.net)::bigint AS net,
       sum(s.commission)::bigint AS commission,
       coalesce(sum(s.self_purchases), 0)::bigint AS self_purchases,
       coalesce(sum(s.net) FILTER (WHERE s.status = 'settled'), 0)::bigint AS settled_net,
       coalesce(sum(s.commission) FILTER (WHERE s.status = 'settled'), 0)::bigint
           AS settled_commission,
       coalesce(sum(s.sales) FILTER (WHERE s.status = 'ineligible'), 0)::bigint
           AS ineligible_sales,
       coalesce(sum(s.sales_commission) FILTER (WHERE s.status = 'ineligible'), 0)::bigint
           AS ineligible_commission
FROM status s
GROUP BY GROUPING SETS ((s.currency, s.key), (s.currency){{schedule}})
ORDER BY s.currency, is_total, is_schedule, net DESC, s.key, 5 NULLS LAST
"""
_SCHEDULE_SETS = ", (s.currency, s.key, s.settles_on), (s.currency, s.settles_on)"
GROUP_KEYS = {
    "video": "c.video_id",
    "creator": "c.creator_id",
    "product": "CASE WHEN c.video_id IS NULL THEN NULL ELSE c.product_id END",
}


def credit_sums(
    *,
    by: str,
    where: str,
    params: dict[str, Any],
    days: DayRange,
    model: str,
    schedule: bool = False,
) -> list[dict[str, Any]]:
    """Rows of `_CREDIT_SUMS` as dicts; `where` is SQL over the credit `c`. With
    `schedule`, also the rows of pending sums by the day they are expected to settle
    (`is_schedule`: `net` - `settled_net` and `commission` - `settled_commission` are the
    pending part of that day; NULL `settles_on`: no date known yet)."""
    sql = _CREDIT_SUMS.format(
        key=GROUP_KEYS[by],
        where=where,
        schedule=_SCHEDULE_SETS if schedule else "",
        is_schedule="GROUPING(s.settles_on) = 0" if schedule else "false",
        settles_on="s.settles_on" if schedule else "NULL::date",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                **params,
                "model": model,
                "since": days.since,
                "until": days.until,
                "now": timezone.now(),
            },
        )
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _money(amount: int | None, currency: str) -> dict[str, Any]:
    return {"amount": amount or 0, "currency": currency}


def creator_earnings(*, creator_id: uuid.UUID, days: DayRange, model: str) -> dict[str, Any]:
    """A creator's attributed sales and commission per video and currency, split into
    pending (with the days they are expected to settle), settled and ineligible. Two
    queries, however many videos."""
    sums = credit_sums(
        by="video",
        where="c.creator_id = %(creator_id)s",
        params={"creator_id": creator_id},
        days=days,
        model=model,
        schedule=True,
    )
    schedules: dict[tuple[Any, str, bool], list[dict[str, Any]]] = defaultdict(list)
    for row in sums:
        # A day's pending part: what is not settled (an ineligible line nets to zero).
        pending = (row["net"] - row["settled_net"], row["commission"] - row["settled_commission"])
        if row["is_schedule"] and pending != (0, 0):
            schedules[(row["key"], row["currency"], row["is_total"])].append(
                {
                    "settles_on": row["settles_on"],
                    "net": _money(pending[0], row["currency"]),
                    "commission": _money(pending[1], row["currency"]),
                }
            )
    sums = [row for row in sums if not row["is_schedule"]]
    videos = Video.objects.in_bulk({row["key"] for row in sums if not row["is_total"]})
    totals, results = [], []
    for row in sums:
        figures = _earnings_money(row)
        figures["pending"]["schedule"] = schedules[(row["key"], row["currency"], row["is_total"])]
        if row["is_total"]:
            totals.append({"currency": row["currency"], **figures})
            continue
        video = videos[row["key"]]
        results.append(
            {
                "video": {
                    "id": video.id,
                    "caption": video.caption,
                    "thumbnail_url": video.thumbnail_url,
                    "status": video.status,
                },
                "orders": row["orders"],
                "units": row["units"],
                **figures,
            }
        )
    return {
        "from": days.start,
        "to": days.end,
        "model": model,
        # Deprecated: settlement follows delivery now, not a number of days (ADR 26).
        "settlement_days": None,
        "totals": totals,
        "videos": results,
    }


def _earnings_money(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "sales": _money(row["sales"], currency),
        "refunds": _money(row["sales"] - row["net"], currency),
        "net": _money(row["net"], currency),
        "commission": _money(row["commission"], currency),
        "pending": {
            "net": _money(row["net"] - row["settled_net"], currency),
            "commission": _money(row["commission"] - row["settled_commission"], currency),
        },
        "settled": {
            "net": _money(row["settled_net"], currency),
            "commission": _money(row["settled_commission"], currency),
        },
        "ineligible": {
            "sales": _money(row["ineligible_sales"], currency),
            "commission": _money(row["ineligible_commission"], currency),
        },
    }


def order_commission(*, order_id: uuid.UUID, merchant_id: uuid.UUID) -> dict[str, Any]:
    """What the merchant's lines of one order owe creators in commission, under the model
    the merchant chose (`MerchantAttributionSettings.default_model`, last touch without a
    row), net of refunds' reversing credits: `{model, lines: {line id: commission},
    refund_ids, refunds: {refund id: commission reversed}}`. `lines` names only the lines
    whose `order.paid` video has recorded, and `refund_ids` the refunds it has applied, so
    that checkout can tell an answer that is not yet complete from one that is (checkout's
    merchant transfers, ADR 30). `refunds` is what each applied refund took back from
    these lines' credits (negative): the clawback checkout's ledger takes for it (ADR 38)."""
    settings_row = MerchantAttributionSettings.objects.filter(merchant_id=merchant_id).first()
    model = settings_row.default_model if settings_row else AttributionModel.LAST_TOUCH
    line_ids = list(
        SaleLine.objects.filter(order_id=order_id, merchant_id=merchant_id).values_list(
            "line_id", flat=True
        )
    )
    sums = dict(
        Credit.objects.filter(sale_line_id__in=line_ids, model=model)
        .values("sale_line_id")
        .annotate(total=Sum("commission_amount"))
        .values_list("sale_line_id", "total")
    )
    refund_ids = RefundReceived.objects.filter(
        order_id=order_id, applied_at__isnull=False
    ).values_list("refund_id", flat=True)
    reversed_ = (
        Credit.objects.filter(sale_line_id__in=line_ids, model=model, refund_id__isnull=False)
        .values("refund_id")
        .annotate(total=Sum("commission_amount"))
        .values_list("refund_id", "total")
    )
    return {
        "model": str(model),
        "lines": {str(line_id): int(sums.get(line_id) or 0) for line_id in line_ids},
        "refund_ids": sorted(str(refund_id) for refund_id in refund_ids),
        "refunds": {str(refund_id): int(total or 0) for refund_id, total in reversed_},
    }
