"""Reading attribution: a creator's earnings and a merchant's reports, for a range of
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
from django.db.models.functions import TruncDate
from django.utils import timezone

from attribution.models import (
    AttributionModel,
    Credit,
    MerchantAttributionSettings,
    RefundReceived,
    SaleLine,
)
from engagement.selectors import engagement_by_video
from productcards.models import ProductCard
from videos.models import ProductTag, Video

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


REPORT_GROUPINGS = ("video", "creator", "product")
ENGAGEMENT = ("impressions", "views", "tag_taps")
SALES = ("orders", "units", "sales", "net", "commission", "self_purchases")


@dataclass
class ReportRow:
    """One line of a merchant's report: a video, creator or product (key None: sales no
    video drove), with the engagement of its videos and the sales credited to it."""

    key: uuid.UUID | None
    label: str = "Unattributed"
    impressions: int = 0
    views: int = 0
    tag_taps: int = 0
    orders: int = 0
    units: int = 0
    sales: int = 0
    net: int = 0
    commission: int = 0
    # Net of the sales its creators bought through their own videos (no commission).
    self_purchases: int = 0

    @property
    def refunds(self) -> int:
        return self.sales - self.net

    @property
    def tap_through_rate(self) -> float | None:
        return self.tag_taps / self.impressions if self.impressions else None

    @property
    def conversion_rate(self) -> float | None:
        return self.orders / self.views if self.views else None

    @property
    def net_per_1000_views(self) -> float | None:
        return self.net * 1000 / self.views if self.views else None


@dataclass
class Report:
    days: DayRange
    model: str
    by: str
    currency: str
    rows: list[ReportRow]
    total: ReportRow


def _merchant_where(merchant_ids: list[uuid.UUID] | None) -> tuple[str, dict[str, Any]]:
    if merchant_ids is None:
        return "TRUE", {}
    return "c.merchant_id = ANY(%(merchant_ids)s)", {"merchant_ids": merchant_ids}


def report_currencies(*, merchant_ids: list[uuid.UUID] | None) -> list[str]:
    """The currencies these merchants have sold in, most used first."""
    credits = Credit.objects.all()
    if merchant_ids is not None:
        credits = credits.filter(merchant_id__in=merchant_ids)
    return [
        row["currency"]
        for row in credits.values("currency").annotate(n=Sum("amount")).order_by("-n")[:20]
    ]


def merchant_report(
    *, merchant_ids: list[uuid.UUID] | None, days: DayRange, model: str, by: str, currency: str
) -> Report:
    """Sales credited to each video, creator or product of these merchants (None: all),
    beside the engagement of the videos tagging their products (today's counted live from
    the events). At most six queries."""
    tags = ProductTag.objects.all()
    if merchant_ids is not None:
        tags = tags.filter(merchant_id__in=merchant_ids)
    tagged = list(tags.values_list("video_id", "product_id"))
    videos = Video.objects.select_related("creator").in_bulk({video for video, _ in tagged})
    rows: dict[uuid.UUID | None, ReportRow] = {}
    total = ReportRow(None, label="Total")
    for stats in _engagement(days, list(videos)):
        video = videos[stats["video_id"]]
        if by == "video":
            keys = {video.id}
        elif by == "creator":
            keys = {video.creator_id}
        else:
            keys = {product for tagged_video, product in tagged if tagged_video == video.id}
        for row in [*(rows.setdefault(key, ReportRow(key)) for key in keys), total]:
            for field in ENGAGEMENT:
                setattr(row, field, getattr(row, field) + stats[field])
    where, params = _merchant_where(merchant_ids)
    for sums in credit_sums(
        by=by,
        where=f"{where} AND c.currency = %(currency)s",
        params={**params, "currency": currency},
        days=days,
        model=model,
    ):
        row = total if sums["is_total"] else rows.setdefault(sums["key"], ReportRow(sums["key"]))
        for field in SALES:
            setattr(row, field, sums[field])
    _label(rows, by=by, videos=videos)
    ordered = sorted(rows.values(), key=lambda row: (row.key is None, -row.net, row.label))
    return Report(days, model, by, currency, ordered, total)


def _engagement(days: DayRange, video_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Each video's engagement over the days: rolled up before today, live today."""
    counts = engagement_by_video(video_ids=video_ids, start=days.start, end=days.end)
    return [{"video_id": video_id, **fields} for video_id, fields in counts.items()]


def _label(
    rows: dict[uuid.UUID | None, ReportRow], *, by: str, videos: dict[uuid.UUID, Video]
) -> None:
    keys = [key for key in rows if key is not None]
    if by == "video":
        known = {video.id: str(video) for video in Video.objects.in_bulk(keys).values()}
    elif by == "creator":
        known = {video.creator_id: str(video.creator) for video in videos.values()}
    else:
        known = dict(
            ProductCard.objects.filter(product_id__in=keys).values_list("product_id", "title")
        )
    for key, row in rows.items():
        if key is not None:
            row.label = known.get(key, str(key))


def daily_sales(
    *,
    merchant_ids: list[uuid.UUID] | None,
    video_id: uuid.UUID,
    days: DayRange,
    model: str,
    currency: str,
) -> list[tuple[date, int]]:
    """Attributed sales (before refunds) of one video per UTC day, every day of the range."""
    credits = Credit.objects.filter(
        model=model,
        video_id=video_id,
        currency=currency,
        refund_id__isnull=True,
        paid_at__gte=days.since,
        paid_at__lt=days.until,
    )
    if merchant_ids is not None:
        credits = credits.filter(merchant_id__in=merchant_ids)
    by_day = dict(
        credits.annotate(day=TruncDate("paid_at", tzinfo=UTC))
        .values("day")
        .annotate(amount=Sum("amount"))
        .values_list("day", "amount")
    )
    count = (days.end - days.start).days + 1
    return [
        (day, by_day.get(day, 0)) for day in (days.start + timedelta(days=n) for n in range(count))
    ]


def order_commission(*, order_id: uuid.UUID, merchant_id: uuid.UUID) -> dict[str, Any]:
    """What the merchant's lines of one order owe creators in commission, under the model
    the merchant chose (`MerchantAttributionSettings.default_model`, last touch without a
    row), net of refunds' reversing credits: `{model, lines: {line id: commission},
    refund_ids}`. `lines` names only the lines whose `order.paid` video has recorded, and
    `refund_ids` the refunds it has applied, so that checkout can tell an answer that is
    not yet complete from one that is (checkout's merchant transfers, ADR 30)."""
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
    return {
        "model": str(model),
        "lines": {str(line_id): int(sums.get(line_id) or 0) for line_id in line_ids},
        "refund_ids": sorted(str(refund_id) for refund_id in refund_ids),
    }
