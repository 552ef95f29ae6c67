"""Reading attribution: a creator's earnings and a merchant's reports, for a range of
days (by payment date: a sale's later refunds count against it) and one model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from attribution.models import Credit, SaleLine
from engagement.models import DailyVideoStats
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
_CREDIT_SUMS = f"""
WITH per_line AS (
    SELECT {{key}} AS key, c.currency, c.sale_line_id,
           sum(c.amount) FILTER (WHERE c.refund_id IS NULL) AS sales,
           sum(c.amount) AS net,
           sum(c.commission_amount) AS commission,
           sum(c.amount) FILTER (WHERE c.is_self_purchase) AS self_purchases,
           sum(c.amount) FILTER (WHERE c.paid_at < %(settled_before)s) AS settled_net,
           sum(c.commission_amount) FILTER (WHERE c.paid_at < %(settled_before)s)
               AS settled_commission
    FROM {Credit._meta.db_table} c
    WHERE c.model = %(model)s AND c.paid_at >= %(since)s AND c.paid_at < %(until)s
      AND {{where}}
    GROUP BY 1, 2, 3
)
SELECT GROUPING(p.key) = 1 AS is_total, p.key, p.currency,
       count(DISTINCT l.order_id) FILTER (WHERE p.sales > 0) AS orders,
       coalesce(sum(l.quantity) FILTER (WHERE p.sales > 0), 0)::bigint AS units,
       sum(p.sales)::bigint AS sales, sum(p.net)::bigint AS net,
       sum(p.commission)::bigint AS commission,
       coalesce(sum(p.self_purchases), 0)::bigint AS self_purchases,
       coalesce(sum(p.settled_net), 0)::bigint AS settled_net,
       coalesce(sum(p.settled_commission), 0)::bigint AS settled_commission
FROM per_line p JOIN {SaleLine._meta.db_table} l ON l.line_id = p.sale_line_id
GROUP BY GROUPING SETS ((p.currency, p.key), (p.currency))
ORDER BY p.currency, is_total, net DESC, p.key
"""
GROUP_KEYS = {
    "video": "c.video_id",
    "creator": "c.creator_id",
    "product": "CASE WHEN c.video_id IS NULL THEN NULL ELSE c.product_id END",
}


def credit_sums(
    *, by: str, where: str, params: dict[str, Any], days: DayRange, model: str
) -> list[dict[str, Any]]:
    """Rows of `_CREDIT_SUMS` as dicts; `where` is SQL over the credit `c`."""
    settled_before = timezone.now() - timedelta(days=settings.ATTRIBUTION_SETTLEMENT_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            _CREDIT_SUMS.format(key=GROUP_KEYS[by], where=where),
            {
                **params,
                "model": model,
                "since": days.since,
                "until": days.until,
                "settled_before": settled_before,
            },
        )
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _money(amount: int | None, currency: str) -> dict[str, Any]:
    return {"amount": amount or 0, "currency": currency}


def creator_earnings(*, creator_id: uuid.UUID, days: DayRange, model: str) -> dict[str, Any]:
    """A creator's attributed sales and commission per video and currency, split into
    pending and settled (paid more than the settlement days ago). Two queries."""
    sums = credit_sums(
        by="video",
        where="c.creator_id = %(creator_id)s",
        params={"creator_id": creator_id},
        days=days,
        model=model,
    )
    videos = Video.objects.in_bulk({row["key"] for row in sums if not row["is_total"]})
    totals, results = [], []
    for row in sums:
        figures = _earnings_money(row)
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
        "settlement_days": settings.ATTRIBUTION_SETTLEMENT_DAYS,
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
    beside the engagement of the videos tagging their products. Five queries."""
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


def _engagement(days: DayRange, video_ids: list[uuid.UUID]) -> QuerySet[Any, dict[str, Any]]:
    return (
        DailyVideoStats.objects.filter(
            video_id__in=video_ids, day__gte=days.start, day__lte=days.end
        )
        .values("video_id")
        .annotate(**{field: Sum(field) for field in ENGAGEMENT})
    )


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
